"""The same incident gives the same report file, byte for byte, run after run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_runs_write_the_same_html_report(tmp_path: Path) -> None:
    """Two processes with different hash seeds (so sets iterate in different orders): the HTML reports,
    charts included, are identical; before, the chart ids were random, the graph's layout followed set order
    and the score intervals differed in their last digits."""
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"report-{seed}.html"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "rcakit", "analyze", str(ROOT / "sample_data" / "sim-S-gpu-throttle"),
                        "--report", str(out), "--offline", "--no-progress"], check=True, env=env,
                       capture_output=True, timeout=300)
        outputs.append(out.read_bytes())
    assert b"rcakit-graph-" in outputs[0] and b"Plotly.newPlot" in outputs[0]
    assert outputs[0] == outputs[1]


def test_inline_displays_of_one_report_get_their_own_chart_ids() -> None:
    """In a notebook the same report may be shown twice on one page: each display needs ids of its own."""
    import rcakit

    report = rcakit.write_report(rcakit.sample_incident("sim-S-gpu-throttle"), llm=None)
    if not report.figures:
        pytest.skip("the sample gave no charts")
    first, second = report.to_html(standalone=False), report.to_html(standalone=False)
    assert first != second
    assert report.to_html() == report.to_html()
