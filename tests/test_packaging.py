"""The project's own files install everything it needs, and say the same thing."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import tongzhen_gis as tz

REPO = Path(__file__).resolve().parents[1]

# conda-forge names that differ from PyPI names
_CONDA_TO_PYPI = {"osmium": "osmium"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_environment_yml_mirrors_pyproject():
    project = _pyproject()["project"]
    pypi = {_name(r) for r in project["dependencies"]} | {_name(r) for r in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    conda: set[str] = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            conda |= {_name(d) for d in dep["pip"] if not d.startswith("-")}
        elif _name(dep) not in {"python", "pip"}:
            conda.add(_CONDA_TO_PYPI.get(_name(dep), _name(dep)))
    assert conda == pypi


def test_versions_agree():
    assert _pyproject()["project"]["version"] == tz.__version__


def test_console_script_version():
    out = subprocess.run(
        [sys.executable, "-c", "from tongzhen_gis.cli import main; main(['--version'])"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0
    assert tz.__version__ in out.stdout


def test_every_public_module_imports():
    for name in tz.__all__:
        if name != "__version__":
            assert getattr(tz, name).__name__ == f"tongzhen_gis.{name}"


def test_rule_files_are_package_data():
    data = _pyproject()["tool"]["setuptools"]["package-data"]["tongzhen_gis"]
    assert "rules/*.toml" in data


def test_the_suite_has_no_network_but_loopback():
    import socket

    import pytest_socket

    with (
        pytest.warns(UserWarning, match="192.0.2.1"),
        pytest.raises(pytest_socket.SocketConnectBlockedError),
    ):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: never routed
