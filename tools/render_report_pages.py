"""Render the first page of each report file of the sample town to PNG for ``docs/report.md``.

Run by hand from the repository root (CI does not run it; the PNGs are committed)::

    python tools/render_report_pages.py            # writes docs/images/report-{html,docx,xlsx}-page1.png

It builds the generated sample town's report in a temporary folder exactly as ``make demo``
does (``python -m tongzhen_gis demo --out TMP``), then renders

- ``report.html``: the first screen (1280 × 900) in headless Chromium, through
  :func:`tongzhen_gis.io.screenshot`;
- ``report.docx`` and ``report.xlsx``: converted to PDF by LibreOffice
  (``soffice --headless --convert-to pdf``), the first page rasterised by poppler's
  ``pdftoppm -png -r 80``.

Each image is saved with a 256-colour palette and kept below :data:`MAX_BYTES` (scaled down
only when needed). Only the generated sample town is used: never ``../shared/data``.

Needs Chromium (``apt-get install chromium``), LibreOffice (``apt-get install
libreoffice-writer-nogui libreoffice-calc-nogui``) and poppler (``apt-get install
poppler-utils``); when one is missing the script says which and how to install it, and exits 2.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "docs" / "images"
#: Largest PNG kept in the repository, in bytes.
MAX_BYTES = 250_000
#: Resolution of the Word and Excel pages (pdftoppm ``-r``), dots per inch.
DPI = 80
#: The three images, by report file.
NAMES = {"html": "report-html-page1.png", "docx": "report-docx-page1.png", "xlsx": "report-xlsx-page1.png"}

_INSTALL = {
    "chromium": "apt-get install chromium (or set TONGZHEN_CHROMIUM to a Chrome/Chromium binary)",
    "soffice": "apt-get install libreoffice-writer-nogui libreoffice-calc-nogui",
    "pdftoppm": "apt-get install poppler-utils",
}


def _say(text: str, *, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(text + "\n")


def find_programs() -> tuple[dict[str, str], list[str]]:
    """The programs this script runs (name → path) and the names of those not found."""
    if str(REPO) not in sys.path:  # run as a script: the package of this checkout
        sys.path.insert(0, str(REPO))
    from tongzhen_gis import io

    chromium = io.find_chromium()
    found = {
        "chromium": str(chromium) if chromium else None,
        "soffice": shutil.which("soffice") or shutil.which("libreoffice"),
        "pdftoppm": shutil.which("pdftoppm"),
    }
    return {k: v for k, v in found.items() if v}, [k for k, v in found.items() if not v]


def build_sample_report(folder: Path) -> Path:
    """Build the sample town's report as ``make demo`` does; the folder holding ``report.*``."""
    done = subprocess.run(
        [sys.executable, "-m", "tongzhen_gis", "demo", "--out", str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):  # 1: two sample towns fail rules on purpose
        raise RuntimeError(f"tongzhen demo exited with {done.returncode}:\n{done.stderr[-2000:]}")
    return folder / "processed" / "sample"


def _run(cmd: list[str], *, what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-1000:]}")


def office_first_page(soffice: str, pdftoppm: str, source: Path, work: Path) -> tuple[Path, int]:
    """First page of a Word or Excel file as PNG (LibreOffice → PDF → pdftoppm), and its page count."""
    out = work / source.suffix.lstrip(".")
    out.mkdir(parents=True, exist_ok=True)
    profile = (work / "lo-profile").absolute().as_uri()  # a throw-away LibreOffice profile
    convert = ["--headless", "--convert-to", "pdf", "--outdir", str(out), str(source)]
    _run([soffice, f"-env:UserInstallation={profile}", *convert], what=f"LibreOffice converting {source.name}")
    pdf = out / f"{source.stem}.pdf"
    if not pdf.is_file():
        raise RuntimeError(f"LibreOffice wrote no PDF for {source.name} in {out}")
    prefix = out / "page"
    _run(
        [pdftoppm, "-png", "-r", str(DPI), "-f", "1", "-l", "1", "-singlefile", str(pdf), str(prefix)],
        what=f"pdftoppm on {pdf.name}",
    )
    return prefix.with_suffix(".png"), _page_count(pdf)


def _page_count(pdf: Path) -> int:
    """Pages of a PDF, read with poppler's ``pdfinfo`` (0 when it is absent)."""
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        return 0
    done = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("Pages:")), "Pages: 0")
    return int(line.split()[1])


def save_small(source: Path, target: Path, *, max_bytes: int = MAX_BYTES) -> Path:
    """Copy a PNG to ``target`` with a 256-colour palette (a text page loses nothing), smaller than ``max_bytes``."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(source).convert("RGB")
    while True:
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
        if target.stat().st_size <= max_bytes or image.width < 400:
            return target
        image = image.resize((image.width * 4 // 5, image.height * 4 // 5), Image.Resampling.LANCZOS)


def main(argv: list[str] | None = None) -> int:
    """Build the sample report and write the three first-page images; 2 when a program is missing."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"folder of the PNGs (default: {OUT_DIR})")
    parser.add_argument("--keep", type=Path, help="also keep the built report and the PDFs in this folder")
    args = parser.parse_args(argv)
    programs, missing = find_programs()
    if missing:
        for name in missing:
            _say(f"missing program: {name}; install it: {_INSTALL[name]}", err=True)
        _say("no images written (CI does not regenerate them; see docs/report.md)", err=True)
        return 2
    from tongzhen_gis import io

    with tempfile.TemporaryDirectory(prefix="tongzhen-report-pages-") as tmp:
        work = Path(tmp)
        report = build_sample_report(work / "demo")
        shots = {"html": io.screenshot(report / "report.html", work / "html.png")}
        pages = {}
        for kind in ("docx", "xlsx"):
            shots[kind], pages[kind] = office_first_page(
                programs["soffice"], programs["pdftoppm"], report / f"report.{kind}", work
            )
        for kind, shot in shots.items():
            path = save_small(shot, args.out / NAMES[kind])
            count = f", {pages[kind]} pages in LibreOffice" if pages.get(kind) else ""
            _say(f"{kind:5s} {path} ({path.stat().st_size / 1000:.0f} kB{count})")
        if args.keep is not None:
            shutil.copytree(work, args.keep, dirs_exist_ok=True, ignore=shutil.ignore_patterns("lo-profile"))
            _say(f"kept   {args.keep}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
