"""The shape of the code itself: short functions, and the import directions of docs/DEVELOPING.md."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("module", ["controllines", "intensity", "network", "evaluate"])
def test_analysis_modules_never_import_io_maps_report_or_cli(module):
    """Analysis takes and returns objects in memory; only io and the CLI touch files (DEVELOPING.md)."""
    path = PACKAGE / f"{module}.py"
    forbidden = {"tongzhen_gis.io", "tongzhen_gis.maps", "tongzhen_gis.report", "tongzhen_gis.cli"}
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not {name for name in imported if any(name == f or name.startswith(f + ".") for f in forbidden)}
