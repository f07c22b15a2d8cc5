"""The bad-input corpus: each malformed file gives a clear error or a reported coercion (README.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from rcakit.errors import DataError, SchemaError
from rcakit.telemetry.loaders import (
    load,
    read_csv,
    read_jaeger_json,
    read_otlp_json,
    read_prometheus_json,
)
from tests.badinput.make_corpus import CASES, FILES, make_large


def f(name: str) -> Path:
    return FILES / name


def error(exc_type: type[Exception], name: str, call, **kwargs) -> DataError:  # type: ignore[no-untyped-def]
    """Call a loader on a corpus file, expect ``exc_type`` and a message naming the file."""
    with pytest.raises(exc_type) as info:
        call(f(name), **kwargs)
    exc = info.value
    assert isinstance(exc, DataError)
    assert name in str(exc), f"the message does not name the file: {exc}"
    assert exc.source is not None and exc.source.endswith(name)
    assert exc.hint, "every error says what to do"
    return exc


def test_committed_corpus_matches_the_script() -> None:
    assert len(CASES) >= 25
    for name, data in CASES.items():
        assert f(name).read_bytes() == data, f"{name} differs from make_corpus.py; run it again"


# -- shape of the file --------------------------------------------------------------------------
def test_empty_file() -> None:
    exc = error(DataError, "empty.csv", read_csv)
    assert "empty" in exc.problem


def test_header_only_is_an_empty_table() -> None:
    tel = read_csv(f("header_only.csv"))
    assert tel.metrics.height == 0 and not tel.report


def test_file_without_header() -> None:
    error(DataError, "no_header.csv", read_csv)


def test_truncated_csv_names_the_cut_line() -> None:
    exc = error(DataError, "truncated.csv", read_csv)
    assert "truncated" in exc.problem
    assert exc.row == 4 and exc.column == "metric"


def test_text_cut_before_gzip(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "cut_then_zipped.csv.gz"
    path.write_bytes(gzip.compress(CASES["truncated.csv"]))
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert "truncated" in info.value.problem and info.value.row == 4


def test_truncated_gzip() -> None:
    exc = error(DataError, "truncated.csv.gz", read_csv)
    assert "truncated" in exc.problem


def test_wrong_delimiter_given_explains_the_sniffed_one() -> None:
    exc = error(SchemaError, "wrong_delimiter.csv", read_csv, separator=",")
    assert exc.column == "time"
    assert "separator=';'" in (exc.hint or "")


def test_semicolon_file_is_sniffed_and_reported() -> None:
    tel = read_csv(f("wrong_delimiter.csv"))
    assert tel.metrics.height == 4
    assert tel.report.find("delimiter ';'")


def test_pipe_delimiter_is_sniffed() -> None:
    tel = read_csv(f("pipe_delimited.csv"))
    assert tel.metrics.get_column("value").to_list() == [0.5, 1.5, 2.5, 3.5]
    assert tel.report.find("delimiter '|'")


def test_row_with_extra_fields() -> None:
    exc = error(DataError, "ragged_row.csv", read_csv)
    assert exc.row == 4 and "5 fields" in exc.problem


def test_missing_required_column() -> None:
    exc = error(SchemaError, "missing_column.csv", read_csv)
    assert exc.column == "value"
    assert "columns=" in (exc.hint or "")


def test_utf8_byte_order_mark_is_ignored() -> None:
    tel = read_csv(f("utf8_bom.csv"))
    assert tel.metrics.height == 4


# -- values -------------------------------------------------------------------------------------
def test_non_numeric_values_become_null_and_are_counted() -> None:
    tel = read_csv(f("non_numeric.csv"))
    assert tel.metrics.height == 6, "no row is dropped"
    (coercion,) = tel.report.find("non-numbers")
    assert coercion.rows == 2 and coercion.column == "value" and not coercion.dropped
    assert tel.metrics.get_column("value").null_count() == 2


def test_nan_and_inf_become_null_and_are_counted() -> None:
    tel = read_csv(f("nan_inf.csv"))
    assert tel.metrics.height == 7
    assert tel.report.find("NaN")[0].rows == 1
    assert tel.report.find("infinite")[0].rows == 2
    assert tel.metrics.get_column("value").null_count() == 3


def test_empty_entity_names_the_row() -> None:
    exc = error(DataError, "empty_entity.csv", read_csv)
    assert exc.column == "entity" and exc.row == 4


def test_non_utf8_bytes_are_replaced_and_reported() -> None:
    tel = read_csv(f("latin1.csv"), kind="logs")
    assert tel.logs.height == 2
    (coercion,) = tel.report.find("UTF-8")
    assert coercion.column == "message" and coercion.rows == 1
    assert "\ufffd" in tel.logs.get_column("message")[0]


def test_non_utf8_with_the_right_encoding_decodes() -> None:
    tel = read_csv(f("latin1.csv"), kind="logs", encoding="latin-1")
    assert tel.logs.get_column("message")[0] == "caf\xe9 ready"
    assert not tel.report.find("UTF-8")


# -- time ---------------------------------------------------------------------------------------
def test_duplicate_timestamps_are_kept_and_reported() -> None:
    tel = read_csv(f("duplicate_timestamps.csv"))
    assert tel.metrics.height == 5
    assert tel.report.find("duplicate")[0].rows == 2


def test_unordered_rows_are_sorted_and_reported() -> None:
    tel = read_csv(f("unordered.csv"))
    assert tel.metrics.get_column("time").is_sorted()
    assert tel.metrics.get_column("value").to_list() == [0.5, 1.5, 2.5, 3.5]
    assert tel.report.find("sorted")[0].rows == 4


def test_naive_times_are_read_as_utc_and_reported() -> None:
    tel = read_csv(f("naive_times.csv"))
    assert tel.metrics.get_column("time")[0] == datetime(2023, 1, 30, 12, 0, tzinfo=UTC)
    assert tel.report.find("naive")[0].rows == 2


def test_mixed_time_zones_are_converted_to_utc() -> None:
    tel = read_csv(f("mixed_timezones.csv"))
    times = tel.metrics.get_column("time").to_list()
    assert times == [datetime(2023, 1, 30, 12, m, tzinfo=UTC) for m in range(4)]
    assert tel.report.find("naive")[0].rows == 1


@pytest.mark.parametrize("unit", ["s", "ms", "ns"])
def test_epoch_units_are_recognised(unit: str) -> None:
    tel = read_csv(f(f"epoch_{unit}.csv"))
    assert tel.metrics.get_column("time").to_list() == [
        datetime(2023, 1, 30, 12, 0, tzinfo=UTC), datetime(2023, 1, 30, 12, 1, tzinfo=UTC)]
    assert tel.report.find(f"epoch {unit}")


def test_time_unit_overrides_the_guess() -> None:
    tel = read_csv(f("epoch_ms.csv"), time_unit="ms")
    assert not tel.report.find("epoch")
    assert tel.metrics.get_column("time")[0] == datetime(2023, 1, 30, 12, 0, tzinfo=UTC)


def test_unreadable_time_names_the_row() -> None:
    exc = error(DataError, "bad_time.csv", read_csv)
    assert exc.column == "time" and exc.row == 4 and "yesterday" in exc.problem


def test_missing_time_names_the_row() -> None:
    exc = error(DataError, "missing_time.csv", read_csv)
    assert exc.column == "time" and exc.row == 1


def test_zero_time_is_kept_and_reported() -> None:
    tel = read_csv(f("zero_time.csv"), kind="logs")
    assert tel.logs.height == 3
    (coercion,) = tel.report.find("before 1980")
    assert coercion.rows == 1 and not coercion.dropped


# -- spans --------------------------------------------------------------------------------------
def test_orphan_spans_are_counted() -> None:
    tel = read_csv(f("orphan_spans.csv"), kind="spans")
    assert tel.spans.height == 4
    (coercion,) = tel.report.find("orphan")
    assert coercion.rows == 2 and coercion.column == "parent_id"


def test_parent_cycle_names_trace_and_spans() -> None:
    exc = error(DataError, "cycle_spans.csv", read_csv, kind="spans")
    assert "'t2'" in exc.problem and all(s in exc.problem for s in ("x", "y", "z"))
    assert exc.column == "parent_id"
    assert exc.row is not None


def test_span_that_is_its_own_parent_is_a_cycle() -> None:
    exc = error(DataError, "self_parent_span.csv", read_csv, kind="spans")
    assert "'t9'" in exc.problem and "s1 -> s1" in exc.problem


def test_repeated_span_ids_are_reported() -> None:
    tel = read_csv(f("duplicate_span_ids.csv"), kind="spans")
    assert tel.spans.height == 2
    assert tel.report.find("repeats")[0].rows == 1


def test_span_ending_before_start() -> None:
    exc = error(DataError, "span_ends_before_start.csv", read_csv, kind="spans")
    assert exc.row == 0


# -- wire formats -------------------------------------------------------------------------------
def test_json_that_is_not_otlp_says_what_it_is() -> None:
    exc = error(DataError, "not_otlp.json", read_otlp_json)
    assert "Jaeger" in exc.problem


def test_load_refuses_unknown_json() -> None:
    exc = error(DataError, "unknown.json", load)
    assert "hello" in exc.problem


def test_truncated_json() -> None:
    exc = error(DataError, "truncated_otlp.json", read_otlp_json)
    assert "truncated" in exc.problem and exc.row is not None


def test_otlp_without_service_name_is_reported() -> None:
    tel = read_otlp_json(f("otlp_no_service.json"))
    assert tel.entities() == ["unknown_service"]
    assert tel.report.find("service.name")[0].rows == 1
    assert tel.logs.get_column("level").to_list() == ["ERROR"]


def test_prometheus_error_response() -> None:
    exc = error(DataError, "prometheus_error.json", read_prometheus_json)
    assert "bad_data" in exc.problem and "parse error" in exc.problem


def test_prometheus_nan_and_inf() -> None:
    tel = read_prometheus_json(f("prometheus_nan_inf.json"))
    assert tel.metrics.height == 4
    assert tel.metrics.get_column("value").to_list() == [0.5, None, None, None]
    assert tel.report.find("NaN")[0].rows == 1 and tel.report.find("infinite")[0].rows == 2


def test_prometheus_scalar_is_refused() -> None:
    exc = error(DataError, "prometheus_scalar.json", read_prometheus_json)
    assert exc.column == "resultType"


def test_jaeger_unknown_process() -> None:
    exc = error(DataError, "jaeger_unknown_process.json", read_jaeger_json)
    assert "'p9'" in exc.problem and "'b'" in exc.problem and "'p1'" in exc.problem


def test_wide_non_numeric_is_reported_per_column() -> None:
    tel = read_csv(f("wide_non_numeric.csv"), layout="wide")
    assert tel.metrics.height == 4
    (coercion,) = tel.report.find("non-numbers")
    assert coercion.column == "cart:cpu" and coercion.rows == 1


# -- the two large cases, made on the fly ---------------------------------------------------------
@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_large(tmp_path_factory.mktemp("badinput"))


def test_one_megabyte_log_line_is_kept(large: dict[str, Path]) -> None:
    tel = read_csv(large["long_line"], kind="logs")
    lengths = tel.logs.get_column("message").str.len_chars().to_list()
    assert lengths == [1 << 20, 5]


def test_bad_value_far_down_the_file(large: dict[str, Path]) -> None:
    tel = read_csv(large["late_non_numeric"])
    assert tel.metrics.height == 20_001
    (coercion,) = tel.report.find("non-numbers")
    assert coercion.rows == 1 and "twelve" in coercion.reason
    assert tel.metrics.filter(pl.col("value").is_null()).height == 1
