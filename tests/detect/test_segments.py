"""Traces cut into segments (rcakit.detect.segments): each service's local time, the gap of each remote call,
and where failures begin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest

from rcakit.detect.segments import failing_spans, trace_observations
from rcakit.telemetry import Telemetry

from ._synth import T0


def _spans(rows: list[tuple[str, str, str | None, str, str, float, float, Any]]) -> pl.DataFrame:
    """(trace, span, parent, entity, operation, start ms, end ms, error) rows as canonical spans."""
    frame = pl.DataFrame([{"trace_id": t, "span_id": s, "parent_id": p, "entity": e, "operation": o,
                           "start": T0 + timedelta(milliseconds=a), "end": T0 + timedelta(milliseconds=b),
                           "error": err} for t, s, p, e, o, a, b, err in rows],
                         schema_overrides={"parent_id": pl.String})
    return Telemetry(spans=frame).spans


# frontend's server span (0-100 ms) calls api through a client span (10-60 ms); api's server span runs
# 20-50 ms with an internal span of its own inside (25-35 ms).
CALL = [("t1", "s0", None, "frontend", "GET /", 0, 100, False),
        ("t1", "c1", "s0", "frontend", "HTTP api", 10, 60, False),
        ("t1", "s1", "c1", "api", "handle", 20, 50, False),
        ("t1", "s2", "s1", "api", "db.query", 25, 35, False)]


def _by(obs: pl.DataFrame) -> dict[tuple[str, str], float]:
    return {(k, c): x for k, c, x in obs.select("kind", "credit", "x").iter_rows()}


def test_local_time_and_the_call_gap_split_the_request_exactly() -> None:
    obs = trace_observations(_spans(CALL))
    x = _by(obs)
    # api runs 30 ms (its inner span is its own time, not counted twice)
    assert x[("local", "api")] == pytest.approx(0.030)
    # the client span waits 50 ms, 30 of them in api: the other 20 are the call's gap, credited to api
    assert x[("gap", "api")] == pytest.approx(0.020)
    # frontend: 100 ms minus the 50 ms its client span was out
    assert x[("local", "frontend")] == pytest.approx(0.050)
    assert sum(x.values()) == pytest.approx(0.100)   # every millisecond of the request credited once
    gap = obs.filter(pl.col("kind") == "gap").row(0, named=True)
    assert (gap["key1"], gap["key2"]) == ("frontend", "api|handle")


def test_concurrent_calls_are_not_counted_twice() -> None:
    rows = [("t2", "s0", None, "frontend", "GET /", 0, 100, False),
            ("t2", "a", "s0", "api", "handle", 10, 60, False),    # two callees called in parallel,
            ("t2", "b", "s0", "cart", "handle", 30, 80, False)]   # overlapping 30-60 ms
    x = _by(trace_observations(_spans(rows)))
    assert x[("local", "frontend")] == pytest.approx(0.030)   # 0-10 and 80-100
    assert x[("local", "api")] == pytest.approx(0.050) and x[("local", "cart")] == pytest.approx(0.050)
    assert ("gap", "api") not in x   # a server span called directly: no client span, no gap


def test_no_spans_give_an_empty_table_with_the_columns() -> None:
    empty = trace_observations(_spans(CALL).clear())
    assert empty.height == 0
    assert empty.columns == ["kind", "credit", "key1", "key2", "start", "x", "trace_id"]


def test_the_deepest_failing_span_is_where_the_failure_began() -> None:
    rows = [("t3", "s0", None, "frontend", "GET /", 0, 100, True),
            ("t3", "s1", "s0", "api", "handle", 10, 60, True),
            ("t3", "s2", "s1", "db", "query", 20, 30, True),
            ("t3", "s3", "s0", "cart", "handle", 60, 90, False),
            ("t4", "r0", None, "frontend", "GET /", 0, 50, True),     # fails on its own, children fine
            ("t4", "r1", "r0", "api", "handle", 10, 20, False)]
    found = failing_spans(_spans(rows))
    assert sorted(found.select("trace_id", "span_id", "entity").iter_rows()) == [("t3", "s2", "db"),
                                                                                 ("t4", "r0", "frontend")]


def test_a_status_naming_an_error_counts_as_failing() -> None:
    spans = _spans(CALL).with_columns(pl.lit(False).alias("error"),
                                      pl.when(pl.col("span_id") == "s1").then(pl.lit("STATUS_CODE_ERROR"))
                                      .otherwise(pl.lit("OK")).alias("status"))
    assert failing_spans(spans).get_column("span_id").to_list() == ["s1"]
    assert failing_spans(spans.with_columns(pl.lit("OK").alias("status"))).height == 0
