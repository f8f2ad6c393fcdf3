"""MkDocs hooks that build the documentation site from the repository as it stands.

The site shows the README's tour, the guides in ``docs/``, the API reference and the notebooks,
without copying any of them into ``docs/``:

- ``tour.md`` is the README, with its links to ``docs/*.md`` made relative to the site;
- the notebooks in ``notebooks/`` are added as pages under ``notebooks/`` (mkdocs-jupyter
  renders and, where ``mkdocs.yml`` allows it, executes them on the sample town);
- the control-line map that ``make demo`` writes to ``data/processed/`` (not committed) is
  drawn here from the generated sample town, so the image the README and ``docs/maps.md``
  show exists on the site. No real data is read.

Decisions
---------
The notebooks are added before mkdocs-jupyter looks at the files (higher event priority), so
it treats them like notebooks found in ``docs/``. Everything is generated offline.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import mkdocs.plugins
from mkdocs.structure.files import File, Files

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
DEMO_MAP = "data/processed/sample/maps/青山文旅小镇/control_lines.png"
SITE_MAP = "assets/control_lines.png"
_DOCS_LINK = re.compile(r"\]\(docs/([^)]+)\)")


def tour_markdown() -> str:
    """The README as a site page: links into ``docs/`` made relative, the demo map pointed at the site's copy."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    text = _DOCS_LINK.sub(r"](\1)", text)
    return text.replace(f"]({DEMO_MAP})", f"]({SITE_MAP})")


def _draw_demo_map(folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import tongzhen_gis as tz

    scene = tz.samples.sample_town()
    lines = tz.controllines.check(
        scene.towns, red_line=scene.red_line, farmland=scene.farmland, urban_boundary=scene.urban_boundary
    )
    fig, _ = tz.maps.control_lines_map(
        scene.towns,
        red_line=scene.red_line,
        farmland=scene.farmland,
        urban_boundary=scene.urban_boundary,
        conflicts=lines.conflicts,
        roads=scene.roads,
        water=scene.water,
        source="tongzhen_gis 示例小镇 (生成数据)",
    )
    path = tz.maps.export(fig, folder / "control_lines.png", dpi=110)
    plt.close(fig)
    return Path(path)


@mkdocs.plugins.event_priority(100)
def on_files(files: Files, config: Any) -> Files:
    """Add the tour, the notebooks and the sample map to the site's files."""
    files.append(File.generated(config, "tour.md", content=tour_markdown()))
    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        # a real file under the repository root (not File.generated): mkdocs-jupyter reads src_dir
        files.append(
            File(
                f"notebooks/{notebook.name}",
                src_dir=str(REPO),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    folder = Path(tempfile.mkdtemp(prefix="tongzhen_site_"))
    files.append(File.generated(config, SITE_MAP, abs_src_path=str(_draw_demo_map(folder))))
    return files


def on_page_markdown(markdown: str, *, page: Any, config: Any, files: Files) -> str:
    """Point the guides' link to the demo map at the site's copy (``docs/maps.md``)."""
    depth = page.file.src_uri.count("/")
    return markdown.replace(f"]({DEMO_MAP})", f"]({'../' * depth}{SITE_MAP})")
