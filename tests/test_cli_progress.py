"""``tongzhen -v`` logs the time of each stage and the peak memory; the bar shows only when asked or on a terminal."""

from __future__ import annotations

import re

import pytest

import tongzhen_gis as tz
from tongzhen_gis import cli


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    return tz.samples.write_scene(tz.samples.sample_town(), folder)["gpkg"]


def access_args(gpkg, out):
    layers = [x for n in ("roads", "facilities", "homes") for x in (f"--{n}", str(gpkg), "--layer", f"{n}={n}")]
    return ["access", *layers, "--out", str(out)]


STAGES = ("read", "network", "distances", "coverage", "service areas", "write")


def test_verbose_logs_every_stage_with_its_time_and_the_peak_memory(written, tmp_path, capsys):
    code = run(["-v", *access_args(written, tmp_path)])
    captured = capsys.readouterr()
    assert code in (0, 1)
    for stage in STAGES:
        assert re.search(rf"access: {stage} \d+\.\d\d s", captured.err), stage
    assert re.search(r"access: total \d+\.\d\d s, peak memory \d+ MB", captured.err)
    assert "access:" not in captured.out  # timings never mix into the results on stdout
    assert "stage" not in captured.err  # not a terminal, not asked: no bar


def test_progress_bar_on_stderr_when_asked(written, tmp_path, capsys):
    run(["--progress", *access_args(written, tmp_path)])
    captured = capsys.readouterr()
    assert f"{len(STAGES)}/{len(STAGES)}" in captured.err  # tqdm's counter reached the last stage
    assert "stage" in captured.err
    assert "stage" not in captured.out
    assert "access: network" not in captured.err  # timings only with -v


def test_no_progress_wins_and_quiet_without_verbose(written, tmp_path, capsys):
    run(["--no-progress", *access_args(written, tmp_path)])
    err = capsys.readouterr().err
    assert "stage" not in err
    assert "peak memory" not in err


def test_other_commands_log_their_stages(tmp_path, capsys):
    paths = tz.samples.write_scene(tz.samples.sample_town(), tmp_path / "in")
    gpkg = str(paths["gpkg"])
    lines = ["check-lines", gpkg, "--layer", "features=towns", "--red-line", gpkg, "--layer", "red-line=red_line"]
    run(["-v", *lines, "--out", str(tmp_path / "lines")])
    err = capsys.readouterr().err
    for stage in ("read", "check", "write"):
        assert re.search(rf"check-lines: {stage} \d+\.\d\d s", err), stage
