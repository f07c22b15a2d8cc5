"""Write the bad-input corpus: small malformed files, one per case (see README.md for the table).

Run ``python tests/badinput/make_corpus.py`` to regenerate ``tests/badinput/files/``; the files are
committed (all tiny). Cases too large to commit (a 10 MB log line, a million entity names, a bad value
after 20,000 rows) and binary ones whose bytes depend on the library version (Parquet) are made on the
fly by the cases themselves (``tests/badinput/cases``).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

__all__ = ["CASES", "FILES", "README", "readme_text", "write_corpus"]

FILES = Path(__file__).parent / "files"
README = Path(__file__).parent / "README.md"

_METRICS = "time,entity,metric,value\n"
_SPANS = "trace_id,span_id,parent_id,entity,operation,start,end\n"


def _gzip(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


def _otlp_spans(end: str = "1675082291782000000") -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
                               "scopeSpans": [{"spans": [
                                   {"traceId": "t1", "spanId": "a", "name": "GET /cart",
                                    "startTimeUnixNano": "1675082291682000000", "endTimeUnixNano": end},
                               ]}]}]}


def _otlp_gauge(value: object, time: str = "1675080000000000000") -> dict:
    key = "asDouble"
    return {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
                                 "scopeMetrics": [{"metrics": [{"name": "cpu", "gauge": {"dataPoints": [
                                     {"timeUnixNano": time, key: value}]}}]}]}]}


def _jspan(span: str, *, parent: str | None = None, duration: int = 1000) -> dict:
    refs = [{"refType": "CHILD_OF", "traceID": "t1", "spanID": parent}] if parent else []
    return {"traceID": "t1", "spanID": span, "operationName": "GET /", "references": refs,
            "startTime": 1675080000000000, "duration": duration, "processID": "p1", "tags": []}


def _jaeger(spans: list) -> dict:
    return {"data": [{"traceID": "t1", "spans": spans, "processes": {"p1": {"serviceName": "cart"}}}]}


_good_rows = "".join(f"2023-01-30T12:0{i}:00Z,cart,cpu,{i}.5\n" for i in range(4))
_truncated_gzip = _gzip(_METRICS + _good_rows * 50)

CASES: dict[str, bytes] = {
    # -- shape of the file ----------------------------------------------------------------------
    "empty.csv": b"",
    "header_only.csv": _METRICS.encode(),
    "truncated.csv": (_METRICS + _good_rows + "2023-01-30T12:05:00Z,car").encode(),
    "truncated.csv.gz": _truncated_gzip[: len(_truncated_gzip) // 2],
    "wrong_delimiter.csv": (_METRICS + _good_rows).replace(",", ";").encode(),
    "pipe_delimited.csv": (_METRICS + _good_rows).replace(",", "|").encode(),
    "ragged_row.csv": (_METRICS + _good_rows + "2023-01-30T12:05:00Z,cart,cpu,1,5\n").encode(),
    "missing_column.csv": b"time,entity,metric\n2023-01-30T12:00:00Z,cart,cpu\n",
    "no_header.csv": b"\n\n",
    "utf8_bom.csv": ("\ufeff" + _METRICS + _good_rows).encode(),
    # -- values ---------------------------------------------------------------------------------
    "non_numeric.csv": (_METRICS + _good_rows + "2023-01-30T12:05:00Z,cart,cpu,n/a\n"
                        "2023-01-30T12:06:00Z,cart,cpu,\"12,5\"\n").encode(),
    "nan_inf.csv": (_METRICS + _good_rows + "2023-01-30T12:05:00Z,cart,cpu,NaN\n2023-01-30T12:06:00Z,cart,cpu,inf\n"
                    "2023-01-30T12:07:00Z,cart,cpu,-Inf\n").encode(),
    "empty_entity.csv": (_METRICS + _good_rows + "2023-01-30T12:05:00Z,,cpu,1\n").encode(),
    "latin1.csv": ("time,entity,level,message\n2023-01-30T12:00:00Z,cart,INFO,caf\xe9 ready\n"
                   "2023-01-30T12:01:00Z,cart,WARN,plain ascii\n").encode("latin-1"),
    # -- time -----------------------------------------------------------------------------------
    "duplicate_timestamps.csv": (_METRICS + _good_rows + _good_rows.splitlines(keepends=True)[0]).encode(),
    "unordered.csv": (_METRICS + "".join(reversed(_good_rows.splitlines(keepends=True)))).encode(),
    "naive_times.csv": (_METRICS + "2023-01-30 12:00:00,cart,cpu,1\n2023-01-30 12:01:00,cart,cpu,2\n").encode(),
    "mixed_timezones.csv": (_METRICS + "2023-01-30T14:00:00+02:00,cart,cpu,1\n2023-01-30T12:01:00Z,cart,cpu,2\n"
                            "2023-01-30T07:02:00-05:00,cart,cpu,3\n2023-01-30 12:03:00,cart,cpu,4\n").encode(),
    "epoch_s.csv": (_METRICS + "1675080000,cart,cpu,1\n1675080060,cart,cpu,2\n").encode(),
    "epoch_ms.csv": (_METRICS + "1675080000000,cart,cpu,1\n1675080060000,cart,cpu,2\n").encode(),
    "epoch_ns.csv": (_METRICS + "1675080000000000000,cart,cpu,1\n1675080060000000000,cart,cpu,2\n").encode(),
    "bad_time.csv": (_METRICS + _good_rows + "yesterday noon,cart,cpu,1\n").encode(),
    "missing_time.csv": (_METRICS + "1675080000,cart,cpu,1\n,cart,cpu,2\n").encode(),
    "zero_time.csv": (b"time,entity,message\n1675080000000000000,cart,ok\n-6795364578871345152,cart,zero time\n"
                      b"1675080060000000000,cart,ok\n"),
    # -- spans ----------------------------------------------------------------------------------
    "orphan_spans.csv": (_SPANS + "t1,a,,cart,GET /,1675080000000,1675080000100\n"
                         "t1,b,a,db,query,1675080000010,1675080000050\n"
                         "t1,c,zzz,db,query,1675080000020,1675080000060\n"
                         "t2,d,gone,cart,GET /,1675080001000,1675080001100\n").encode(),
    "cycle_spans.csv": (_SPANS + "t1,a,,cart,GET /,1675080000000,1675080000100\n"
                        "t2,x,y,cart,GET /,1675080001000,1675080001100\n"
                        "t2,y,z,db,query,1675080001010,1675080001050\n"
                        "t2,z,x,db,query,1675080001020,1675080001060\n").encode(),
    "self_parent_span.csv": (_SPANS + "t9,s1,s1,cart,GET /,1675080000000,1675080000100\n").encode(),
    "duplicate_span_ids.csv": (_SPANS + "t1,a,,cart,GET /,1675080000000,1675080000100\n"
                               "t1,a,,cart,GET /,1675080000000,1675080000100\n").encode(),
    "span_ends_before_start.csv": (_SPANS + "t1,a,,cart,GET /,1675080000100,1675080000000\n").encode(),
    # -- wire formats ---------------------------------------------------------------------------
    "not_otlp.json": json.dumps({"data": [{"traceID": "t1", "spans": [], "processes": {}}]}).encode(),
    "unknown.json": json.dumps({"hello": "world"}).encode(),
    "truncated_otlp.json": json.dumps(_otlp_spans(), indent=1).encode()[:-40],
    "otlp_no_service.json": json.dumps({"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": [
        {"timeUnixNano": "1675082291682000000", "severityNumber": 17, "body": {"stringValue": "boom"}}]}]}]}).encode(),
    "prometheus_error.json": json.dumps({"status": "error", "errorType": "bad_data",
                                         "error": "invalid parameter \"query\": 1:5: parse error"}).encode(),
    "prometheus_nan_inf.json": json.dumps({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "latency", "job": "cart"},
         "values": [[1675080000, "0.5"], [1675080015, "NaN"], [1675080030, "+Inf"], [1675080045, "-Inf"]]}]}}).encode(),
    "prometheus_scalar.json": json.dumps({"status": "success", "data": {"resultType": "scalar",
                                                                        "result": [1675080000, "1"]}}).encode(),
    "jaeger_unknown_process.json": json.dumps({"data": [{"traceID": "t1", "spans": [
        {"traceID": "t1", "spanID": "a", "operationName": "GET /", "references": [], "startTime": 1675080000000000,
         "duration": 1000, "processID": "p1", "tags": []},
        {"traceID": "t1", "spanID": "b", "operationName": "query",
         "references": [{"refType": "CHILD_OF", "traceID": "t1", "spanID": "a"}], "startTime": 1675080000000100,
         "duration": 500, "processID": "p9", "tags": []}],
        "processes": {"p1": {"serviceName": "cart"}}}]}).encode(),
    "wide_non_numeric.csv": b"time,cart:cpu,cart:mem\n1675080000,1,2\n1675080060,oops,3\n",
    # -- more shapes, encodings and delimiters (issue 19) ---------------------------------------------
    "not_gzip.csv.gz": (_METRICS + _good_rows).encode(),
    "empty.csv.gz": _gzip(""),
    "header_only_logs.csv": b"time,entity,level,message\n",
    "header_only_spans.csv": _SPANS.encode(),
    "utf16.csv": (_METRICS + _good_rows).encode("utf-16"),
    "tab_delimited.tsv": (_METRICS + _good_rows).replace(",", "\t").encode(),
    "crlf.csv": (_METRICS + _good_rows).replace("\n", "\r\n").encode(),
    "quoted_multiline_logs.csv": (b'time,entity,level,message\n2023-01-30T12:00:00Z,cart,ERROR,"boom, again\n'
                                  b'  at line 2"\n2023-01-30T12:00:01Z,cart,INFO,ok\n'),
    "duplicate_columns.csv": b"time,entity,metric,value,value\n2023-01-30T12:00:00Z,cart,cpu,1,2\n",
    "space_separated.csv": b"time entity metric value\n2023-01-30T12:00:00Z cart cpu 1\n",
    "bom_semicolon.csv": ("\ufeff" + _METRICS + _good_rows).replace(",", ";").encode(),
    "nul_byte.csv": (_METRICS + "2023-01-30T12:00:00Z,ca\x00rt,cpu,1\n").encode(),
    # -- more values --------------------------------------------------------------------------------
    "all_text_values.csv": (_METRICS + "2023-01-30T12:00:00Z,cart,cpu,high\n2023-01-30T12:01:00Z,cart,cpu,low\n").encode(),
    "overflow.csv": (_METRICS + "2023-01-30T12:00:00Z,cart,cpu,1e400\n2023-01-30T12:01:00Z,cart,cpu,1\n").encode(),
    "booleans.csv": (_METRICS + "2023-01-30T12:00:00Z,cart,up,true\n2023-01-30T12:01:00Z,cart,up,false\n").encode(),
    "colon_entity.csv": (_METRICS + "2023-01-30T12:00:00Z,cart:v2,cpu,1\n").encode(),
    "empty_metric.csv": (_METRICS + _good_rows + "2023-01-30T12:05:00Z,cart,,1\n").encode(),
    "wide_nan_inf.csv": b"time,cart:cpu,cart:mem\n1675080000,NaN,2\n1675080060,inf,3\n",
    # -- more time ----------------------------------------------------------------------------------
    "epoch_us.csv": (_METRICS + "1675080000000000,cart,cpu,1\n1675080060000000,cart,cpu,2\n").encode(),
    "epoch_float_s.csv": (_METRICS + "1675080000.5,cart,cpu,1\n1675080060.25,cart,cpu,2\n").encode(),
    "epoch_mixed_units.csv": (_METRICS + "1675080000,cart,cpu,1\n1675080060000,cart,cpu,2\n1675080120000,cart,cpu,3\n").encode(),
    "before_1970.csv": (_METRICS + "1969-12-31T23:59:00Z,cart,cpu,1\n1969-12-31T23:59:30Z,cart,cpu,2\n").encode(),
    "relative_seconds.csv": (_METRICS + "0,cart,cpu,1\n60,cart,cpu,2\n120,cart,cpu,3\n").encode(),
    "negative_epoch.csv": (_METRICS + "-60,cart,cpu,1\n-30,cart,cpu,2\n").encode(),
    "mixed_time_formats.csv": (_METRICS + "2023-01-30 12:00:00,cart,cpu,1\n30/01/2023 12:01,cart,cpu,2\n").encode(),
    "zone_name.csv": (_METRICS + "2023-01-30T12:00:00 Europe/Berlin,cart,cpu,1\n").encode(),
    "duplicate_log_times.csv": (b"time,entity,level,message\n2023-01-30T12:00:00Z,cart,INFO,a\n"
                                b"2023-01-30T12:00:00Z,cart,INFO,a\n2023-01-30T12:00:00Z,db,WARN,b\n"),
    # -- more spans ---------------------------------------------------------------------------------
    "negative_duration_spans.csv": (b"trace_id,span_id,parent_id,entity,operation,start,duration\n"
                                    b"t1,a,,cart,GET /,1675080000000,0.2\nt1,b,a,db,query,1675080000010,-0.5\n"),
    "span_without_id.csv": (_SPANS + "t1,,,cart,GET /,1675080000000,1675080000100\n").encode(),
    "span_bad_start.csv": (_SPANS + "t1,a,,cart,GET /,soon,1675080000100\n").encode(),
    "zero_duration_span.csv": (_SPANS + "t1,a,,cart,GET /,1675080000000,1675080000000\n").encode(),
    "parent_in_other_trace.csv": (_SPANS + "t1,a,,cart,GET /,1675080000000,1675080000100\n"
                                  "t2,b,a,db,query,1675080000010,1675080000050\n").encode(),
    "cycle_beside_tree.csv": (_SPANS + "t1,a,,cart,GET /,1675080000000,1675080000100\n"
                              "t1,b,a,db,query,1675080000010,1675080000050\n"
                              "t3,p,q,x,op,1675080000000,1675080000050\nt3,q,r,x,op,1675080000000,1675080000050\n"
                              "t3,r,s,x,op,1675080000000,1675080000050\nt3,s,p,x,op,1675080000000,1675080000050\n").encode(),
    "spans_without_end.csv": b"trace_id,span_id,parent_id,entity,operation,start\nt1,a,,cart,GET /,1675080000000\n",
    # -- more wire formats --------------------------------------------------------------------------
    "otlp_array.json": b"[1, 2, 3]",
    "otlp_empty_object.json": b"{}",
    "otlp_text_value.json": json.dumps(_otlp_gauge("abc")).encode(),
    "otlp_text_time.json": json.dumps(_otlp_gauge(1.0, time="yesterday")).encode(),
    "otlp_wrong_types.json": json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": "oops"}]}]}).encode(),
    "otlp_null_resource.json": b'{"resourceSpans": [null]}',
    "otlp_end_before_start.json": json.dumps(_otlp_spans(end="1675082291582000000")).encode(),
    "otlp_is_prometheus.json": json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}}).encode(),
    "prometheus_is_otlp.json": json.dumps({"resourceSpans": []}).encode(),
    "prometheus_is_jaeger.json": json.dumps({"data": [{"traceID": "t1", "spans": [], "processes": {}}]}).encode(),
    "prometheus_string.json": json.dumps({"status": "success", "data": {"resultType": "string",
                                                                        "result": [1675080000, "hello"]}}).encode(),
    "prometheus_no_data.json": json.dumps({"status": "success"}).encode(),
    "prometheus_text_value.json": json.dumps({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "up", "job": "cart"}, "values": [[1675080000, "abc"], [1675080015, "1"]]}]}}).encode(),
    "prometheus_text_time.json": json.dumps({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "up", "job": "cart"}, "values": [["noon", "1"]]}]}}).encode(),
    "prometheus_no_labels.json": json.dumps({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {}, "values": [[1675080000, "1"]]}]}}).encode(),
    "prometheus_vector.json": json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"__name__": "up", "job": "cart"}, "value": [1675080000, "1"]}]}}).encode(),
    "jaeger_is_otlp.json": json.dumps({"resourceSpans": []}).encode(),
    "jaeger_truncated.json": json.dumps(_jaeger([_jspan("a")]))[:-30].encode(),
    "jaeger_negative_duration.json": json.dumps(_jaeger([_jspan("a", duration=-5)])).encode(),
    "jaeger_orphan.json": json.dumps(_jaeger([_jspan("a", parent="zz")])).encode(),
    "jaeger_cycle.json": json.dumps(_jaeger([_jspan("a", parent="b"), _jspan("b", parent="a")])).encode(),
    "jaeger_no_start.json": json.dumps(_jaeger([{k: v for k, v in _jspan("a").items() if k != "startTime"}])).encode(),
    "binary.json": bytes(range(256)),
    "empty.json": b"",
    "deeply_nested.json": b"[" * 20_000 + b"]" * 20_000,
}


def write_corpus(folder: Path = FILES) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in CASES.items():
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written


def readme_text() -> str:
    """README.md: how the corpus works and one line per case, written from the case list itself."""
    from tests.badinput.cases import CASES as CORPUS

    lines = [
        "# Bad-input corpus",
        "",
        "Each case feeds one malformed input to rcakit (a loader, or the public flow after loading: ",
        "`detect_anomalies`, `draft_graph`, `attribute`, `analyze`, `write_report`, `ReviewSession`) and states the",
        "expected outcome: **rejected** (an rcakit error naming the file, column, row or node, with what to do),",
        "**coerced** (accepted, what changed reported in `Telemetry.report`, the result's notes or a warning) or",
        "**clean** (accepted as it was). Anything else fails the case: a traceback from inside a library, a hang",
        "(each case has a time limit), a silent wrong outcome, a dropped row or a check that does not hold.",
        "",
        "* `cases/` holds the list (one module per group); `test_badinput.py` runs every case and",
        "  `python -m rcakit.bench reliability` counts outcomes per category from the same list.",
        "* `files/` holds the small committed inputs, written by `make_corpus.py` (run it to regenerate them and",
        "  this README; a test checks both match). Large inputs (a 10 MB log line, a million entity names) and",
        "  Parquet files are made on the fly by their cases; the large ones are marked slow.",
        "",
        "| # | case | category | input | expected | behaviour |",
        "|---|------|----------|-------|----------|-----------|",
    ]
    for number, case in enumerate(CORPUS, 1):
        what = f"`{case.file}`" if case.file else "made by the case"
        lines.append(f"| {number} | `{case.id}` | {case.category} | {what} | {case.expect.value} | "
                     f"{case.describe.replace('|', chr(92) + '|')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    README.write_text(readme_text())
    for p in write_corpus():
        print(p.relative_to(Path.cwd()) if p.is_relative_to(Path.cwd()) else p)
