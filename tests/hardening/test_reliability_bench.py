"""``python -m rcakit.bench reliability`` counts the very cases the tests run."""

from __future__ import annotations

import pytest

from rcakit.bench import reliability
from tests.badinput.cases import CASES


def test_bench_counts_the_corpus_by_category(capsys: pytest.CaptureFixture[str]) -> None:
    assert reliability.main(["--only", "prometheus", "--cases"]) == 0
    out = capsys.readouterr().out
    chosen = [c for c in CASES if "prometheus" in c.id]
    assert f"{len(chosen)} cases" in out
    row = next(line for line in out.splitlines() if line.startswith("| Prometheus JSON |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert int(cells[1]) == len([c for c in chosen if c.category == "Prometheus JSON"])
    assert int(cells[2]) + int(cells[3]) + int(cells[4]) == int(cells[1]) and cells[5] == "0"
    assert all(f"| {c.id} |" in out for c in chosen)


def test_bench_fails_when_a_case_fails(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import tests.badinput.cases as corpus

    broken = corpus.Case("broken-on-purpose", "test", corpus.Outcome.CLEAN, lambda _f: 1 / 0, "raises")
    monkeypatch.setattr(corpus, "CASES", [broken])
    assert reliability.main([]) == 1
    out = capsys.readouterr().out
    assert "| test | 1 | 0 | 0 | 0 | 1 |" in out and "broken-on-purpose" in out
