"""Traces cut into segments: where each service spends its own time, what its callers wait for it, and
where failures begin.

A trace is cut into *segments*: an entry span of an entity (its parent is in another entity, or it has
none) with the spans of the same entity below it. A segment's *exclusive time* is the time its spans
cover while no segment below it (called directly or further down) runs: a sweep over the interval ends,
so concurrent spans are not counted twice, an asynchronous sibling span that only waits is not credited
with the callee's time, and a chain of sequential spans, each the parent of the next, credits each hop
its own time. Each remote call also has a *gap*: where the caller's client span has that single child
and the child starts inside it, the part of the client span during which neither the callee's segment
nor anything below it runs (network both ways, queueing, the callee's request handling before its first
span). Exclusive time minus the gaps is the segment's *local* time.

* :func:`trace_observations`: one row per segment (its local time) and per remote call (its gap).
* :func:`failing_spans`: the failing spans with no failing span below them, where a failure began.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from rcakit._types import PolarsSchema

__all__ = ["failing_spans", "trace_observations"]

#: Deepest call nesting followed (a guard against malformed parent links).
MAX_DEPTH = 128


def _segments(spans: pl.DataFrame) -> pl.DataFrame:
    """Spans (unique per trace and span id) with ``parent_entity``, ``is_entry`` and ``seg`` (segment root)."""
    sp = spans.unique(subset=["trace_id", "span_id"], keep="first", maintain_order=True)
    parents = sp.select("trace_id", pl.col("span_id").alias("parent_id"), pl.col("entity").alias("parent_entity"))
    sp = sp.join(parents, on=["trace_id", "parent_id"], how="left").with_columns(
        (pl.col("parent_entity").is_null() | (pl.col("parent_entity") != pl.col("entity"))).alias("is_entry"))
    sp = sp.with_columns(pl.when(pl.col("is_entry")).then(pl.col("span_id")).otherwise(None).alias("seg"))
    for _ in range(MAX_DEPTH):
        missing = sp.get_column("seg").null_count()
        if missing == 0:
            break
        known = sp.filter(pl.col("seg").is_not_null()).select(
            "trace_id", pl.col("span_id").alias("parent_id"), pl.col("seg").alias("_pseg"))
        sp = sp.join(known, on=["trace_id", "parent_id"], how="left").with_columns(
            pl.coalesce("seg", "_pseg").alias("seg")).drop("_pseg")
        if sp.get_column("seg").null_count() == missing:
            break
    return sp.with_columns(pl.coalesce("seg", "span_id").alias("seg"))


def trace_observations(spans: pl.DataFrame) -> pl.DataFrame:
    """Local times and caller-side gaps, one row per segment or remote call.

    Columns: kind (``local`` / ``gap``), credit (the entity credited), key1, key2 (the reference key:
    entity and entry operation, or caller and callee|operation), start, x (seconds), trace_id.
    """
    schema: PolarsSchema = {"kind": pl.String, "credit": pl.String, "key1": pl.String, "key2": pl.String,
                              "start": pl.Datetime("ns", "UTC"), "x": pl.Float64, "trace_id": pl.String}
    if spans.height == 0:
        return pl.DataFrame(schema=schema)
    spans = spans.with_columns(pl.col("operation").cast(pl.String).fill_null("<no operation>"),
                               pl.col("parent_id").cast(pl.String), pl.col("span_id").cast(pl.String),
                               pl.col("trace_id").cast(pl.String))
    sp = _segments(spans)
    segs = sp.filter(pl.col("is_entry")).select("trace_id", pl.col("span_id").alias("seg"), "entity", "operation",
                                                "start", "end", "duration", "parent_id", "parent_entity")
    owner = sp.select("trace_id", pl.col("span_id").alias("parent_id"), pl.col("seg").alias("parent_seg"),
                      pl.col("duration").alias("parent_duration"), pl.col("start").alias("parent_start"),
                      pl.col("end").alias("parent_end"))
    calls = segs.filter(pl.col("parent_entity").is_not_null()).join(owner, on=["trace_id", "parent_id"], how="inner")
    # Sweep: time where some span of the segment runs and no span of a segment below it (called directly or
    # further down: a chain of sequential spans is not nested in time) does.
    cover = sp.select("trace_id", "seg", "start", "end")
    remote = _below(calls)
    exclusive = _uncovered(cover, remote).rename({"uncovered": "exclusive"})
    children = sp.filter(pl.col("parent_id").is_not_null()).group_by("trace_id", "parent_id").agg(
        pl.len().alias("_children"))
    # A gap exists where the caller's span has this single child and the child starts inside it (a client
    # span enclosing the server span; a child that starts after its parent ended is a sequential hand-off).
    inside = ((pl.col("start") >= pl.col("parent_start") - pl.duration(milliseconds=1))
              & (pl.col("start") < pl.col("parent_end")))
    calls = calls.join(children, on=["trace_id", "parent_id"], how="left").with_columns(
        ((pl.col("_children") == 1) & inside).alias("_has_gap"))
    # The gap: the caller's span minus the time the callee's segment or any segment below it runs.
    gapped = calls.filter(pl.col("_has_gap"))
    parent_cover = gapped.select("trace_id", "seg", pl.col("parent_start").alias("start"),
                                 pl.col("parent_end").alias("end"))
    callee_cover = pl.concat([gapped.select("trace_id", "seg", "start", "end"),
                              remote.join(gapped.select("trace_id", "seg"), on=["trace_id", "seg"], how="semi")])
    calls = calls.join(_uncovered(parent_cover, callee_cover), on=["trace_id", "seg"], how="left").with_columns(
        pl.when(pl.col("_has_gap")).then(pl.col("uncovered").fill_null(0.0)).otherwise(None).alias("gap"))
    gaps_out = calls.group_by("trace_id", pl.col("parent_seg").alias("seg")).agg(
        pl.col("gap").fill_null(0.0).sum().alias("gaps_out"))
    segs = (segs.join(exclusive, on=["trace_id", "seg"], how="left").join(gaps_out, on=["trace_id", "seg"], how="left")
            .with_columns(pl.col("exclusive").fill_null(0.0), pl.col("gaps_out").fill_null(0.0))
            .with_columns((pl.col("exclusive") - pl.col("gaps_out")).clip(lower_bound=0.0).alias("local")))
    local = segs.select(pl.lit("local").alias("kind"), pl.col("entity").alias("credit"), pl.col("entity").alias("key1"),
                        pl.col("operation").alias("key2"), "start", pl.col("local").alias("x"), "trace_id")
    gap = calls.filter(pl.col("gap").is_not_null()).select(
        pl.lit("gap").alias("kind"), pl.col("entity").alias("credit"), pl.col("parent_entity").alias("key1"),
        (pl.col("entity") + "|" + pl.col("operation")).alias("key2"), "start", pl.col("gap").alias("x"), "trace_id")
    return pl.concat([local, gap]).cast(schema)  # type: ignore[arg-type]


def _uncovered(cover: pl.DataFrame, remote: pl.DataFrame) -> pl.DataFrame:
    """(trace_id, seg, uncovered): seconds where some ``cover`` interval of the key runs and no ``remote`` one does.

    A sweep over the interval ends: events sorted by (key, time); since each key's events sum to zero,
    the running sums over the whole sorted column are the per-key counts of open intervals.
    """
    key = pl.struct("trace_id", "seg").hash(seed=0).alias("_key")
    events = pl.concat([
        cover.select(key, pl.col("start").dt.epoch("ns").alias("t"),
                     pl.lit(1, pl.Int32).alias("dc"), pl.lit(0, pl.Int32).alias("dr")),
        cover.select(key, pl.col("end").dt.epoch("ns").alias("t"), pl.lit(-1, pl.Int32).alias("dc"),
                     pl.lit(0, pl.Int32).alias("dr")),
        remote.select(key, pl.col("start").dt.epoch("ns").alias("t"), pl.lit(0, pl.Int32).alias("dc"),
                      pl.lit(1, pl.Int32).alias("dr")),
        remote.select(key, pl.col("end").dt.epoch("ns").alias("t"), pl.lit(0, pl.Int32).alias("dc"),
                      pl.lit(-1, pl.Int32).alias("dr")),
    ]).sort("_key", "t")
    keys = events.get_column("_key").to_numpy()
    t = events.get_column("t").to_numpy()
    open_cover = np.cumsum(events.get_column("dc").to_numpy())
    open_remote = np.cumsum(events.get_column("dr").to_numpy())
    dt = np.zeros(len(t), dtype=np.float64)
    if len(t) > 1:
        same = keys[1:] == keys[:-1]
        dt[:-1] = np.where(same, (t[1:] - t[:-1]) / 1e9, 0.0)
    counted = np.where((open_cover > 0) & (open_remote <= 0), dt, 0.0)
    sums = pl.DataFrame({"_key": keys, "uncovered": counted}).group_by("_key").agg(pl.col("uncovered").sum())
    names = cover.select("trace_id", "seg", key).unique(subset=["_key"])
    return names.join(sums, on="_key", how="inner").select("trace_id", "seg", "uncovered")


def _below(calls: pl.DataFrame) -> pl.DataFrame:
    """(trace_id, seg, start, end): the entry-span interval of every segment below ``seg``, at any depth."""
    step = calls.select("trace_id", pl.col("seg").alias("anc"), pl.col("parent_seg").alias("up"))
    frontier = calls.select("trace_id", pl.col("parent_seg").alias("anc"), "start", "end")
    found = [frontier]
    for _ in range(MAX_DEPTH):
        frontier = frontier.join(step, on=["trace_id", "anc"], how="inner").select(
            "trace_id", pl.col("up").alias("anc"), "start", "end")
        if frontier.height == 0:
            break
        found.append(frontier)
    return pl.concat(found).rename({"anc": "seg"})


def failing_spans(spans: pl.DataFrame) -> pl.DataFrame:
    """(trace_id, span_id, entity, start) of the *deepest* failing spans: spans flagged ``error`` (or with a
    status containing ERROR) with no failing span below them in their trace, where the failure began."""
    schema: PolarsSchema = {"trace_id": pl.String, "span_id": pl.String, "entity": pl.String,
                              "start": pl.Datetime("ns", "UTC")}
    flags = []
    if "error" in spans.columns:
        flags.append(pl.col("error").cast(pl.Boolean, strict=False).fill_null(False))
    if "status" in spans.columns:
        flags.append(pl.col("status").cast(pl.String).str.to_uppercase().str.contains("ERROR").fill_null(False))
    if not flags or spans.height == 0:
        return pl.DataFrame(schema=schema)
    sp = spans.select(pl.col("trace_id").cast(pl.String), pl.col("span_id").cast(pl.String),
                      pl.col("parent_id").cast(pl.String), "entity", "start", pl.any_horizontal(flags).alias("_fail"))
    sp = sp.unique(subset=["trace_id", "span_id"], keep="first", maintain_order=True)
    failed = sp.filter(pl.col("_fail"))
    if failed.height == 0:
        return pl.DataFrame(schema=schema)
    up = sp.select("trace_id", "span_id", "parent_id")
    frontier = failed.select("trace_id", pl.col("parent_id").alias("span_id")).drop_nulls().unique()
    above = []
    for _ in range(MAX_DEPTH):
        if frontier.height == 0:
            break
        above.append(frontier)
        frontier = (frontier.join(up, on=["trace_id", "span_id"], how="inner")
                    .select("trace_id", pl.col("parent_id").alias("span_id")).drop_nulls().unique())
    if above:
        failed = failed.join(pl.concat(above).unique(), on=["trace_id", "span_id"], how="anti")
    return failed.select("trace_id", "span_id", "entity", "start").cast(schema)  # type: ignore[arg-type]
