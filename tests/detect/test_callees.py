"""Components seen only through their callers get the time of the calls to them, and nothing is guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from rcakit.detect.callees import uninstrumented_callees, with_uninstrumented_callees


def _spans() -> pl.DataFrame:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [  # trace_id, span_id, parent_id, entity, operation, start s, end s
        ("t1", "a", None, "checkout", "handle", 0.0, 1.0),
        ("t1", "b", "a", "checkout", "HTTPS POST payment-api", 0.1, 0.9),
        ("t1", "c", "a", "checkout", "HTTP GET shipping", 0.2, 0.3),
        ("t1", "d", "c", "shipping", "GET /quote", 0.21, 0.29),
        ("t1", "e", "a", "checkout", "SQL SELECT orders", 0.3, 0.35),
    ]
    return pl.DataFrame({
        "trace_id": [r[0] for r in rows], "span_id": [r[1] for r in rows], "parent_id": [r[2] for r in rows],
        "entity": [r[3] for r in rows], "operation": [r[4] for r in rows],
        "start": [t0 + timedelta(seconds=r[5]) for r in rows], "end": [t0 + timedelta(seconds=r[6]) for r in rows],
        "duration": [r[6] - r[5] for r in rows], "error": [False] * len(rows), "status": ["OK"] * len(rows),
    })


def test_a_leaf_client_span_naming_a_silent_component_is_a_call_to_it() -> None:
    spans = _spans()
    known = {"checkout", "shipping", "payment-api", "pay"}
    assert uninstrumented_callees(spans, known) == {"b": "payment-api"}  # the longest whole-word name
    out, counts = with_uninstrumented_callees(spans, known)
    assert counts == {"payment-api": 1} and out.height == spans.height + 1
    virtual = out.filter(pl.col("entity") == "payment-api").row(0, named=True)
    assert virtual["parent_id"] == "b" and virtual["duration"] == spans.filter(pl.col("span_id") == "b")["duration"][0]


def test_components_that_emit_spans_or_are_unknown_are_left_alone() -> None:
    spans = _spans()
    # shipping emits spans; "orders" is no known component; a partial word does not match
    assert uninstrumented_callees(spans, {"checkout", "shipping", "order", "ment-api"}) == {}
    out, counts = with_uninstrumented_callees(spans, set())
    assert counts == {} and out.equals(spans)


def test_the_multimodal_ranking_blames_the_silent_dependency_not_its_caller() -> None:
    from rcakit.attribution import attribute
    from rcakit.sim import families

    inc = families.family_incident("webshop", "dependency_outage", seed=104)
    assert "payment-api" not in set(inc.telemetry.spans.get_column("entity").unique().to_list())
    result = attribute(None, inc, method="multimodal")
    assert result.entities[0][0] == "payment-api"
    assert any("seen only by their callers" in note for note in result.notes)
