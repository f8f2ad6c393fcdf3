"""A page in a real browser: headless Chromium prints ``report.html`` to PDF and takes screenshots.

Chromium is not a Python package: it is Debian's ``chromium`` (``apt-get install chromium``) or
any Chrome/Chromium binary on ``PATH`` or named by the ``TONGZHEN_CHROMIUM`` environment
variable. :func:`find_chromium` says where it is (None when there is none);
:func:`print_pdf`, :func:`screenshot` and :func:`dump_dom` run it once each, headless, with a
fresh throw-away profile and no network services (no sync, no component updates, no
background networking), and raise :class:`~tongzhen_gis.errors.InputFileError` with the fix
when it is absent or fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tongzhen_gis.errors import InputFileError
from tongzhen_gis.io.paths import _mkparent, _require_exists

__all__ = ["dump_dom", "find_chromium", "print_pdf", "screenshot"]

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

#: Flags of every run: headless, sandbox off (containers, root), nothing that talks to the network.
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
)

_TIMEOUT_S = 120


def find_chromium() -> Path | None:
    """The Chromium (or Chrome) binary: ``$TONGZHEN_CHROMIUM``, else the first of its usual names on ``PATH``."""
    env = os.environ.get("TONGZHEN_CHROMIUM")
    if env:
        return Path(env) if Path(env).is_file() else None
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def _run(args: list[str], *, what: str) -> subprocess.CompletedProcess[str]:
    binary = find_chromium()
    if binary is None:
        msg = (
            f"cannot {what}: no Chromium found; install it (Debian/Ubuntu: apt-get install chromium) "
            "or set TONGZHEN_CHROMIUM to the browser's path"
        )
        raise InputFileError(msg)
    with tempfile.TemporaryDirectory(prefix="tongzhen-chromium-") as profile:
        cmd = [str(binary), *_FLAGS, f"--user-data-dir={profile}", *args]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            msg = f"cannot {what}: Chromium did not finish within {_TIMEOUT_S} s"
            raise InputFileError(msg) from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        msg = f"cannot {what}: Chromium exited with {done.returncode}: {tail}"
        raise InputFileError(msg)
    return done


def print_pdf(html_path: str | Path, pdf_path: str | Path) -> Path:
    """Print a local HTML page to PDF (A4 as the page's print styles say, no header or footer).

    Parameters
    ----------
    html_path : str or pathlib.Path
        The page (``report.html``).
    pdf_path : str or pathlib.Path
        The PDF to write; parent folders are created.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputFileError
        No Chromium on the machine (the message says how to install it), or it failed.
    """
    html_path, pdf_path = Path(html_path), _mkparent(pdf_path)
    _require_exists(html_path)
    _run(
        ["--no-pdf-header-footer", f"--print-to-pdf={pdf_path.absolute()}", html_path.absolute().as_uri()],
        what=f"print {html_path.name} to PDF",
    )
    if not pdf_path.is_file() or pdf_path.read_bytes()[:5] != b"%PDF-":
        msg = f"cannot print {html_path.name} to PDF: Chromium wrote no PDF at {pdf_path}"
        raise InputFileError(msg)
    return pdf_path


def screenshot(html_path: str | Path, png_path: str | Path, *, width: int = 1280, height: int = 900) -> Path:
    """A PNG screenshot of the first screen (``width`` × ``height`` CSS pixels) of a local page."""
    html_path, png_path = Path(html_path), _mkparent(png_path)
    _require_exists(html_path)
    _run(
        [f"--window-size={width},{height}", f"--screenshot={png_path.absolute()}", html_path.absolute().as_uri()],
        what=f"take a screenshot of {html_path.name}",
    )
    return png_path


def dump_dom(html_path: str | Path, *, width: int = 794, height: int = 1123, budget_ms: int = 5000) -> tuple[str, str]:
    """The page's DOM after load (scripts run, ``budget_ms`` of virtual time) and Chromium's log.

    The default window is an A4 page at 96 dpi (794 × 1123 px). The log (stderr, with
    ``--enable-logging``) holds the page's console messages as ``CONSOLE`` lines.

    Returns
    -------
    tuple of str
        (serialised DOM, log text)
    """
    html_path = Path(html_path)
    _require_exists(html_path)
    done = _run(
        [
            f"--window-size={width},{height}",
            "--enable-logging=stderr",
            "--v=0",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            html_path.absolute().as_uri(),
        ],
        what=f"open {html_path.name}",
    )
    return done.stdout, done.stderr
