"""The bad-input corpus: every case ends in a clear rcakit error or an accepted input with what changed reported.

The cases live in ``tests/badinput/cases`` (one list, also counted by ``python -m rcakit.bench
reliability``); the table in README.md says what each one expects.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.badinput.cases import CASES, CATEGORIES, Case, Outcome, run_case
from tests.badinput.make_corpus import CASES as FILES_BYTES
from tests.badinput.make_corpus import FILES, README, readme_text


def test_committed_corpus_matches_the_script() -> None:
    for name, data in FILES_BYTES.items():
        assert (FILES / name).read_bytes() == data, f"{name} differs from make_corpus.py; run it again"
    assert sorted(p.name for p in FILES.iterdir()) == sorted(FILES_BYTES), "a file in files/ is not made by the script"
    assert README.read_text() == readme_text(), "README.md differs from the case list; run make_corpus.py"


def test_the_corpus_covers_every_kind_the_issue_lists() -> None:
    assert len(CASES) >= 80
    assert {"file shape", "encoding", "delimiter", "values", "time", "size", "spans", "OTLP JSON", "Jaeger JSON",
            "Prometheus JSON", "windows", "series", "graphs"} <= set(CATEGORIES)
    expected = {c.expect for c in CASES}
    assert expected == {Outcome.REJECTED, Outcome.COERCED, Outcome.CLEAN}


def test_the_runner_fails_a_raw_library_error_and_a_hang(tmp_path: Path) -> None:
    """The judge itself: a traceback from a library, a silent wrong outcome and a hang are failures."""
    import polars as pl

    raw = Case("raw", "test", Outcome.REJECTED, lambda _f: pl.DataFrame({"a": [1]}).select(pl.col("nope")), "")
    assert run_case(raw, tmp_path).outcome is Outcome.FAILED
    silent = Case("silent", "test", Outcome.REJECTED, lambda _f: 1, "")
    assert run_case(silent, tmp_path).outcome is Outcome.FAILED
    hang = Case("hang", "test", Outcome.CLEAN, lambda _f: __import__("time").sleep(5), "", timeout=0.2)
    result = run_case(hang, tmp_path)
    assert result.outcome is Outcome.FAILED and "hang" in result.detail


def _param(case: Case) -> object:
    marks = [pytest.mark.slow] if case.slow else []
    return pytest.param(case, id=case.id, marks=[*marks, pytest.mark.timeout(int(case.timeout) + 30)])


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case: Case, tmp_path: Path) -> None:
    result = run_case(case, tmp_path)
    assert result.outcome is case.expect, f"{case.id} ({case.describe}): {result.detail}"
