"""The loaders' fast paths give the same tables and the same reports as the general ones.

Parquet files of many row groups read in time order (spans keep the file's order), zoned ISO times read by Arrow (and every other
shape falling back to the parsers that report), root spellings of parent ids, level clean-up only
when needed, and the span-tree join.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from rcakit.errors import DataError
from rcakit.telemetry import LoadReport
from rcakit.telemetry._schema import parse_zoned_times
from rcakit.telemetry.loaders import read_csv, read_parquet
from rcakit.telemetry.loaders._common import gather
from rcakit.telemetry.loaders._spans import check_span_tree

T0 = 1_675_080_000_000_000_000  # 2023-01-30T12:00:00Z in ns


def _spans(n: int, seed: int) -> pl.DataFrame:
    """``n`` spans in traces of 5 (a chain under one root), rows shuffled."""
    rng = np.random.default_rng(seed)
    index = np.arange(n)
    k = index % 5
    start = T0 + rng.integers(0, 10**12, n)
    frame = pl.DataFrame({
        "trace_id": [f"t{i // 5:06d}-{'x' * 20}" for i in index],
        "span_id": [f"s{i:08d}-{'y' * 10}" for i in index],
        "parent_id": [None if kk == 0 else f"s{i - 1:08d}-{'y' * 10}" for i, kk in zip(index, k, strict=True)],
        "entity": [f"service-{i % 7}-with-a-long-name" for i in index],
        "operation": [f"GET /api/v1/operation/{i % 11}" for i in index],
        "start": pl.Series(start).cast(pl.Datetime("ns", "UTC")),
        "end": pl.Series(start + rng.integers(1, 10**9, n)).cast(pl.Datetime("ns", "UTC")),
    })
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)


def _logs_of(spans: pl.DataFrame) -> pl.DataFrame:
    """Log lines at the spans' start times, in the spans' row order."""
    return spans.select(pl.col("start").alias("time"), "entity", pl.col("operation").alias("message"),
                        "trace_id", "span_id", *(["row"] if "row" in spans.columns else []))


def test_parquet_of_many_row_groups_is_read_in_time_order(tmp_path: Path) -> None:
    logs = _logs_of(_spans(5_000, seed=1))
    path = tmp_path / "logs.parquet"
    logs.write_parquet(path, row_group_size=300)
    tel = read_parquet(path, kind="logs")
    expected = logs.sort("time", maintain_order=True)
    got = tel.logs.select(expected.columns)
    assert got.equals(expected)
    assert [c.action for c in tel.report] == ["sorted rows by time"]


def test_spans_keep_the_order_of_the_file(tmp_path: Path) -> None:
    # Spans are not put in time order: a trace's spans stay together, as the exporter wrote them.
    spans = _spans(5_000, seed=1)
    path = tmp_path / "spans.parquet"
    spans.write_parquet(path, row_group_size=300)
    tel = read_parquet(path, kind="spans")
    assert not tel.spans.get_column("start").is_sorted()
    assert tel.spans.select(spans.columns).equals(spans)
    assert not tel.report.find("sorted") and not tel.report.find("orphan")


def test_gather_of_a_chunked_string_column_equals_a_plain_gather() -> None:
    parts = [pl.Series("s", [f"value-{i:05d}-long-enough-to-be-stored-apart" for i in range(j, j + 50)])
             for j in range(0, 500, 50)]
    chunked = parts[0]
    for part in parts[1:]:
        chunked = chunked.append(part)
    assert chunked.n_chunks() > 1
    index = pl.Series(np.random.default_rng(2).permutation(500).astype(np.uint32))
    assert gather(chunked, index).to_list() == [chunked.to_list()[i] for i in index.to_list()]


@pytest.mark.parametrize("text, expected", [
    ("2023-01-30T12:38:15.808553146Z", "2023-01-30T12:38:15.808553146"),
    ("2023-01-30T12:38:15Z", "2023-01-30T12:38:15.000000000"),
    ("2023-01-30T14:38:15.5+02:00", "2023-01-30T12:38:15.500000000"),
    ("2023-01-30T07:38:15-0500", "2023-01-30T12:38:15.000000000"),
])
def test_zoned_iso_times_are_read_as_utc(text: str, expected: str) -> None:
    parsed = parse_zoned_times(pl.Series("time", [text, text]))
    assert parsed is not None and parsed.dtype == pl.Datetime("ns", "UTC")
    assert parsed.dt.strftime("%Y-%m-%dT%H:%M:%S%.9f").to_list() == [expected, expected]


@pytest.mark.parametrize("odd", ["2023-01-30T12:38:15", " 2023-01-30T12:38:15Z", "30/01/2023 12:38", "soon", ""])
def test_one_unzoned_or_odd_value_leaves_the_column_to_the_general_parser(odd: str) -> None:
    assert parse_zoned_times(pl.Series("time", ["2023-01-30T12:38:15Z", odd])) is None


def test_csv_with_one_naive_time_among_zoned_ones_reports_it(tmp_path: Path) -> None:
    path = tmp_path / "logs.csv"
    path.write_text("time,entity,message\n2023-01-30T12:00:00Z,a,x\n2023-01-30T12:00:01,a,y\n"
                    "2023-01-30T14:00:02+02:00,a,z\n")
    tel = read_csv(path, kind="logs")
    assert tel.logs.get_column("time").dt.strftime("%H:%M:%S").to_list() == ["12:00:00", "12:00:01", "12:00:02"]
    naive = tel.report.find("naive")
    assert naive and naive[0].rows == 1


def test_csv_with_offsets_is_converted_without_a_naive_report(tmp_path: Path) -> None:
    path = tmp_path / "logs.csv.gz"
    pl.DataFrame({
        "time": ["2023-01-30T13:00:00+01:00", "2023-01-30T12:00:01Z", "2023-01-30T07:00:02-05:00"],
        "entity": ["a", "b", "c"], "message": ["x", "y", "z"],
    }).write_csv(path, compression="gzip")
    tel = read_csv(path, kind="logs")
    assert tel.logs.get_column("time").dt.strftime("%H:%M:%S").to_list() == ["12:00:00", "12:00:01", "12:00:02"]
    assert not tel.report.find("naive")


def test_empty_time_among_zoned_ones_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "logs.csv"
    path.write_text('time,entity,message\n2023-01-30T12:00:00Z,a,x\n"",a,y\n')
    with pytest.raises(DataError) as info:
        read_csv(path, kind="logs")
    assert info.value.column == "time"


def test_root_spellings_become_null_and_other_parents_are_kept_as_written(tmp_path: Path) -> None:
    roots = ["root", " 0 ", "0000000000000000", "None", "null", "  "]
    frame = pl.DataFrame({
        "trace_id": ["t"] * 8,
        "span_id": [f"r{i}" for i in range(6)] + ["c1", "c2"],
        "parent_id": [*roots, "r0", " r1"],
        "entity": ["svc"] * 8,
        "start": list(range(T0, T0 + 8)),
        "end": list(range(T0 + 10, T0 + 18)),
    })
    path = tmp_path / "spans.parquet"
    frame.write_parquet(path)
    tel = read_parquet(path, kind="spans", time_unit="ns")
    parents = dict(zip(tel.spans.get_column("span_id"), tel.spans.get_column("parent_id"), strict=True))
    assert all(parents[f"r{i}"] is None for i in range(6))
    assert parents["c1"] == "r0" and parents["c2"] == " r1"  # kept as written: ' r1' is no root spelling
    orphans = tel.report.find("orphan")
    assert orphans and orphans[0].rows == 1  # ' r1' names no span


@pytest.mark.parametrize("levels, expected", [
    (["INFO", "WARN", None], ["INFO", "WARN", None]),
    (["info", " Warn ", "ERROR"], ["INFO", "WARN", "ERROR"]),
])
def test_levels_are_stripped_and_upper_cased(tmp_path: Path, levels: list[str | None], expected: list[str | None]
                                             ) -> None:
    frame = pl.DataFrame({"time": [T0, T0 + 1, T0 + 2], "entity": ["a"] * 3, "level": levels,
                          "message": ["x", "y", "z"]})
    path = tmp_path / "logs.parquet"
    frame.write_parquet(path)
    assert read_parquet(path, kind="logs", time_unit="ns").logs.get_column("level").to_list() == expected


def test_span_tree_counts_orphans_and_repeats_like_a_direct_count() -> None:
    rng = np.random.default_rng(5)
    spans = _spans(3_000, seed=5)
    # Point some parents at spans that do not exist, and repeat some span ids.
    broken = rng.choice(3_000, 40, replace=False)
    parent = spans.get_column("parent_id").to_list()
    for i in broken[:25]:
        parent[i] = f"missing-{i}"
    spans = spans.with_columns(pl.Series("parent_id", parent))
    # Export the same spans twice (as a retrying exporter does).
    spans = pl.concat([spans, spans.gather(broken[25:])])
    parent = spans.get_column("parent_id").to_list()
    report = LoadReport()
    check_span_tree(spans, source="x", report=report)
    keys = set(zip(spans.get_column("trace_id"), spans.get_column("span_id"), strict=True))
    expected_orphans = sum(1 for t, p in zip(spans.get_column("trace_id"), parent, strict=True)
                           if p is not None and (t, p) not in keys)
    expected_repeats = spans.height - len(keys)
    orphans, repeats = report.find("orphan"), report.find("repeats")
    assert expected_repeats > 0 and expected_orphans >= 25
    assert orphans and orphans[0].rows == expected_orphans
    assert repeats and repeats[0].rows == expected_repeats


def test_a_cycle_is_still_found() -> None:
    spans = pl.DataFrame({"trace_id": ["t"] * 4, "span_id": ["a", "b", "c", "d"],
                          "parent_id": [None, "c", "b", "a"]})
    with pytest.raises(DataError, match="cycle"):
        check_span_tree(spans, source="x", report=LoadReport())


@pytest.mark.parametrize("reverse", [False, True])
def test_deep_chains_pass_and_a_cycle_among_them_is_found(reverse: bool) -> None:
    # A chain of 300 spans (deeper than the quick walk), parents listed after or before their children.
    ids = [f"s{i}" for i in range(300)]
    parents: list[str | None] = [None, *ids[:-1]]
    frame = pl.DataFrame({"trace_id": ["t"] * 300, "span_id": ids, "parent_id": parents})
    if reverse:
        frame = frame.reverse()
    check_span_tree(frame, source="x", report=LoadReport())
    looped = frame.with_columns(
        pl.when(pl.col("span_id") == "s0").then(pl.lit("s299")).otherwise(pl.col("parent_id")).alias("parent_id"))
    with pytest.raises(DataError, match="cycle"):
        check_span_tree(looped, source="x", report=LoadReport())


@pytest.mark.parametrize("shuffle", [False, True])
def test_trace_grouped_and_shuffled_logs_sort_stably_alike(tmp_path: Path, shuffle: bool) -> None:
    # Log lines written trace by trace (traces in time order, lines of a trace overlapping the next
    # traces: the timsort path) or shuffled (the polars path), with many tied times: both give the
    # stable sort of polars, and say so once.
    rng = np.random.default_rng(5)
    n, per = 6_000, 6
    index = np.arange(n)
    roots = T0 + np.sort(rng.integers(0, 10**10, n // per)) // 10**6 * 10**6
    start = roots[index // per] + (index % per) * rng.integers(0, 3, n) * 10**7
    spans = _spans(n, seed=3).sort("span_id").with_columns(
        pl.Series("start", start).cast(pl.Datetime("ns", "UTC")),
        (pl.Series("start", start) + 10**6).cast(pl.Datetime("ns", "UTC")).alias("end"),
        pl.Series("row", index))
    if shuffle:
        spans = spans.sample(fraction=1.0, shuffle=True, seed=4)
    values = spans.get_column("start").dt.epoch("ns").to_numpy()
    descents = int(np.count_nonzero(values[1:] < values[:-1]))
    assert (descents < 0.35 * n) != shuffle  # each case takes the path it is meant to test
    logs = _logs_of(spans)
    path = tmp_path / "logs.parquet"
    logs.write_parquet(path, row_group_size=1_000)
    tel = read_parquet(path, kind="logs")
    expected = logs.sort("time", maintain_order=True)
    assert tel.logs.select(expected.columns).equals(expected)
    assert [c.action for c in tel.report] == ["sorted rows by time"]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_cycle_in_rows_out_of_time_order_names_the_file_row(tmp_path: Path, fmt: str) -> None:
    spans = _spans(500, seed=9)
    # Span 'a' -> 'b' -> 'a' in one trace, written at the end of the file but starting first.
    loop = pl.DataFrame({
        "trace_id": ["loop-trace"] * 2, "span_id": ["loop-a", "loop-b"], "parent_id": ["loop-b", "loop-a"],
        "entity": ["svc"] * 2, "operation": ["op"] * 2,
        "start": pl.Series([T0 - 10**9, T0 - 10**9 + 5]).cast(pl.Datetime("ns", "UTC")),
        "end": pl.Series([T0, T0]).cast(pl.Datetime("ns", "UTC")),
    })
    frame = pl.concat([spans, loop])
    path = tmp_path / f"spans.{fmt}"
    if fmt == "parquet":
        frame.write_parquet(path)
        read = read_parquet
    else:
        frame.with_columns(pl.col("start").dt.epoch("ns"), pl.col("end").dt.epoch("ns")).write_csv(path)
        read = read_csv
    with pytest.raises(DataError, match="cycle") as info:
        read(path, kind="spans")
    assert info.value.source == str(path)
    assert info.value.row is not None and info.value.row >= 500, "the row of the file, not of the sorted table"
    assert frame.get_column("span_id")[info.value.row] in ("loop-a", "loop-b")
