"""Metrics expositions: OpenMetrics and the Prometheus text format (what ``/metrics`` answers), parsed by
``prometheus_client``'s own parsers.

A file may hold one scrape or several (OpenMetrics scrapes each end with ``# EOF``); a sample's time
is its timestamp when the exposition writes one, else ``time=`` (one scrape), else the file's
modification time (reported). Histograms become ``.count``, ``.sum``, ``.mean`` and quantile rows
as OTLP histograms do (see ``rcakit.telemetry.loaders._histograms``: over the interval between
scrapes, since Prometheus histograms are cumulative); every other sample is a row named as in
PromQL (``http_requests_total{code="500"}``). ``*_created`` samples give the start of a
counter/histogram and are not rows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import PathLike, as_path, build_telemetry, read_bytes
from rcakit.telemetry.loaders._histograms import (
    DEFAULT_QUANTILES,
    Buckets,
    HistogramPoint,
    HistogramStats,
    series_rows,
)
from rcakit.telemetry.loaders.prometheus import ENTITY_LABELS
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.samples import Sample, Timestamp

__all__ = ["read_openmetrics"]


class _BucketPoint(TypedDict):
    """A classic histogram's point gathered from its ``_bucket``, ``_count`` and ``_sum`` samples."""

    labels: dict[str, str]
    bounds: dict[float, float]
    count: float | None
    sum: float | None
    time: int
    entity: str

_NS = 1_000_000_000


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _scrapes(text: str) -> list[tuple[str, bool]]:
    """The scrapes of the file: (text, is OpenMetrics), split after each ``# EOF``."""
    out: list[tuple[str, bool]] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        current.append(line)
        if line.strip() == "# EOF":
            out.append(("".join(current), True))
            current = []
    rest = "".join(current)
    if rest.strip():
        out.append((rest, False))
    return out


def _time_ns(value: datetime | str | float | None, file_mtime: int) -> int:
    if value is None:
        return file_mtime
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("time= must be time-zone aware (for example datetime(..., tzinfo=UTC))")
        return int(value.timestamp()) * _NS + value.microsecond * 1000
    if isinstance(value, int | float):
        return round(float(value) * _NS)
    stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        raise ValueError(f"time= {value!r} has no time zone; write it as '2026-01-05T07:10:00Z'")
    return int(stamp.timestamp()) * _NS + stamp.microsecond * 1000


def read_openmetrics(
    path: PathLike,
    *,
    time: datetime | str | float | None = None,
    entity: str | None = None,
    entity_label: str | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
) -> Telemetry:
    """Read a metrics exposition (OpenMetrics or Prometheus text; one scrape or several) into metrics.

    The entity is the label ``entity_label`` (default: ``job``, else ``instance``, else ``service``)
    or, when a sample has none (a target's own ``/metrics`` has no job label: Prometheus adds it at
    scrape), ``entity`` (default: the file name without extensions, reported). ``time`` is the time
    of samples without a timestamp (a datetime, an ISO string with a zone or unix seconds; default:
    the file's modification time, reported).

    >>> tel = read_openmetrics("payment.metrics", entity="payment", time="2026-01-05T07:10:00Z")  # doctest: +SKIP
    """
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
    from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

    from rcakit.telemetry.loaders._histograms import check_quantiles

    file = as_path(path)
    source = str(file)
    report = LoadReport()
    qs = check_quantiles(quantiles)
    try:
        text = read_bytes(file).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"the file is not UTF-8 text (byte {exc.start})", source=source,
                        hint="An exposition is UTF-8 text; a binary (protobuf) scrape is not read") from exc
    scrapes = _scrapes(text)
    if not scrapes:
        raise DataError("the file holds no samples", source=source, hint="Save the /metrics answer again")
    default_time = _time_ns(time, os.stat(file).st_mtime_ns) if time is not None else None
    exposition = _Exposition(file, source, default_time, entity or file.name.split(".")[0] or "metrics", entity_label)
    for number, (chunk, is_openmetrics) in enumerate(scrapes):
        parse = parse_openmetrics if is_openmetrics else parse_prometheus
        try:
            families = list(parse(chunk))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise DataError(f"scrape {number + 1} is not a valid {'OpenMetrics' if is_openmetrics else 'Prometheus'} "
                            f"exposition: {exc}", source=source, row=number,
                            hint="prometheus_client's parser rejected it; check the lines it names") from exc
        exposition.add_scrape(families, number, len(scrapes))
    rows = exposition.rows
    stats = HistogramStats()
    for points in exposition.histograms.values():
        for t, who, metric, value in series_rows(points, qs, stats):
            rows["time"].append(t)
            rows["entity"].append(who)
            rows["metric"].append(metric)
            rows["value"].append(value)
    exposition.report(report, stats, counted_fallback=entity is None)
    if not rows["time"]:
        return Telemetry(report=report)
    frame = pl.DataFrame({
        "time": pl.Series(rows["time"], dtype=pl.Int64).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
        "entity": pl.Series(rows["entity"], dtype=pl.String),
        "metric": pl.Series(rows["metric"], dtype=pl.String),
        "value": pl.Series(rows["value"], dtype=pl.Float64),
    }).sort("time", maintain_order=True)
    return build_telemetry("metrics", [frame], source=source, report=report)


