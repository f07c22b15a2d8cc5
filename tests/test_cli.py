"""The command line: version, analyze on a sample incident, clear errors."""

from __future__ import annotations

from pathlib import Path

from rcakit import __version__
from rcakit.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_version(capsys) -> None:
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert __version__ in capsys.readouterr().out


def test_analyze_writes_a_report_naming_the_true_cause(tmp_path, capsys) -> None:
    out = tmp_path / "report.html"
    assert main(["analyze", str(ROOT / "sample_data" / "sim-M-network"), "--report", str(out), "--offline"]) == 0
    page = out.read_text()
    assert "ModelInference_2-Client" in page.split("Final answer")[1][:600]
    assert "ranked 1" in capsys.readouterr().out


def test_analyze_names_a_missing_folder(tmp_path, capsys) -> None:
    assert main(["analyze", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
