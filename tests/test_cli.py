"""The CLI frame: version, exit codes and one-line errors (no traceback unless --debug)."""

from __future__ import annotations

import sys
import types

import click
import pytest

import tongzhen_gis as tz
from tongzhen_gis import cli
from tongzhen_gis.errors import CRSError


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code


@pytest.fixture
def fake_commands(monkeypatch):
    module = types.ModuleType("tongzhen_fake_cmds")

    @click.command()
    def bad_input() -> int:
        raise CRSError("layer has no CRS;\n set it with --crs EPSG:4549")

    @click.command()
    def bug() -> int:
        raise KeyError("oops")

    @click.command()
    def findings() -> int:
        return 1

    module.bad_input, module.bug, module.findings = bad_input, bug, findings
    monkeypatch.setitem(sys.modules, "tongzhen_fake_cmds", module)
    for name in ("bad-input", "bug", "findings"):
        monkeypatch.setitem(cli.COMMANDS, name, f"tongzhen_fake_cmds:{name.replace('-', '_')}")


def test_version(capsys):
    assert run(["--version"]) == 0
    assert tz.__version__ in capsys.readouterr().out


def test_help_lists_commands(capsys):
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("demo", "check-lines", "intensity", "access", "report"):
        assert name in out


def test_unknown_command_is_bad_input(capsys):
    assert run(["no-such-command"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error:")
    assert "Traceback" not in err


def test_tongzhen_error_is_one_line_exit_2(fake_commands, capsys):
    assert run(["bad-input"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err == "error: layer has no CRS; set it with --crs EPSG:4549\n"


def test_debug_shows_the_traceback(fake_commands):
    with pytest.raises(CRSError):
        cli.main(["--debug", "bad-input"])


def test_unexpected_error_exit_3(fake_commands, capsys):
    assert run(["bug"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "--debug" in err
    assert "Traceback" not in err


def test_findings_exit_1(fake_commands):
    assert run(["findings"]) == cli.EXIT_FINDINGS


def test_error_classes_inherit_the_matching_builtin():
    e = tz.errors
    assert issubclass(e.CRSError, ValueError)
    assert issubclass(e.SchemaError, ValueError)
    assert issubclass(e.RuleDataError, ValueError)
    assert issubclass(e.NetworkDataError, ValueError)
    assert issubclass(e.InputFileError, OSError)
    assert issubclass(e.FontNotFoundError, e.InputFileError)
    for name in e.__all__:
        assert issubclass(getattr(e, name), e.TongzhenError)
