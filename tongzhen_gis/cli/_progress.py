"""Stage timings (``-v``) and a progress bar (tqdm, on stderr) for the long commands.

A command names its stages as it reaches them::

    stages = Stages("access", ["read", "network", "distances", "service areas", "write"])
    stages.start("read")
    ...
    stages.start("network")
    ...
    stages.done()

Each stage's wall time is logged at INFO (shown with ``tongzhen -v``), and ``done`` logs the
total and the peak resident memory. The bar advances one step per stage and shows the stage
running; it is drawn only when stderr is a terminal, or when asked with ``tongzhen --progress``
(``--no-progress`` hides it), and never mixes into stdout.
"""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Sequence

import click
from tqdm import tqdm

logger = logging.getLogger("tongzhen_gis.cli")


def show_progress() -> bool:
    """True when a bar should be drawn: ``--progress`` given, or stderr is a terminal (unless ``--no-progress``)."""
    ctx = click.get_current_context(silent=True)
    asked = None
    while ctx is not None and asked is None:
        asked = (ctx.obj or {}).get("progress") if isinstance(ctx.obj, dict) else None
        ctx = ctx.parent
    return bool(asked) if asked is not None else sys.stderr.isatty()


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (``ru_maxrss`` is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stages:
    """The named stages of one command: their times at INFO and a progress bar."""

    def __init__(self, command: str, names: Sequence[str]) -> None:
        self.command = command
        self.bar = tqdm(total=len(names), desc=command, unit="stage", file=sys.stderr, disable=not show_progress())
        self.times: dict[str, float] = {}
        self._name: str | None = None
        self._t0 = self._start = time.perf_counter()

    def start(self, name: str) -> None:
        """End the running stage (log its time) and start ``name``."""
        self._end()
        self._name = name
        self._t0 = time.perf_counter()
        self.bar.set_postfix_str(name)

    def _end(self) -> None:
        if self._name is None:
            return
        took = time.perf_counter() - self._t0
        self.times[self._name] = self.times.get(self._name, 0.0) + took
        logger.info("%s: %s %.2f s", self.command, self._name, took)
        self.bar.update(1)
        self._name = None

    def done(self) -> None:
        """End the last stage; log the total time and the peak memory; close the bar."""
        self._end()
        self.bar.close()
        logger.info(
            "%s: total %.2f s, peak memory %.0f MB", self.command, time.perf_counter() - self._start, peak_rss_mb()
        )
