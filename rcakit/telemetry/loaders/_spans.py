"""Checks of the parent links of spans: orphans are counted, a parent cycle is an error."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry._schema import is_spelled_root
from rcakit.telemetry.report import LoadReport

__all__ = ["check_span_tree"]

# One lasting thread that counts repeated ids while the parents are looked for (polars and NumPy
# work without the GIL).
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rcakit-span-ids")


def _keys(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """64-bit keys of (trace_id, span_id) and of (trace_id, parent_id), and where each id is present."""
    # One lazy select: polars hashes the trace ids once (common subexpression) and works the four
    # columns on its threads.
    trace = pl.col("trace_id").hash(seed=7)
    keys = frame.lazy().select(
        (trace ^ pl.col("span_id").hash(seed=11)).alias("own"),
        (trace ^ pl.col("parent_id").hash(seed=11)).alias("parent"),
        pl.col("span_id").is_not_null().alias("has_id"),
        pl.col("parent_id").is_not_null().alias("has_parent"),
    ).collect()
    return tuple(keys.get_column(name).to_numpy() for name in keys.columns)  # type: ignore[return-value]


def _repeats(own: np.ndarray, has_id: np.ndarray) -> tuple[int, np.ndarray]:
    """How many keys equal an earlier one (spans without an id, which the model does not let through,
    count as one key), and the distinct keys that repeat."""
    missing = len(own) - int(np.count_nonzero(has_id))
    keys = pl.Series("k", own[has_id] if missing else own)
    # Hashed on polars' threads: about half the CPU time of a NumPy sort (100 k to 10 M keys: 3.8 vs
    # 6.8 ms, 0.36 vs 0.81 s; polars 2.1, NumPy 2.4; the same through a lazy select costs twice as
    # much). Repeats are rare: only then are the keys sorted to name them.
    distinct = keys.n_unique()
    repeated = len(keys) - distinct + max(missing - 1, 0)
    if len(keys) == distinct:
        return repeated, np.empty(0, dtype=own.dtype)
    ordered = keys.sort().to_numpy()
    same = ordered[1:] == ordered[:-1]
    return repeated, np.unique(ordered[1:][same])


def _join(own: np.ndarray, has_id: np.ndarray, parent: np.ndarray, children: np.ndarray, *,
          first_of_repeats: bool) -> tuple[np.ndarray, np.ndarray]:
    """(child row, parent row) for each of ``children`` whose parent key is an own key (a hash join)."""
    rows = np.flatnonzero(has_id).astype(np.int32)
    right = pl.DataFrame({"k": own[rows], "row": rows})
    if first_of_repeats:
        right = right.unique(subset="k", keep="first", maintain_order=False)
    probe = pl.DataFrame({"k": parent[children], "child": children.astype(np.int32)})
    # An unordered inner join (each key is unique on the right): about half the time of a left join
    # that keeps the probe order (polars 2.1, measured at 1 M and 10 M).
    pairs = probe.lazy().join(right.lazy(), on="k", how="inner").select("child", "row").collect()
    return pairs.get_column("child").to_numpy(), pairs.get_column("row").to_numpy()


# How far from a span its parent is looked for first, in rows of the file (either way).
_NEARBY = 32


def _nearby(own: np.ndarray, parent: np.ndarray, has_parent: np.ndarray) -> np.ndarray:
    """The row of each span's parent when it lies within ``_NEARBY`` rows of the span, else -1.

    Exports write a trace's spans together, so a parent is usually a few rows away: comparing every
    parent key with the own key ``d`` rows away is one vector pass per distance, where a hash join
    builds a table of every key. A direction stops when a step finds under 1 % of the spans still
    looked for (rows not grouped by trace give up after one step and go to the join).
    """
    n = len(own)
    up = np.full(n, -1, dtype=np.int32)
    todo = has_parent.copy()
    left = int(np.count_nonzero(todo))
    hit = np.empty(n, dtype=bool)
    row = np.arange(n, dtype=np.int32)
    # Whole-column passes with masks, no index lists: memory-bound work, a third faster at 10 M rows.
    for sign in (1, -1):  # the parent above the span, then below it
        for distance in range(1, min(_NEARBY, n - 1) + 1):
            if left == 0:
                break
            if sign > 0:
                hit[:distance] = False
                np.equal(parent[distance:], own[:-distance], out=hit[distance:])
            else:
                hit[n - distance:] = False
                np.equal(parent[:-distance], own[distance:], out=hit[:-distance])
            hit &= todo
            found = int(np.count_nonzero(hit))
            if found:
                np.subtract(row, sign * distance, out=up, where=hit)
                todo ^= hit  # hit is a part of todo
                left -= found
            if found * 100 < left:
                break
    return up


def check_span_tree(spans: pl.DataFrame, *, source: str, report: LoadReport) -> pl.DataFrame:
    """Report spans whose parent is not in the table (orphans) and repeated span ids; raise on a cycle.

    Parent links are resolved within a trace. A parent id that no span has and that spells a root
    ('root', '0', '', 'null', ...; see ``is_spelled_root``) is made null: the span is a root, not an
    orphan. A parent cycle (a span that is its own ancestor) would make every trace walk loop
    forever, so it is a DataError naming the trace and span ids. Returns the spans with spelled roots
    made null.
    """
    if spans.height == 0:
        return spans
    spans, parent_row = _parent_rows(spans, source=source, report=report)
    _check_cycles(spans, parent_row, source)
    return spans


def _parent_rows(spans: pl.DataFrame, *, source: str, report: LoadReport) -> tuple[pl.DataFrame, np.ndarray]:
    """The row of each span's parent (-1 for roots and orphans), with spelled roots made null;
    repeated ids and orphans are reported."""
    n = spans.height
    # Memory matters at ten million spans: 32-bit row numbers, and every temporary dropped early.
    own, parent, has_id, has_parent = _keys(spans)
    repeats = _POOL.submit(_repeats, own, has_id)  # runs while the parents are looked for
    every_id = bool(has_id.all())
    # Look for each parent near its span first (see _nearby); join what is left.
    parent_row = _nearby(own, parent, has_parent) if every_id else np.full(n, -1, dtype=np.int32)
    repeated, repeated_keys = repeats.result()
    todo = has_parent & (parent_row < 0)
    if repeated:
        report.add(source, "span_id", "kept spans whose (trace_id, span_id) repeats an earlier span", repeated,
                   "parent links resolve to the first span with that id")
        # A parent id that several spans have links to the first of them, which the join finds.
        at = np.minimum(np.searchsorted(repeated_keys, parent), len(repeated_keys) - 1)
        todo |= has_parent & (repeated_keys[at] == parent)  # np.isin sorted every key: 4x slower
    left = np.flatnonzero(todo)
    del todo, has_parent
    parent_row[left] = -1
    if len(left):
        spans, left = _null_spelled_roots(spans, left)
    if len(left):
        child, up = _join(own, has_id, parent, left, first_of_repeats=bool(repeated) or not every_id)
        parent_row[child] = up
        left = np.setdiff1d(left, child, assume_unique=True)
    del own, parent, has_id
    if len(left):
        report.add(source, "parent_id", "kept orphan spans (their parent is not in the data)", len(left),
                   "the parent span was not exported or lies outside the file; trace trees are incomplete")
    return spans, parent_row


def _null_spelled_roots(spans: pl.DataFrame, rows: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    """Make null the parent ids of ``rows`` that spell a root; return the spans and the other rows."""
    spelled = is_spelled_root(spans.get_column("parent_id").gather(rows)).to_numpy()
    if not spelled.any():
        return spans, rows
    column = spans.get_column("parent_id").clone()
    column.scatter(rows[spelled], None)
    return spans.with_columns(column), rows[~spelled]
_CHASE_STEPS = 64


def _no_cycle_quick(parent_row: np.ndarray, start: np.ndarray | None) -> bool:
    """True when no parent cycle can exist, found cheaply; False means "look closer".

    Neither row numbers nor start times can fall all the way round a loop, so a cycle holds a span
    whose parent lies at the same or a later row, and one whose parent does not start before it
    (in exports parents are mostly written first, and start first but for clock skew). Walking up
    from the smaller of those two sets alone, a walk that reaches a root within ``_CHASE_STEPS``
    steps is not on a cycle; when every walk does, there is none.
    """
    forward = np.flatnonzero(parent_row >= np.arange(len(parent_row), dtype=parent_row.dtype))
    if len(forward) and start is not None:
        linked = np.flatnonzero(parent_row >= 0)
        by_time = linked[start[parent_row[linked]] >= start[linked]]
        forward = by_time if len(by_time) < len(forward) else forward
    if len(forward) == 0:
        return True
    node = forward
    for _ in range(_CHASE_STEPS):
        node = parent_row[node]
        node = node[node >= 0]
        if len(node) == 0:
            return True
    return False


def _check_cycles(spans: pl.DataFrame, parent_row: np.ndarray, source: str) -> None:
    start = spans.get_column("start").to_physical().to_numpy() if "start" in spans.columns else None
    if _no_cycle_quick(parent_row, start):
        return
    n = len(parent_row)
    index = np.arange(n, dtype=parent_row.dtype)
    terminal = parent_row < 0
    ancestor = np.where(terminal, index, parent_row)
    # Pointer doubling: after k rounds ancestor[i] is 2**k steps up (or the root). Trees settle in
    # log2(depth) rounds; a span still not at a root after log2(n) + 1 rounds is in or below a cycle.
    for _ in range(int(np.ceil(np.log2(max(n, 2)))) + 1):
        if terminal[ancestor].all():
            return
        ancestor = ancestor[ancestor]
    stuck = np.flatnonzero(~terminal[ancestor])
    if len(stuck) == 0:
        return
    # Walk up from the first stuck span until a span repeats: that loop is the cycle.
    seen: dict[int, int] = {}
    path: list[int] = []
    node = int(stuck[0])
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = int(parent_row[node])
    cycle = path[seen[node]:]
    trace_ids = spans.get_column("trace_id")
    span_ids = spans.get_column("span_id")
    parent_ids = spans.get_column("parent_id")
    for child in cycle:
        up = int(parent_row[child])
        if parent_ids[child] != span_ids[up] or trace_ids[child] != trace_ids[up]:
            return  # two different ids shared a 64-bit key; not a real cycle
    names = [str(span_ids[i]) for i in cycle]
    loop = " -> ".join([*names, names[0]]) if len(names) > 1 else f"{names[0]} -> {names[0]}"
    cyclic = int((~terminal[ancestor]).sum())
    raise DataError(
        f"spans form a parent cycle in trace {trace_ids[cycle[0]]!r}: {loop} (child -> parent; "
        f"{cyclic} spans are in or below a cycle)",
        source=source, column="parent_id", row=cycle[0],
        hint="A span cannot be its own ancestor; fix the parent_id of one of these spans or remove the trace",
    )
