"""Spans: parent cycles, orphans, repeated ids, negative durations, ends before starts, missing ids."""

from __future__ import annotations

from rcakit.telemetry.loaders import read_csv
from tests.badinput.cases import Case
from tests.badinput.cases._helpers import CLEAN, COERCED, REJECTED, all_of, coerced, file_case, heights, where

SPANS = "spans"


def spans_case(id: str, name: str, expect: object, describe: str, check: object = None) -> Case:
    return file_case(id, SPANS, name, read_csv, expect, describe, check, kind="spans")  # type: ignore[arg-type]


CASES: list[Case] = [
    spans_case("orphan-spans", "orphan_spans.csv", COERCED, "kept, reported 'kept orphan spans', 2 rows",
               all_of(heights(spans=4), coerced("orphan", rows=2, column="parent_id"))),
    spans_case("parent-in-other-trace", "parent_in_other_trace.csv", COERCED,
               "a parent id found only in another trace is an orphan: kept, reported",
               all_of(heights(spans=2), coerced("orphan", rows=1))),
    spans_case("parent-cycle", "cycle_spans.csv", REJECTED,
               "DataError naming trace `t2` and the loop `x -> y -> z -> x`, column `parent_id`",
               where("parent_id", None, "'t2'", "x", "y", "z")),
    spans_case("self-parent", "self_parent_span.csv", REJECTED, "DataError 'parent cycle in trace 't9': s1 -> s1'",
               where("parent_id", None, "'t9'", "s1 -> s1")),
    spans_case("cycle-beside-valid-trace", "cycle_beside_tree.csv", REJECTED,
               "a 4-span loop in trace `t3` beside a valid trace: DataError naming `t3` and the loop, row 2",
               where("parent_id", 2, "'t3'", "p -> q -> r -> s -> p")),
    spans_case("repeated-span-ids", "duplicate_span_ids.csv", COERCED,
               "kept, reported 'kept spans whose (trace_id, span_id) repeats', 1 row",
               all_of(heights(spans=2), coerced("repeats", rows=1))),
    spans_case("end-before-start", "span_ends_before_start.csv", REJECTED,
               "DataError 'a span ends before it starts', column `end`, row 0", where("end", 0)),
    file_case("negative-duration", SPANS, "negative_duration_spans.csv", read_csv, REJECTED,
              "DataError 'a span has a negative duration (-0.5)', column `duration`, row 1",
              where("duration", 1, "-0.5"), kind="spans"),
    spans_case("zero-duration", "zero_duration_span.csv", COERCED,
               "a span of zero length is valid: kept (epoch ms guess reported)",
               all_of(heights(spans=1), lambda t: t.spans.get_column("duration").to_list() == [0.0])),
    spans_case("span-without-id", "span_without_id.csv", REJECTED, "DataError 'a span has no span_id', row 0",
               where("span_id", 0)),
    spans_case("unreadable-start", "span_bad_start.csv", REJECTED, "DataError naming 'soon', column `start`, row 0",
               where("start", 0, "soon")),
    spans_case("spans-without-end-or-duration", "spans_without_end.csv", REJECTED,
               "SchemaError 'neither end nor duration', column `end`", where("end")),
    file_case("spans-header-only", SPANS, "header_only_spans.csv", read_csv, CLEAN, "no spans, no coercion",
              heights(), kind="spans", separator=","),
]
