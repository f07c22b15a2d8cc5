"""``python -m rcakit.bench llm_cache``: one row on simulator S, and the table it prints."""

from __future__ import annotations

import pytest

from rcakit.bench import llm_cache
from rcakit.sim import Topology


@pytest.mark.llm
@pytest.mark.slow
def test_row_counts_calls_and_second_draft_is_free(clean_llm_env: None) -> None:
    row = llm_cache.measure(Topology.small(), stop_at_majority=True)
    assert row["every pair"] == 3 * row["pairs"] and row["distinct questions"] == row["pairs"]
    assert 2 * row["pairs"] <= row["calls"] < row["every pair"]
    assert abs(row["calls"] - row["dry run"]) <= 0.1 * row["calls"]
    assert row["2nd draft"] == 0 and row["key on disk"] == "no"


@pytest.mark.llm
@pytest.mark.slow
def test_main_prints_a_table(clean_llm_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert llm_cache.main(["--topologies", "S"]) == 0
    out = capsys.readouterr().out
    assert "| S (1x1 GPUs) | all votes | 137 | 411 | 137 | 411 | 411 | 1.00x |" in out
    assert "stop at majority" in out
