"""Components observed only through their callers: uninstrumented callees in traces.

An external API, a managed database or a load balancer in front of a service often emits no spans,
logs or metrics of its own. All the telemetry says about it is what its callers record: the duration
of their client span to it (and a latency/error metric the caller's library exports under the
callee's name). AWS X-Ray draws such a callee as a ``*_remote`` node; OpenTelemetry names it in the
client span (``HTTP POST payment-api``, ``peer.service``). Without a rule, every second that callee
adds is the caller's own time, so the caller takes the blame for its dependency.

The general rule (:func:`uninstrumented_callees`, :func:`with_uninstrumented_callees`): a span with
no child span whose operation names, as a whole word, a component that the incident knows (it has
metrics, or a call-graph edge names it) but that emits no spans itself, is the caller's view of a
call to that component. It gets a virtual child span of that component, covering the client span
(same start and end), so that segmentation credits the callee with the call's time and the caller
with nothing of it. A component named by no client span, or one that emits spans, is left alone:
nothing is guessed from names beyond the word match, and where two unknown components match one
span the longest name wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

__all__ = ["uninstrumented_callees", "with_uninstrumented_callees"]

#: The span id suffix of a virtual callee span (its id is the client span's id plus this suffix).
VIRTUAL_SUFFIX = "~callee"


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", re.IGNORECASE)


def uninstrumented_callees(spans: pl.DataFrame, known: Iterable[str]) -> dict[str, str]:
    """``{client span_id: callee}`` for leaf spans whose operation names a known component that emits no spans.

    ``known`` is every component the incident knows of (metric entities, call-graph names).
    """
    if spans.height == 0:
        return {}
    emitting = set(spans.get_column("entity").cast(pl.String).unique().to_list())
    silent = sorted({str(k) for k in known if k and str(k) not in emitting}, key=len, reverse=True)
    if not silent:
        return {}
    parents = set(spans.get_column("parent_id").drop_nulls().cast(pl.String).to_list())
    leaves = spans.filter(~pl.col("span_id").cast(pl.String).is_in(list(parents))).select(
        pl.col("span_id").cast(pl.String), pl.col("operation").cast(pl.String).fill_null(""))
    patterns = [(name, _pattern(name)) for name in silent]
    found: dict[str, str] = {}
    by_operation: dict[str, str | None] = {}
    for span_id, operation in leaves.iter_rows():
        if operation not in by_operation:
            by_operation[operation] = next((name for name, p in patterns if p.search(operation)), None)
        callee = by_operation[operation]
        if callee is not None:
            found[span_id] = callee
    return found


def with_uninstrumented_callees(spans: pl.DataFrame, known: Iterable[str]) -> tuple[pl.DataFrame, dict[str, int]]:
    """The spans plus one virtual child span per call to an uninstrumented callee, and the calls per callee.

    A virtual span has the callee as entity, the client span's operation, start, end, duration, error
    and status, ``span_id`` = client span id + ``"~callee"`` and the client span as parent.
    """
    calls = uninstrumented_callees(spans, known)
    if not calls:
        return spans, {}
    ids = pl.DataFrame({"span_id": list(calls), "_callee": list(calls.values())})
    clients = spans.with_columns(pl.col("span_id").cast(pl.String)).join(ids, on="span_id", how="inner")
    virtual = clients.with_columns(
        pl.col("span_id").alias("parent_id"),
        (pl.col("span_id") + VIRTUAL_SUFFIX).alias("span_id"),
        pl.col("_callee").alias("entity"),
    ).drop("_callee").select(spans.columns)
    counts: dict[str, int] = {}
    for callee in calls.values():
        counts[callee] = counts.get(callee, 0) + 1
    base = spans.with_columns(pl.col("span_id").cast(pl.String), pl.col("parent_id").cast(pl.String))
    return pl.concat([base, virtual.cast(base.schema)], how="vertical"), counts  # type: ignore[arg-type]
