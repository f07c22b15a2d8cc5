"""OTLP values into Python: AnyValue, attribute lists, times, enums, severities, log bodies, and the
OTLP request inside a wrapper document (Tempo, Jaeger API v3).

Both JSON mappings a file may use are read: OTLP/JSON's (enums as integers) and protobuf's own
(enum names, 64-bit integers as strings, OpenTelemetry JS's ``{"low": ..., "high": ...}`` longs).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rcakit._types import JSONObject, JSONValue

__all__ = ["any_value", "attributes", "body_text", "enum_value", "label_text", "nanos", "point_value", "series_name",
           "severity", "unwrap"]

_SEVERITY = ((4, "TRACE"), (8, "DEBUG"), (12, "INFO"), (16, "WARN"), (20, "ERROR"), (24, "FATAL"))
_TOP_KEYS = ("resourceSpans", "resourceLogs", "resourceMetrics")


def any_value(value: JSONValue) -> JSONValue:
    """The Python value of an OTLP AnyValue."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return {kv.get("key"): any_value(kv.get("value")) for kv in (value["kvlistValue"] or {}).get("values", [])}
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def attributes(items: Iterable[JSONObject] | None) -> JSONObject:
    return {str(item.get("key")): any_value(item.get("value")) for item in items or () if isinstance(item, dict)}


def nanos(value: JSONValue) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, dict) and "low" in value:  # OpenTelemetry JS's long bits: {"low": ..., "high": ...}
        return ((int(value.get("high", 0)) & 0xFFFFFFFF) << 32 | (int(value["low"]) & 0xFFFFFFFF)) or None
    return int(value)


def enum_value(value: JSONValue, names: dict[str, int]) -> int:
    if isinstance(value, str):
        return names.get(value, int(value) if value.isdigit() else 0)
    return int(value or 0)


def series_name(name: str, attrs: JSONObject) -> str:
    return name + label_text(attrs)


def label_text(attrs: JSONObject) -> str:
    if not attrs:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(attrs.items(), key=lambda kv: str(kv[0]))) + "}"


def unwrap(document: JSONValue) -> tuple[JSONObject | None, str | None]:
    """The OTLP request inside a document, and the wrapper it came in (None when it is plain OTLP).

    Tempo's ``/api/traces/<id>`` answers ``{"batches": [...]}`` (resource spans under another
    name), its ``/api/v2/traces/<id>`` ``{"trace": {...}}``, Jaeger's ``/api/v3`` ``{"result": {...}}``.
    """
    if not isinstance(document, dict):
        return None, None
    if any(key in document for key in _TOP_KEYS):
        return document, None
    if isinstance(document.get("batches"), list):
        return {"resourceSpans": document["batches"]}, "Tempo 'batches'"
    for key, label in (("trace", "Tempo v2 'trace'"), ("result", "Jaeger API v3 'result'")):
        inner = document.get(key)
        if isinstance(inner, dict):
            found, wrapper = unwrap(inner)
            if found is not None:
                return found, label if wrapper is None else f"{label} around {wrapper}"
    return None, None


def point_value(point: JSONObject) -> float | None:
    if "asDouble" in point:
        return float(point["asDouble"])  # "NaN", "Infinity" are valid here; the model reports them
    if "asInt" in point:
        return float(int(point["asInt"]))
    return None


def severity(record: JSONObject) -> str | None:
    text = record.get("severityText")
    if text:
        return str(text)
    number = record.get("severityNumber")
    if isinstance(number, str) and not number.isdigit():
        return number.removeprefix("SEVERITY_NUMBER_").split("_")[0].replace("UNSPECIFIED", "") or None
    if number:
        return next((name for limit, name in _SEVERITY if int(number) <= limit), "FATAL")
    return None


def body_text(record: JSONObject) -> str | None:
    body = record.get("body")
    if body is None:
        return None
    value = any_value(body)
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)