@dataclass
class _Exposition:
    """The rows and histogram points of the scrapes read so far, and the counts the report gives."""

    file: Path
    source: str
    default_time: int | None  # of samples without a timestamp; None: the file's modification time
    fallback_entity: str
    entity_label: str | None
    rows: dict[str, list[object]] = field(default_factory=lambda: {"time": [], "entity": [], "metric": [], "value": []})
    histograms: dict[tuple[object, ...], list[HistogramPoint]] = field(default_factory=dict)
    untimed: int = 0
    fallback: int = 0
    created_rows: int = 0
    native: int = 0

    def add_scrape(self, families: list[Metric], number: int, scrapes: int) -> None:
        """One scrape's metric families (as ``prometheus_client`` parsed them); ``number`` counts from 0."""
        starts: dict[tuple[str, str], float] = {}
        with_created = {f.name for f in families if f.type in ("counter", "histogram", "summary", "gaugehistogram")}
        for family in families:
            for sample in family.samples:
                if _is_created(sample.name, family.type, with_created):
                    starts[(sample.name.removesuffix("_created"), _labels(dict(sample.labels)))] = float(sample.value)
        if self.default_time is None and scrapes > 1 and any(
                s.timestamp is None for f in families for s in f.samples):
            raise DataError(f"the file holds {scrapes} scrapes whose samples have no timestamps", source=self.source,
                            row=number, hint="Save each scrape in its own file and pass time= for each, or scrape "
                                             "through Prometheus and export /api/v1/query_range")
        for family in families:
            buckets: dict[tuple[str, str, str, int], _BucketPoint] = {}
            for sample in family.samples:
                self._sample(family, sample, with_created, buckets, number)
            self._histogram_points(buckets, starts)

    def _sample(self, family: Metric, sample: Sample, with_created: set[str],
                buckets: dict[tuple[str, str, str, int], _BucketPoint], number: int) -> None:
        """One sample: a row, a part of a classic histogram's point (into ``buckets``), or only counted."""
        labels = dict(sample.labels)
        if _is_created(sample.name, family.type, with_created):
            self.created_rows += 1
            return
        if getattr(sample, "native_histogram", None) is not None:
            self.native += 1
            return
        if sample.timestamp is None:
            self.untimed += 1
            t = self.default_time if self.default_time is not None else os.stat(self.file).st_mtime_ns
        else:
            t = _sample_ns(sample.timestamp)
        who = self._entity(sample.name, labels, number)
        if family.type == "histogram" and sample.name != family.name:
            suffix = sample.name[len(family.name):]
            le = labels.pop("le", None)
            key = (who, family.name, _labels(labels), t)
            point = buckets.setdefault(key, {"labels": dict(labels), "bounds": {}, "count": None,
                                             "sum": None, "time": t, "entity": who})
            if suffix == "_bucket" and le is not None:
                point["bounds"][float(le)] = float(sample.value)
            elif suffix == "_count":
                point["count"] = float(sample.value)
            elif suffix == "_sum":
                point["sum"] = float(sample.value)
            return
        rows = self.rows
        rows["time"].append(t)
        rows["entity"].append(who)
        rows["metric"].append(sample.name + _labels(labels))
        rows["value"].append(float(sample.value))

    def _entity(self, name: str, labels: dict[str, str], number: int) -> str:
        """The sample's entity label, taken out of ``labels``; else the fallback entity (counted)."""
        entity_label = self.entity_label
        chosen = entity_label if entity_label is not None else next(
            (label for label in ENTITY_LABELS if labels.get(label)), None)
        if chosen is not None and labels.get(chosen):
            return labels.pop(chosen)
        if entity_label is not None:
            raise DataError(f"sample {name}{_labels(labels)} has no label {entity_label!r}",
                            source=self.source, column=entity_label, row=number,
                            hint="Choose another entity_label= or pass entity=")
        self.fallback += 1
        return self.fallback_entity

    def _histogram_points(self, buckets: dict[tuple[str, str, str, int], _BucketPoint],
                          starts: dict[tuple[str, str], float]) -> None:
        """The classic histograms of one family in one scrape, as histogram points of their series."""
        for (who, name, label_text, t), point in buckets.items():
            bounds = sorted(point["bounds"])
            cumulative = [point["bounds"][b] for b in bounds]
            problem = None
            hist = None
            if not bounds or not math.isinf(bounds[-1]):
                problem = "histograms without a +Inf bucket"
            else:
                counts = tuple(c - p for c, p in zip(cumulative, [0.0, *cumulative[:-1]], strict=True))
                if any(c < 0 for c in counts):
                    problem = "histograms whose cumulative bucket counts go down"
                else:
                    hist = Buckets(bounds=tuple(bounds[:-1]), counts=counts)
            count = point["count"] if point["count"] is not None else (cumulative[-1] if cumulative else None)
            series = (who, name, label_text)
            start = starts.get((name, label_text))
            self.histograms.setdefault(series, []).append(HistogramPoint(
                series=series, entity=who, name=name + label_text, base=name, labels=label_text, time=t,
                start=None if start is None else int(start * _NS), cumulative=True, count=count,
                total=point["sum"], buckets=hist, problem=problem))

    def report(self, report: LoadReport, stats: HistogramStats, *, counted_fallback: bool) -> None:
        """What the read changed; the fallback entity only when it was not given (``entity=``)."""
        source = self.source
        when = "time=" if self.default_time is not None else "the file's modification time"
        report.add(source, "time", f"gave samples without a timestamp {when}", self.untimed,
                   "an exposition is a snapshot; its samples carry a time only when the exporter writes one")
        report.add(source, "entity", f"named samples without {self.entity_label or 'job, instance or service'} "
                   f"label {self.fallback_entity!r}", self.fallback if counted_fallback else 0,
                   "a target's own /metrics has no job label (Prometheus adds it); pass entity= to name it")
        report.add(source, "metric", "used *_created samples as the start of their series, not as rows",
                   self.created_rows, "they hold a creation time, not a measurement")
        report.add(source, "metric", "left out native histogram samples", self.native,
                   "rcakit reads classic histograms (le buckets) from text expositions", dropped=True)
        if stats.points:
            report.add(source, "metric", "turned histogram samples into .count, .sum, .mean and quantile rows",
                       stats.points, "one row per statistic; quantiles interpolated linearly inside their bucket")
            report.add(source, "value", "computed histogram mean and quantiles over the interval since the "
                       "previous scrape", stats.intervals, "Prometheus histograms are cumulative")
            report.add(source, "value", "set histogram mean and quantiles to null for intervals without "
                       "observations", stats.empty_intervals, "nothing was recorded between the two scrapes")
            report.add(source, "value", "set quantiles that fall in the +Inf bucket to the highest finite bound",
                       stats.overflow, "histogram_quantile does the same")
            for problem, n in sorted(stats.problems.items()):
                report.add(source, "value", f"set quantiles to null for {problem}", n,
                           "rcakit cannot place the observations in buckets")


def _is_created(name: str, family_type: str, with_created: set[str]) -> bool:
    """A ``<series>_created`` sample: inside its family (OpenMetrics) or a gauge family of its own (Prometheus)."""
    return name.endswith("_created") and (family_type != "gauge" or name.removesuffix("_created") in with_created)


def _sample_ns(stamp: Timestamp | float) -> int:
    """A sample timestamp in unix nanoseconds (OpenMetrics: Timestamp(sec, nsec); Prometheus: float seconds)."""
    if hasattr(stamp, "sec") and hasattr(stamp, "nsec"):
        return int(stamp.sec) * _NS + int(stamp.nsec)
    return round(float(stamp) * _NS)
