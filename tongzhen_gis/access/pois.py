"""OpenStreetMap features and Tilezen POIs mapped to facility categories (the catalogue's tags)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from tongzhen_gis.access.catalogue import CatalogueLike, load_catalogue
from tongzhen_gis.errors import OptionError

#: Tilezen ``kind`` values that differ from the OSM tag value they come from (Tilezen → OSM).
TILEZEN_KIND_TO_OSM = {"fitness": "fitness_centre"}
#: OSM keys whose value Tilezen puts in ``kind_detail`` rather than ``kind`` (``kind`` is the key).
TILEZEN_DETAIL_KEYS = ("building",)


def categorize(
    pois: gpd.GeoDataFrame,
    *,
    scheme: str = "auto",
    kind_col: str = "kind",
    kind_detail_col: str = "kind_detail",
    name_col: str = "name",
    catalogue: CatalogueLike | None = None,
) -> gpd.GeoDataFrame:
    """Map OpenStreetMap features or Tilezen POIs to facility categories through the catalogue's tags.

    Each catalogue category lists alternative OSM tags (``osm_tags``: any one matches; ``"*"``
    matches any value) and optionally ``name_contains`` (the name must also contain one of
    them, e.g. 人才 for 人才公寓).

    * ``scheme="osm"``: columns named after OSM keys (``amenity``, ``leisure`` … as osmnx
      ``features_from_*`` or pyosmium give them) are matched directly.
    * ``scheme="tilezen"``: vector tiles in the Tilezen schema carry one ``kind`` per feature,
      which is the value of the OSM tag Tilezen chose (``amenity=library`` → ``library``), with
      the key dropped. A kind matches a catalogue tag when it equals the tag's *value*, whatever
      the key, after renaming the few kinds Tilezen changes (:data:`TILEZEN_KIND_TO_OSM`:
      ``fitness`` → ``fitness_centre``). For ``building=*`` Tilezen's ``kind`` is ``building`` and
      the value is in ``kind_detail``. ``"*"`` wildcards (``healthcare=*``) cannot be matched
      without the key and are skipped. ``tourism=information`` matches every information POI
      (offices, boards, maps) because the catalogue lists it as an alternative on its own.
    * ``scheme="auto"``: ``tilezen`` when ``kind_col`` is a column, else ``osm``.

    Parameters
    ----------
    pois : GeoDataFrame
    scheme : {"auto", "osm", "tilezen"}
    kind_col, kind_detail_col : str
        Tilezen columns.
    name_col : str
        Name column for ``name_contains`` rules (``name`` in both schemes).
    catalogue : str, Path or RuleSet, optional
        The catalogue whose tags are matched (see :func:`~tongzhen_gis.access.load_catalogue`);
        default the "八个一" catalogue.

    Returns
    -------
    GeoDataFrame
        One row per (feature, category) matched, in input order then catalogue order (a
        ``community_centre`` is both a neighbourhood centre and a reading room), with
        ``category``, ``source_index`` (the input label) and the input's columns, on a fresh
        index. ``attrs["unmatched"]`` counts the features matching no category.
    """
    if scheme == "auto":
        scheme = "tilezen" if kind_col in pois.columns else "osm"
    if scheme not in ("osm", "tilezen"):
        msg = f"scheme={scheme!r} is not understood; use 'osm', 'tilezen' or 'auto'"
        raise OptionError(msg, param="scheme")
    cat_table = load_catalogue(catalogue)["category"]
    names = pois[name_col].astype("string").fillna("") if name_col in pois.columns else None
    matched = []
    for cid in cat_table:
        entry = cat_table[cid]
        hit = np.zeros(len(pois), dtype=bool)
        for key, value in entry.get("osm_tags", ()):
            if scheme == "osm":
                if key not in pois.columns:
                    continue
                col = pois[key]
                hit |= (col.notna() & (col.astype(str) != "")).to_numpy() if value == "*" else (col == value).to_numpy()
            else:
                if value == "*" or kind_col not in pois.columns:
                    continue
                kind = pois[kind_col].replace(TILEZEN_KIND_TO_OSM)
                if key in TILEZEN_DETAIL_KEYS:
                    if kind_detail_col in pois.columns:
                        hit |= ((pois[kind_col] == key) & (pois[kind_detail_col] == value)).to_numpy()
                else:
                    hit |= (kind == value).to_numpy()
        needles = entry.get("name_contains", ())
        if needles:
            has = np.zeros(len(pois), dtype=bool)
            if names is not None:
                for needle in needles:
                    has |= names.str.contains(needle, regex=False).to_numpy(dtype=bool)
            hit &= has
        matched.append(hit)
    hits = np.column_stack(matched) if matched else np.zeros((len(pois), 0), dtype=bool)
    rows, cols = np.nonzero(hits)
    cat_ids = list(cat_table)
    out = pois.iloc[rows].copy()
    out.insert(0, "source_index", pois.index[rows])
    out.insert(0, "category", [cat_ids[c] for c in cols])
    out = out.reset_index(drop=True)
    out.attrs["unmatched"] = int((~hits.any(axis=1)).sum())
    return out
