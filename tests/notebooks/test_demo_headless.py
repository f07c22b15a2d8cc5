"""``rcakit demo --headless --report out.html``: the quickstart runs without a browser and its HTML is written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from rcakit.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _demo_command() -> list[str]:
    script = Path(sys.executable).with_name("rcakit")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "rcakit.cli"]


def _notebooks(tmp_path: Path, cells: list[str]) -> Path:
    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "01_quickstart.ipynb")
    return folder


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_headless_demo_runs_the_quickstart_and_writes_html(tmp_path) -> None:
    out = tmp_path / "report" / "quickstart.html"
    before = sorted(p.name for p in (ROOT / "notebooks").iterdir())
    proc = subprocess.run([*_demo_command(), "demo", "--headless", "--report", str(out)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=850)
    assert proc.returncode == 0, f"rcakit demo --headless failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    page = out.read_text(encoding="utf-8")
    # the executed notebook, not the bare source: the report's final answer and the check against the truth
    assert "rcakit quickstart" in page
    assert re.search(r"rcakit ranks it \d+", page), "the last cell's output is in the page"
    assert "injected: " in page
    assert "Traceback" not in page
    # the incident report is in the page as static HTML, not only inside a widget's state
    static = page.split('type="application/vnd.jupyter.widget-state+json"')[0]
    assert "Incident report: sim-M-network" in static and "Final answer" in static
    # the report's charts are in the static part, drawn by plotly.js included once (about 4.8 MB, offline)
    assert static.count("window.Plotly = Plotly") == 1 and static.count("Plotly.newPlot(") >= 3
    assert len(page) < 10_000_000, f"the page weighs {len(page) / 1e6:.1f} MB"
    assert "all " in proc.stdout and str(out) in proc.stdout
    # the run happened in a temporary copy: no review session written into the checkout
    assert sorted(p.name for p in (ROOT / "notebooks").iterdir()) == before


@pytest.mark.notebook
def test_headless_demo_names_the_failing_cell_and_still_writes_html(tmp_path, capsys) -> None:
    folder = _notebooks(tmp_path, ["x = 41", "print('before', x + 1)", "raise ValueError('the sample is broken')",
                                   "print('never reached')"])
    out = tmp_path / "out.html"
    assert main(["demo", "--headless", "--notebooks", str(folder), "--report", str(out)]) == 1
    err = capsys.readouterr().err
    assert "code cell 3 of 4 raised ValueError: the sample is broken" in err
    page = out.read_text(encoding="utf-8")
    assert "before 42" in page and "the sample is broken" in page and "never reached" in page  # source is kept
    assert not list(folder.glob("*.rcakit-review.json"))


def test_demo_names_a_folder_without_the_quickstart(tmp_path, capsys) -> None:
    assert main(["demo", "--headless", "--notebooks", str(tmp_path)]) == 2
    assert "01_quickstart.ipynb not found" in capsys.readouterr().err


def test_demo_refuses_a_busy_port(tmp_path, capsys) -> None:
    import socket

    folder = _notebooks(tmp_path, ["1"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["demo", "--no-browser", "--notebooks", str(folder), "--port", str(port)]) == 2
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err


def test_demo_lab_command_serves_the_quickstart_offline(tmp_path) -> None:
    from rcakit.commands.demo import choose_port, lab_command

    cmd = lab_command(tmp_path, ip="127.0.0.1", port=9999, token="t0k", open_browser=False)
    assert cmd[1:3] == ["-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={tmp_path}" in cmd and "--ServerApp.port=9999" in cmd
    assert "--IdentityProvider.token=t0k" in cmd and "--no-browser" in cmd
    assert "--LabApp.default_url=/lab/tree/01_quickstart.ipynb" in cmd
    assert "--ServerApp.open_browser=True" in lab_command(tmp_path, ip="127.0.0.1", port=1, token="t",
                                                          open_browser=True)
    assert choose_port("127.0.0.1", 1234) == 1234
    assert 0 < choose_port("127.0.0.1", 0) < 65536
