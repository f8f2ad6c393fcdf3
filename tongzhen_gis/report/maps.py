"""The maps of :mod:`tongzhen_gis.report`: drawn by :mod:`tongzhen_gis.maps`, kept as PNG and written to ``maps/``.

Whole-area maps (land use, FAR grid) once, control-line and access maps per town, in folders
named by :func:`safe_name`. A map that cannot be drawn is listed in the run's problems.
"""

from __future__ import annotations

import io as _bytes
import unicodedata
from pathlib import Path
from typing import Any

from tongzhen_gis import io as tzio
from tongzhen_gis.crs import measuring_crs
from tongzhen_gis.errors import TongzhenError
from tongzhen_gis.report.config import ProjectConfig
from tongzhen_gis.report.run import ReportRun


def safe_name(name: Any, *, fallback: str = "town") -> str:
    r"""A file-name-safe version of a town name: separators and control characters become ``_``.

    Keeps Chinese characters. ``..`` and empty names become ``fallback``-based names; the
    result is further checked by :func:`tongzhen_gis.io.safe_join` when joined to a folder.

    Parameters
    ----------
    name : Any
        A town name (or id); None is allowed.
    fallback : str, default "town"
        Used when nothing of the name is left, or prefixed to a name of dots only.

    Returns
    -------
    str
        At most 120 characters, NFC-normalised, without ``/``, ``\`` or control characters.
    """
    text = unicodedata.normalize("NFC", "" if name is None else str(name))
    chars = [
        "_" if ch in "/\\" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co") else ch for ch in text
    ]
    text = "".join(chars).strip()
    if not text.strip("._ "):
        text = f"{fallback}{text}" if text else fallback
    return text[:120]


def _png(fig: Any, dpi: int) -> bytes:
    import matplotlib.pyplot as plt

    buffer = _bytes.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", metadata={"Software": "tongzhen_gis"})
    finally:
        plt.close(fig)
    return buffer.getvalue()


#: Key of the maps of the whole project area in :func:`_render_maps`'s result.
_OVERVIEW = "__overview__"
#: Key of the access maps of the whole area, one per facility category.
_ACCESS = "__access__"


def _draw(problems: list[str], caption: str, draw: Any, dpi: int) -> bytes | None:
    try:
        fig, _ = draw()
    except TongzhenError as exc:
        problems.append(f"地图 {caption}: not drawn ({exc})")
        return None
    return _png(fig, dpi)


def _town_frame(town: Any, main: Any) -> tuple[float, float, float, float]:
    """The frame of a town map, in the CRS the map is drawn in: that of its main layer, made metric.

    Maps draw in :func:`tongzhen_gis.crs.measuring_crs` of their main layer (the town, or the
    homes of an access map), so a frame taken from the towns' own coordinates would be in
    degrees for a lon/lat towns layer: a frame a few thousandths of a metre wide.
    """
    minx, miny, maxx, maxy = town.to_crs(measuring_crs(main)).total_bounds
    pad = 0.15 * max(maxx - minx, maxy - miny, 1.0)
    return minx - pad, miny - pad, maxx + pad, maxy + pad


def _access_maps(
    config: ProjectConfig,
    run: ReportRun,
    out: Path,
    files: dict[str, Path],
    problems: list[str],
    common: dict[str, Any],
    dpi: int,
) -> list[tuple[str, bytes]]:
    """One access map of the whole area per facility category given: nearest distance in classes, service areas."""
    from tongzhen_gis import maps, rules

    acc = run.access
    assert acc is not None
    catalogue = rules.load("facilities")["category"]
    listed = acc.nearest.attrs.get("categories") or [c for c in catalogue if c in acc.nearest.columns]
    rendered = []
    for cat in [c for c in listed if c in acc.nearest.columns]:
        name = catalogue.get(cat, {}).get("name_zh", cat)
        caption = f"15分钟生活圈可达性: {name}"
        png = _draw(
            problems,
            caption,
            lambda c=cat, t=caption: maps.access_map(
                acc.homes,
                nearest=acc.nearest,
                category=c,
                service_areas=acc.service_areas,
                facilities=acc.facilities,
                category_col=config.get("access", "category_col", "category"),
                towns=run.towns.layer,
                roads=acc.roads,
                title=t,
                **common,
            ),
            dpi,
        )
        if png is not None:
            path = tzio.safe_join(out, "maps", "access", f"{safe_name(cat)}.png")
            files[f"map:access:{cat}"] = tzio.write_bytes(png, path)
            rendered.append((caption, png))
    return rendered


