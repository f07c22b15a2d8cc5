"""`rcakit analyze` says what it is doing and stops cleanly on Ctrl-C."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rcakit.cli import main
from rcakit.commands.analyze import STEPS, StepProgress

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "sim-S-gpu-throttle"


@pytest.fixture(autouse=True)
def _progress_follows_the_environment(monkeypatch) -> None:
    """An earlier test or notebook in the session may have called ``rcakit.set_progress``; these tests
    are about the environment variable and the flag."""
    import rcakit._progress

    monkeypatch.setattr(rcakit._progress, "_enabled", None)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_analyze_prints_each_step_in_order(monkeypatch, capsys) -> None:
    monkeypatch.setenv("RCAKIT_PROGRESS", "1")
    assert main(["analyze", str(SAMPLE), "--offline"]) == 0
    out = capsys.readouterr()
    lines = [line for line in out.err.splitlines() if line.startswith("rcakit analyze: ")]
    assert lines == [f"rcakit analyze: sim-S-gpu-throttle: {what} ({i}/5)" for i, what in enumerate(STEPS.values(), 1)]
    assert "top cause" in out.out  # the answer still goes to stdout alone


@pytest.mark.parametrize("how", ["env", "flag"])
def test_analyze_is_quiet_when_progress_is_off(monkeypatch, capsys, how) -> None:
    monkeypatch.setenv("RCAKIT_PROGRESS", "0" if how == "env" else "1")
    argv = ["analyze", str(SAMPLE), "--offline"] + (["--no-progress"] if how == "flag" else [])
    assert main(argv) == 0
    assert "rcakit analyze:" not in capsys.readouterr().err


def test_a_terminal_gets_a_bar_naming_the_step(monkeypatch) -> None:
    monkeypatch.delenv("TQDM_DISABLE", raising=False)  # the test session turns tqdm off
    stream = _Terminal()
    steps = StepProgress("inc-1", stream=stream)
    steps.step("detect")
    steps.step("draft")
    text = stream.getvalue()
    steps.close()
    assert "inc-1" in text and "drafting the causal graph" in text and "1/5" in text
    assert steps.current == "draft"


def test_ctrl_c_says_where_it_stopped_and_writes_no_report(monkeypatch, capsys, tmp_path) -> None:
    import rcakit.pipeline

    def interrupted(incident, *, on_step=None, **kwargs):
        on_step("detect")
        on_step("draft")
        raise KeyboardInterrupt

    monkeypatch.setattr(rcakit.pipeline, "analyze", interrupted)
    out = tmp_path / "r.html"
    assert main(["analyze", str(SAMPLE), "--offline", "--report", str(out), "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert "interrupted while drafting the causal graph for sim-S-gpu-throttle; no report was written" in err
    assert not out.exists()
