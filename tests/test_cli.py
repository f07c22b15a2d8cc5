"""The command line: version, analyze on a sample incident, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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


@pytest.mark.slow
def test_analyze_a_petshop_issue_writes_a_report_naming_its_true_root_cause(petshop_dir, tmp_path, capsys) -> None:
    out = tmp_path / "petshop.html"
    code = main(["analyze", str(petshop_dir), "--incident", "petshop-low_traffic-test-issue_0", "--report", str(out),
                 "--offline"])
    assert code == 0
    truth = json.loads((petshop_dir / "dataset/low_traffic/test/issue_0/target.json").read_text())["root_cause"]["node"]
    final = out.read_text().split("Final answer")[1][:800]
    assert truth.replace("::", "__") in final
