"""The shape of the code itself: short functions, and the import directions of docs/DEVELOPING.md."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tongzhen_gis"
#: Longest function body allowed, in lines of code (docstring, comments and blank lines not counted).
MAX_BODY_LINES = 120


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    body = node.body
    first = body[0]
    if len(body) > 1 and isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        first = body[1]  # skip the docstring
    text = lines[first.lineno - 1 : node.end_lineno]
    return sum(1 for line in text if line.strip() and not line.strip().startswith("#"))


def _functions() -> list[tuple[str, int]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append(
                    (f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}", _code_lines(node, lines))
                )
    return found


def test_the_walker_counts_code_lines_only():
    source = 'def f():\n    """Doc.\n\n    More.\n    """\n    # a comment\n\n    a = 1\n    return a\n'
    node = ast.parse(source).body[0]
    assert _code_lines(node, source.splitlines()) == 2


def test_no_function_body_is_longer_than_the_limit():
    functions = _functions()
    assert len(functions) > 100  # the walk found the package
    too_long = [f"{where} ({n} lines)" for where, n in functions if n > MAX_BODY_LINES]
    assert not too_long, f"split these functions (limit {MAX_BODY_LINES} lines of code): {too_long}"


#: The layer of each top-level module or package (docs/DEVELOPING.md, "Module map").
LAYERS = {
    "foundation": {"errors", "settings", "units", "rules", "schema", "labels", "crs", "webmap", "raster"},
    "analysis": {
        "controllines",
        "_overlay",
        "intensity",
        "_firm_scores",
        "network",
        "_osm",
        "access",
        "evaluate",
        "city",
        "_snap",
    },
    "io": {"io"},
    "samples": {"samples"},
    "maps": {"maps"},
    "report": {"report"},
    "cli": {"cli"},
}
#: The layers each layer may import.
ALLOWED = {
    "foundation": {"foundation"},
    "analysis": {"foundation", "analysis"},
    "io": {"foundation", "io"},
    "samples": {"foundation", "io", "samples"},
    "maps": {"foundation", "analysis", "io", "maps"},
    "report": {"foundation", "analysis", "io", "maps", "samples", "report"},
    "cli": set(LAYERS),
}


#: Imports against the layers that docs/DEVELOPING.md names as exceptions: (importer, imported).
EXCEPTIONS = {("raster", "io")}  # zonal's thin adapter reads a path with tz.io.read_raster


def _layer(top: str) -> str | None:
    return next((layer for layer, tops in LAYERS.items() if top in tops), None)


def _imported_tops(source: str) -> set[str]:
    """Top-level tongzhen_gis modules a source imports (at module level or inside functions)."""
    tops = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "tongzhen_gis":
            parts = node.module.split(".")
            if len(parts) > 1:
                tops.add(parts[1])
            else:
                tops.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            tops.update(a.name.split(".")[1] for a in node.names if a.name.startswith("tongzhen_gis."))
    return tops


def test_every_module_has_a_layer():
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.rglob("*.py")}
    assert {t for t in tops if _layer(t) is None} <= {"__init__", "__main__"}


def test_imports_follow_the_module_map():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        top = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        layer = _layer(top)
        if layer is None:
            continue
        for imported in _imported_tops(path.read_text(encoding="utf-8")):
            target = _layer(imported)
            allowed = target in ALLOWED[layer] or (top, imported) in EXCEPTIONS
            if target is not None and not allowed and imported != top:
                wrong.append(f"{path.relative_to(PACKAGE.parent)} ({layer}) imports {imported} ({target})")
    assert not wrong, wrong


def test_the_import_walker_sees_function_level_imports():
    source = "def f():\n    from tongzhen_gis import io as tzio\n    from tongzhen_gis.maps.fonts import x\n"
    assert _imported_tops(source) == {"io", "maps"}
