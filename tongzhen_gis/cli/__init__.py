"""The ``tongzhen`` command line (one module per command, the rasterio-CLI pattern).

The CLI computes nothing itself: it reads inputs through :mod:`tongzhen_gis.io`, calls the
analysis modules, writes outputs, and maps outcomes to exit codes:

* ``0``: clean (every feature passes, nothing short);
* ``1``: findings (a violation, a conflict to review, a shortfall);
* ``2``: bad input, with one line saying what is wrong and how to fix it;
* ``3``: an unexpected internal error (a bug: please report it with ``--debug`` output).

No traceback is printed unless ``--debug`` is given.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from tongzhen_gis import __version__, settings
from tongzhen_gis.errors import TongzhenError

__all__ = ["EXIT_BAD_INPUT", "EXIT_CLEAN", "EXIT_FINDINGS", "EXIT_INTERNAL", "cli", "main"]

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3

#: command name -> "module:attribute"; each module holds one click command.
COMMANDS: dict[str, str] = {
    "demo": "tongzhen_gis.cli.demo:command",
    "check-lines": "tongzhen_gis.cli.check_lines:command",
    "intensity": "tongzhen_gis.cli.intensity:command",
    "access": "tongzhen_gis.cli.access:command",
    "report": "tongzhen_gis.cli.report:command",
    "city": "tongzhen_gis.cli.city:command",
}


class _LazyGroup(click.Group):
    """A group that imports a command's module only when the command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="tongzhen")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress and the time of each stage to stderr.")
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar on stderr [default: when stderr is a terminal]."
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: bool, progress: bool | None) -> None:
    """tongzhen: checks for Hangzhou's characteristic towns (特色小镇).

    Exit codes: 0 clean, 1 findings, 2 bad input, 3 internal error.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["progress"] = progress
    level = logging.DEBUG if debug else (settings.log_level if verbose else logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("tongzhen_gis")
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)

    def _restore() -> None:
        # Only the CLI configures output, and only while it runs: a library user (or the next
        # test) must not inherit a handler bound to a stream that may be closed by then.
        logger.removeHandler(handler)
        logger.setLevel(previous_level)

    ctx.call_on_close(_restore)


def _one_line(exc: BaseException | str) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI and exit with the documented exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="tongzhen", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.Abort:
        click.echo("error: aborted", err=True)
        code = EXIT_BAD_INPUT
    except click.ClickException as exc:
        if debug:
            raise
        click.echo(f"error: {_one_line(exc.format_message())}", err=True)
        code = EXIT_BAD_INPUT
    except TongzhenError as exc:
        if debug:
            raise
        click.echo(f"error: {_one_line(exc)}", err=True)
        code = EXIT_BAD_INPUT
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"internal error ({type(exc).__name__}): {_one_line(exc)}; rerun with --debug and report it", err=True
        )
        code = EXIT_INTERNAL
    sys.exit(code or 0)