def _render_maps(
    config: ProjectConfig, run: ReportRun, out: Path, files: dict[str, Path], problems: list[str]
) -> dict[Any, list[tuple[str, bytes]]]:
    """(caption, PNG bytes) of each map, per town and for the whole area; also written to ``maps/``.

    Town maps (control lines, access) are framed on the town; land use and the FAR grid are
    drawn once for the whole area (same data for every town). Folder names come from town
    names through :func:`safe_name` and :func:`tongzhen_gis.io.safe_join`. A map that cannot be
    drawn is noted in ``problems``.
    """
    from tongzhen_gis import maps

    dpi = int(config.get("maps", "dpi", 110))
    scheme = str(config.get("maps", "scheme", "Quantiles"))
    towns, id_col, name_col = run.towns.layer, run.towns.id_col, run.towns.name_col
    lines, intensity, acc = run.lines, run.intensity, run.access
    common = {"source": config.get("project", "source"), "label_col": name_col, "water": run.water}
    result: dict[Any, list[tuple[str, bytes]]] = {_OVERVIEW: []}
    overview: list[tuple[str, str, Any]] = []
    if intensity is not None:
        overview.append(
            ("landuse", "用地用海分类图", lambda: maps.landuse_map(intensity.parcels, towns=towns, **common))
        )
    if intensity is not None and intensity.far_grid is not None:
        overview.append(
            (
                "far",
                "容积率分布图",
                lambda: maps.intensity_map(intensity.far_grid, towns=towns, hide_zero=True, scheme=scheme, **common),
            )
        )
    for key, caption, draw in overview:
        png = _draw(problems, caption, draw, dpi)
        if png is not None:
            files[f"map:{key}"] = tzio.write_bytes(png, tzio.safe_join(out, "maps", f"{key}.png"))
            result[_OVERVIEW].append((caption, png))
    result[_ACCESS] = _access_maps(config, run, out, files, problems, common, dpi) if acc is not None else []

    used: set[str] = set()
    for _, town in towns.iterrows():
        tid = town[id_col]
        one = towns[towns[id_col] == tid]
        framed = {**common, "extent": _town_frame(one, one), "roads": acc.roads if acc is not None else run.roads}
        name = town[name_col] if name_col else tid
        items: list[tuple[str, str, Any]] = []
        if lines is not None:
            own = lines.check.conflicts[lines.check.conflicts[id_col] == tid]
            title = f"{name} 三条控制线核查图"
            items.append(
                (
                    "control_lines",
                    title,
                    lambda o=one, c=own, t=title, f=framed: maps.control_lines_map(
                        o,
                        conflicts=c,
                        id_col=id_col,
                        title=t,
                        red_line=lines.layers["red_line"],
                        farmland=lines.layers["farmland"],
                        urban_boundary=lines.layers["urban_boundary"],
                        **f,
                    ),
                )
            )
        if acc is not None:
            mine = (acc.town_of_home == tid).to_numpy()
            if mine.any():
                title = f"{name} 15分钟生活圈: 可达设施类别数"
                items.append(
                    (
                        "access",
                        title,
                        lambda t=title, f=framed, m=mine, o=one: maps.access_map(
                            acc.homes[m],
                            nearest=acc.nearest[m],
                            facilities=acc.facilities,
                            towns=towns,
                            title=t,
                            **{**f, "extent": _town_frame(o, acc.homes[m])},
                        ),
                    )
                )
        folder = safe_name(name, fallback=f"town_{safe_name(tid)}")
        if folder.lower() in used:
            folder = f"{folder}_{safe_name(tid)}"
        used.add(folder.lower())
        rendered = []
        for key, caption, draw in items:
            png = _draw(problems, caption, draw, dpi)
            if png is not None:
                files[f"map:{tid}:{key}"] = tzio.write_bytes(png, tzio.safe_join(out, "maps", folder, f"{key}.png"))
                rendered.append((caption, png))
        result[tid] = rendered
    return result
