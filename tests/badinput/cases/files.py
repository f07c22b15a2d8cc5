"""Shape of the file: empty, header only, truncated CSV / Parquet / gzip, encodings, delimiters, size."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import polars as pl

from rcakit.errors import SchemaError
from rcakit.telemetry.loaders import read_csv, read_parquet
from tests.badinput.cases import Case
from tests.badinput.cases._helpers import (
    CLEAN,
    COERCED,
    REJECTED,
    all_of,
    coerced,
    f,
    file_case,
    heights,
    says,
    where,
)

SHAPE, ENCODING, DELIMITER, SIZE = "file shape", "encoding", "delimiter", "size"


def _error_type(kind: type[Exception]) -> Any:
    def check(exc: Any) -> None:
        assert isinstance(exc, kind), f"{type(exc).__name__}, expected {kind.__name__}"
    return check


# -- made on the fly -------------------------------------------------------------------------------
def _parquet_bytes() -> bytes:
    frame = pl.DataFrame({"time": ["2023-01-30T12:00:00Z"] * 3, "entity": ["a", "b", "c"], "metric": ["cpu"] * 3,
                          "value": [1.0, 2.0, 3.0]})
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _truncated_parquet(folder: Path) -> Any:
    path = folder / "truncated.parquet"
    data = _parquet_bytes()
    path.write_bytes(data[: len(data) // 2])
    return read_parquet(path)


def _empty_parquet(folder: Path) -> Any:
    path = folder / "empty.parquet"
    path.write_bytes(b"")
    return read_parquet(path)


def _text_parquet(folder: Path) -> Any:
    path = folder / "text.parquet"
    path.write_bytes(f("crlf.csv").read_bytes())
    return read_parquet(path)


def _cut_then_gzipped(folder: Path) -> Any:
    path = folder / "cut_then_zipped.csv.gz"
    path.write_bytes(gzip.compress(f("truncated.csv").read_bytes(), mtime=0))
    return read_csv(path)


def _long_line(folder: Path) -> Any:
    path = folder / "ten_megabyte_line.csv"
    message = "x" * (10 << 20)
    path.write_text(f"time,entity,level,message\n2023-01-30T12:00:00Z,cart,INFO,{message}\n"
                    "2023-01-30T12:00:01Z,cart,INFO,short\n")
    return read_csv(path, kind="logs", separator=",")


def _million_entities(folder: Path) -> Any:
    import numpy as np

    n = 1_000_000
    path = folder / "million_entities.parquet"
    pl.DataFrame({
        "time": pl.datetime_range(pl.datetime(2023, 1, 30, time_zone="UTC"), pl.datetime(2023, 1, 30, time_zone="UTC")
                                  + pl.duration(seconds=n - 1), "1s", eager=True),
        "entity": [f"pod-{i:07d}" for i in range(n)], "metric": ["cpu"] * n,
        "value": np.arange(n, dtype=float)}).write_parquet(path)
    tel = read_parquet(path)
    return tel


def _late_non_numeric(folder: Path) -> Any:
    path = folder / "late_non_numeric.csv"
    rows = "".join(f"{1675080000 + i},cart,cpu,{i}\n" for i in range(20_000))
    path.write_text("time,entity,metric,value\n" + rows + "1675100000,cart,cpu,twelve\n")
    return read_csv(path, separator=",")


def _check_million(tel: Any) -> None:
    assert tel.metrics.height == 1_000_000 and tel.report.rows_dropped == 0
    assert len(tel.entities()) == 1_000_000


CASES: list[Case] = [
    # -- shape of the file ----------------------------------------------------------------------------
    file_case("empty-csv", SHAPE, "empty.csv", read_csv, REJECTED, "DataError 'the file is empty'", says("empty")),
    file_case("header-only-csv", SHAPE, "header_only.csv", read_csv, CLEAN, "an empty metrics table, no coercion",
              heights()),
    file_case("header-only-logs", SHAPE, "header_only_logs.csv", read_csv, CLEAN, "an empty logs table",
              heights(), kind="logs"),
    file_case("header-only-spans", SHAPE, "header_only_spans.csv", read_csv, CLEAN, "an empty spans table",
              heights(), kind="spans"),
    file_case("blank-lines-only", SHAPE, "no_header.csv", read_csv, REJECTED, "DataError 'no header line'",
              says("no header")),
    file_case("truncated-csv", SHAPE, "truncated.csv", read_csv, REJECTED,
              "DataError 'last line is cut off', column `metric`, row 4", where("metric", 4, "truncated")),
    file_case("truncated-gzip", SHAPE, "truncated.csv.gz", read_csv, REJECTED,
              "DataError 'gzip stream ends early: truncated'", says("truncated")),
    Case("cut-then-gzipped", SHAPE, REJECTED, _cut_then_gzipped,
         "a CSV cut off, then gzipped: DataError 'last line is cut off', row 4", where("metric", 4, "truncated"),
         file="cut_then_zipped.csv.gz"),
    file_case("empty-gzip", SHAPE, "empty.csv.gz", read_csv, REJECTED, "a gzip of nothing: DataError 'no header line'",
              says("header")),
    file_case("gz-name-plain-text", SHAPE, "not_gzip.csv.gz", read_csv, CLEAN,
              "a .gz name on plain text: read as text, 4 rows", heights(metrics=4), separator=","),
    Case("truncated-parquet", SHAPE, REJECTED, _truncated_parquet,
         "a Parquet file cut in half: DataError 'cannot read the file as Parquet', what to do",
         says("Parquet"), file="truncated.parquet"),
    Case("empty-parquet", SHAPE, REJECTED, _empty_parquet, "DataError 'the file is empty'", says("empty"),
         file="empty.parquet"),
    Case("text-named-parquet", SHAPE, REJECTED, _text_parquet, "a CSV named .parquet: DataError naming read_csv",
         says("read_csv"), file="text.parquet"),
    file_case("ragged-row", SHAPE, "ragged_row.csv", read_csv, REJECTED,
              "DataError '5 fields but the header has 4 (line 6)', row 4", where(None, 4, "5 fields")),
    file_case("missing-column", SHAPE, "missing_column.csv", read_csv, REJECTED,
              "SchemaError column `value`, hint `columns=`",
              all_of(_error_type(SchemaError), where("value"), lambda e: "columns=" in e.hint)),
    file_case("duplicate-column", SHAPE, "duplicate_columns.csv", read_csv, REJECTED,
              "SchemaError: the header names `value` twice (fields 4, 5)", where("value", None, "fields 4, 5")),
    file_case("quoted-multiline-message", SHAPE, "quoted_multiline_logs.csv", read_csv, CLEAN,
              "a quoted message with a comma and a newline is one field", all_of(
                  heights(logs=2), lambda t: t.logs.get_column("message")[0] == "boom, again\n  at line 2"),
              kind="logs", separator=","),
    # -- encodings ------------------------------------------------------------------------------------
    file_case("utf8-bom", ENCODING, "utf8_bom.csv", read_csv, CLEAN, "loads (byte order mark ignored)",
              heights(metrics=4), separator=","),
    file_case("utf16", ENCODING, "utf16.csv", read_csv, COERCED,
              "UTF-16 with a byte order mark: decoded, reported 'decoded UTF-16 text'",
              all_of(heights(metrics=4), coerced("UTF-16"),
                     lambda t: t.metrics.get_column("value").to_list() == [0.5, 1.5, 2.5, 3.5]), separator=","),
    file_case("latin1-bytes", ENCODING, "latin1.csv", read_csv, COERCED,
              "bytes that are not UTF-8 replaced by U+FFFD, reported (column `message`, 1 row)",
              all_of(heights(logs=2), coerced("UTF-8", rows=1, column="message"),
                     lambda t: "\ufffd" in t.logs.get_column("message")[0]), kind="logs", separator=","),
    file_case("latin1-declared", ENCODING, "latin1.csv", read_csv, CLEAN, "`encoding='latin-1'` decodes it exactly",
              lambda t: t.logs.get_column("message")[0] == "caf\xe9 ready", kind="logs", encoding="latin-1",
              separator=","),
    file_case("nul-byte", ENCODING, "nul_byte.csv", read_csv, CLEAN,
              "a NUL byte inside an entity name is kept as data (the row is not dropped)",
              all_of(heights(metrics=1), lambda t: t.entities() == ["ca\x00rt"]), separator=","),
    # -- delimiters -----------------------------------------------------------------------------------
    file_case("semicolons-declared-comma", DELIMITER, "wrong_delimiter.csv", read_csv, REJECTED,
              "`separator=','` on a ';' file: SchemaError column `time`, hint `separator=';'`",
              all_of(where("time"), lambda e: "separator=';'" in e.hint), separator=","),
    file_case("semicolons-sniffed", DELIMITER, "wrong_delimiter.csv", read_csv, COERCED,
              "sniffed and reported: 'read with delimiter ';' (sniffed)'",
              all_of(heights(metrics=4), coerced("delimiter ';'"))),
    file_case("pipes-sniffed", DELIMITER, "pipe_delimited.csv", read_csv, COERCED, "report 'delimiter '|' (sniffed)'",
              all_of(coerced("delimiter '|'"), lambda t: t.metrics.get_column("value").to_list() == [0.5, 1.5, 2.5, 3.5])),
    file_case("tabs-sniffed", DELIMITER, "tab_delimited.tsv", read_csv, COERCED, "report 'delimiter '\\t' (sniffed)'",
              all_of(heights(metrics=4), coerced("delimiter '\\t'"))),
    file_case("bom-and-semicolons", DELIMITER, "bom_semicolon.csv", read_csv, COERCED,
              "a byte order mark before a ';' header: sniffed, 4 rows", all_of(heights(metrics=4), coerced("';'"))),
    file_case("crlf-lines", DELIMITER, "crlf.csv", read_csv, CLEAN, "Windows line ends: 4 rows, values exact",
              all_of(heights(metrics=4), lambda t: t.metrics.get_column("value").to_list() == [0.5, 1.5, 2.5, 3.5]),
              separator=","),
    file_case("space-separated", DELIMITER, "space_separated.csv", read_csv, REJECTED,
              "spaces are no delimiter: SchemaError column `time` listing the one column found",
              where("time", None, "time entity metric value")),
    # -- size -----------------------------------------------------------------------------------------
    Case("ten-megabyte-log-line", SIZE, CLEAN, _long_line, "a 10 MB log line is kept whole",
         lambda t: t.logs.get_column("message").str.len_chars().to_list() == [10 << 20, 5], slow=True),
    Case("million-entity-names", SIZE, CLEAN, _million_entities,
         "a million distinct entity names: every row kept, every entity listed", _check_million, slow=True,
         timeout=120),
    Case("non-number-after-20000-rows", SIZE, COERCED, _late_non_numeric,
         "a non-number after 20,000 numeric rows: 'set non-numbers to null', 1 row, reason quotes 'twelve'",
         all_of(heights(metrics=20_001), coerced("non-numbers", rows=1), lambda t: "twelve" in
                t.report.find("non-numbers")[0].reason), slow=True),
]

