"""Write the bad-input corpus: small malformed files, one per case (see README.md for the table).

Run ``python tests/badinput/make_corpus.py`` to regenerate ``tests/badinput/files/``; the files are
committed (all tiny). The two large cases (a 1 MB log line, a bad value after 20,000 rows) are made
by :func:`make_large` into a temporary folder by the tests instead.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

__all__ = ["CASES", "FILES", "make_large", "write_corpus"]

FILES = Path(__file__).parent / "files"

_METRICS = "time,entity,metric,value\n"
_SPANS = "trace_id,span_id,parent_id,entity,operation,start,end\n"


def _gzip(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


def _otlp_spans() -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
                               "scopeSpans": [{"spans": [
                                   {"traceId": "t1", "spanId": "a", "name": "GET /cart",
                                    "startTimeUnixNano": "1675082291682000000", "endTimeUnixNano": "1675082291782000000"},
                               ]}]}]}


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
}


def write_corpus(folder: Path = FILES) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in CASES.items():
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written


def make_large(folder: Path) -> dict[str, Path]:
    """The two cases too large to commit: a 1 MB log line, and a bad value after 20,000 good rows."""
    folder.mkdir(parents=True, exist_ok=True)
    long_line = folder / "long_line.csv"
    message = "x" * (1 << 20)
    long_line.write_text(f"time,entity,level,message\n2023-01-30T12:00:00Z,cart,INFO,{message}\n"
                         "2023-01-30T12:00:01Z,cart,INFO,short\n")
    late = folder / "late_non_numeric.csv"
    rows = "".join(f"{1675080000 + i},cart,cpu,{i}\n" for i in range(20_000))
    late.write_text(_METRICS + rows + "1675100000,cart,cpu,twelve\n")
    return {"long_line": long_line, "late_non_numeric": late}


if __name__ == "__main__":
    for p in write_corpus():
        print(p.relative_to(Path.cwd()) if p.is_relative_to(Path.cwd()) else p)
