"""Every example in the README and the guides runs as written.

Python blocks of one file run top to bottom in one namespace, from a fresh temporary working
directory (so relative paths such as ``data/raw/sample`` land there). Console blocks run each
line that starts with ``tongzhen`` through ``python -m tongzhen_gis`` (backslash continuations
joined); a trailing comment ``# exit N`` states the expected exit code (default: 0).

A block whose first line is ``# needs: shared-data`` is skipped when ``../shared/data`` is
absent; ``# needs: internet`` blocks are never run here (the tests have no network).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from conftest import shared_data_root

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)


def _blocks(path: Path, lang: str) -> list[str]:
    return [body for kind, body in _FENCE.findall(path.read_text(encoding="utf-8")) if kind == lang]


def _needs(block: str) -> str | None:
    first = block.lstrip().splitlines()[0] if block.strip() else ""
    match = re.match(r"#\s*needs:\s*([\w-]+)", first)
    return match.group(1) if match else None


def _runnable(block: str) -> bool:
    need = _needs(block)
    if need == "internet":
        return False
    return not (need == "shared-data" and not shared_data_root().exists())


@pytest.mark.parametrize("doc", [d for d in DOCS if _blocks(d, "python")], ids=lambda p: p.name)
def test_python_examples_run(doc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    ran = 0
    for i, block in enumerate(_blocks(doc, "python")):
        if not _runnable(block):
            continue
        code = compile(block, f"{doc.name}[python block {i + 1}]", "exec")
        exec(code, namespace)
        plt.close("all")
        ran += 1
    assert ran > 0


def _console_lines(doc: Path) -> list[tuple[list[str], int]]:
    out = []
    for block in _blocks(doc, "console"):
        for line in block.replace("\\\n", " ").splitlines():
            command, _, comment = line.partition("#")
            words = shlex.split(command)
            if words[:1] == ["tongzhen"]:
                match = re.search(r"exit (\d)", comment)
                out.append((words[1:], int(match.group(1)) if match else 0))
    return out


@pytest.mark.parametrize("doc", [d for d in DOCS if _console_lines(d)], ids=lambda p: p.name)
def test_console_examples_run(doc, tmp_path):
    for args, expected in _console_lines(doc):
        done = subprocess.run(
            [sys.executable, "-m", "tongzhen_gis", *args], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert done.returncode == expected, f"tongzhen {' '.join(args)}\n{done.stdout}\n{done.stderr}"
