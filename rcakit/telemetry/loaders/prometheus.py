"""Prometheus HTTP API query results (``/api/v1/query_range`` matrices and ``/api/v1/query`` vectors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import PathLike, as_path, build_telemetry
from rcakit.telemetry.loaders._json import describe_json, read_json_documents
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport

if TYPE_CHECKING:
    from rcakit._types import JSONObject, JSONValue

__all__ = ["ENTITY_LABELS", "read_prometheus_json"]

ENTITY_LABELS = ("job", "instance", "service")
FALLBACK_ENTITY = "prometheus"
FALLBACK_METRIC = "value"


def read_prometheus_json(
    path: PathLike,
    *,
    entity_label: str | None = None,
    metric_label: str = "__name__",
) -> Telemetry:
    """Read a Prometheus API response (matrix or vector) into metrics.

    The entity is the label ``entity_label`` (default: ``job``, else ``instance``, else ``service``);
    the metric is the label ``metric_label``, with the remaining labels kept in the name
    (``http_requests_total{code="500"}``) so that distinct series stay distinct. Values "NaN",
    "+Inf" and "-Inf" become null and are reported. Several responses (JSON Lines) are read together.

    >>> tel = read_prometheus_json("latency.json", entity_label="service")
    """
    file = as_path(path)
    source = str(file)
    report = LoadReport()
    documents = read_json_documents(file, what="Prometheus API JSON")
    samples = _Samples(source, entity_label, metric_label)
    for number, document in enumerate(documents):
        kind, result = _result(document, number, source)
        for series_number, series in enumerate(result):
            samples.add_series(series, series_number, kind)
    if samples.fallback_entity:
        report.add(source, "entity", f"named series without job, instance or service label {FALLBACK_ENTITY!r}",
                   samples.fallback_entity, "pass entity_label= to choose the label that names the component")
    if samples.fallback_metric:
        report.add(source, "metric", f"named series without {metric_label!r} {FALLBACK_METRIC!r}",
                   samples.fallback_metric,
                   "aggregated queries drop the metric name; pass metric_label= or rename the series")
    if not samples.times:
        return Telemetry(report=report)
    raw = pl.Series("value", samples.values, dtype=pl.String)
    number_values = raw.str.strip_chars().cast(pl.Float64, strict=False)
    bad = number_values.is_null() & raw.is_not_null()
    if bad.any():
        first = int(bad.arg_max() or 0)
        report.add(source, "value", "set non-numbers to null", int(bad.sum()),
                   f"a sample value is not a number, first {raw[first]!r:.40}")
    seconds = pl.Series(samples.times, dtype=pl.Float64)
    frame = pl.DataFrame({
        "time": (seconds * 1e9).round(0).cast(pl.Int64).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
        "entity": pl.Series(samples.entities, dtype=pl.String),
        "metric": pl.Series(samples.metrics, dtype=pl.String),
        "value": number_values,
    })
    return build_telemetry("metrics", [frame], source=source, report=report)


def _result(document: JSONValue, number: int, source: str) -> tuple[str, list[JSONValue]]:
    """The result type (matrix or vector) and the series of one API response; a DataError for anything else."""
    if not isinstance(document, dict) or "status" not in document:
        raise DataError(f"this is not a Prometheus API response: document {number + 1} is "
                        f"{describe_json(document)}", source=source, row=number,
                        hint='A Prometheus response is {"status": "success", "data": {"resultType": "matrix", '
                             '"result": [...]}}')
    if document.get("status") != "success":
        raise DataError(
            f"the Prometheus query failed: {document.get('errorType', 'error')}: "
            f"{str(document.get('error', 'no message'))[:300]}", source=source, row=number,
            hint="Fix the query (or its time range and step) and export the response again")
    data = document.get("data") or {}
    kind = data.get("resultType")
    result = data.get("result")
    if kind not in ("matrix", "vector"):
        raise DataError(f"cannot read a Prometheus result of type {kind!r}", source=source, column="resultType",
                        row=number, hint="Export a range query (matrix) or an instant query over series (vector)")
    if not isinstance(result, list):
        raise DataError("the response has no result list", source=source, column="result", row=number,
                        hint="Export the whole API response")
    return kind, result


@dataclass
class _Samples:
    """The samples of the series read so far, one row each, and the series named by a fallback."""

    source: str
    entity_label: str | None
    metric_label: str
    times: list[float] = field(default_factory=list)
    values: list[str | None] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    fallback_entity: int = 0
    fallback_metric: int = 0

    def add_series(self, series: JSONObject, series_number: int, kind: str) -> None:
        """One series of a matrix (its ``values``) or a vector (its ``value``)."""
        entity, name = self._names(series, series_number)
        points = series.get("values") if kind == "matrix" else [series.get("value")]
        for point in points or []:
            if not isinstance(point, list | tuple) or len(point) != 2:
                raise DataError(f"series {series_number} ({name}) has a sample that is not [time, value]: "
                                f"{str(point)[:60]}", source=self.source, column="values", row=series_number,
                                hint="Export the response unchanged")
            try:
                self.times.append(float(point[0]))
            except (TypeError, ValueError):
                raise DataError(f"series {series_number} ({name}) has a sample time that is not a number: "
                                f"{str(point[0])[:60]!r}", source=self.source, column="values", row=series_number,
                                hint="Prometheus writes sample times as Unix seconds; export the response "
                                     "unchanged") from None
            self.values.append(None if point[1] is None else str(point[1]))
            self.entities.append(str(entity))
            self.metrics.append(name)

    def _names(self, series: JSONObject, series_number: int) -> tuple[JSONValue, str]:
        """The series' entity (a label, or the fallback) and its metric name with the other labels."""
        labels = dict(series.get("metric") or {})
        metric = labels.pop(self.metric_label, None)
        if metric is None:
            metric = FALLBACK_METRIC
            self.fallback_metric += 1
        entity_label = self.entity_label
        if entity_label is not None:
            if entity_label not in labels:
                raise DataError(
                    f"series {series_number} ({_label_text(metric, labels)}) has no label {entity_label!r}",
                    source=self.source, column=entity_label, row=series_number,
                    hint=f"Choose another entity_label=; this series has {', '.join(sorted(labels)) or 'no labels'}")
            entity = labels.pop(entity_label)
        else:
            chosen = next((name for name in ENTITY_LABELS if labels.get(name)), None)
            if chosen is None:
                entity = FALLBACK_ENTITY
                self.fallback_entity += 1
            else:
                entity = labels.pop(chosen)
        return entity, _label_text(metric, labels)


def _label_text(metric: str, labels: JSONObject) -> str:
    if not labels:
        return metric
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"
