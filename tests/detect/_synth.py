"""Synthetic incidents for the detect tests (seeded)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from rcakit.telemetry import GroundTruth, Incident, Telemetry

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
STEP = timedelta(minutes=1)


def times(n: int, start: datetime = T0) -> list[datetime]:
    return [start + i * STEP for i in range(n)]


def metric_frame(series: dict[str, np.ndarray], start: datetime = T0) -> pl.DataFrame:
    parts = []
    for node, values in series.items():
        entity, metric = node.split(":", 1)
        parts.append(pl.DataFrame({"time": times(len(values), start), "entity": entity, "metric": metric,
                                   "value": np.asarray(values, dtype=float)}))
    return pl.concat(parts)


def incident_from(series: dict[str, np.ndarray], n_base: int, **kwargs: object) -> Incident:
    """Baseline = the first ``n_base`` steps, incident = the rest."""
    n = max(len(v) for v in series.values())
    tel = Telemetry(metric_frame(series))
    return Incident(tel, (T0, T0 + n_base * STEP), (T0 + n_base * STEP, T0 + n * STEP), **kwargs)  # type: ignore[arg-type]


def multimodal_incident(seed: int = 0, culprit: str = "db") -> Incident:
    """frontend -> api -> db; the culprit gets slow, logs errors and a new log template in the incident."""
    rng = np.random.default_rng(seed)
    n_base, n_inc = 40, 20
    n = n_base + n_inc
    series = {}
    for entity in ("frontend", "api", "db"):
        cpu = rng.normal(20, 1, n)
        lat = rng.normal(0.05, 0.002, n)
        if entity == culprit:
            lat[n_base:] += 0.05
            cpu[n_base:] += 10
        series[f"{entity}:cpu"] = cpu
        series[f"{entity}:latency"] = lat
    metrics = metric_frame(series)

    log_rows = []
    span_rows = []
    for minute in range(n):
        t = T0 + minute * STEP
        for k in range(10):
            at = t + timedelta(seconds=k * 5)
            trace = f"t{minute:03d}{k:02d}"
            slow = minute >= n_base
            base_lat = {"frontend": 0.02, "api": 0.01, "db": 0.005}
            extra = 0.2 if slow else 0.0
            durations = {
                "db": base_lat["db"] + rng.uniform(0, 0.001) + (extra if culprit == "db" else 0.0),
            }
            durations["api"] = base_lat["api"] + durations["db"] + rng.uniform(0, 0.001)
            durations["frontend"] = base_lat["frontend"] + durations["api"] + rng.uniform(0, 0.001)
            parent = None
            for depth, entity in enumerate(("frontend", "api", "db")):
                span_id = f"{trace}-{depth}"
                span_rows.append({"trace_id": trace, "span_id": span_id, "parent_id": parent, "entity": entity,
                                  "operation": f"{entity}.handle", "start": at,
                                  "end": at + timedelta(seconds=durations[entity]),
                                  "error": bool(slow and entity == culprit and k == 0)})
                parent = span_id
            if slow and k == 9:
                # a call path never seen in the baseline
                span_rows.append({"trace_id": trace, "span_id": f"{trace}-x", "parent_id": f"{trace}-1",
                                  "entity": "cache", "operation": "cache.get", "start": at,
                                  "end": at + timedelta(seconds=0.001), "error": False})
            log_rows.append({"time": at, "entity": "api", "level": "INFO",
                             "message": f"request {1000 + k} served in {k * 3} ms for user {k * 7}"})
            log_rows.append({"time": at, "entity": "db",
                             "message": f'{{"log": "query id={k} rows={k * 2} ok\\n", "stream": "stdout"}}'})
            if slow and k % 3 == 0:
                log_rows.append({"time": at, "entity": culprit, "level": "ERROR",
                                 "message": f"connection pool exhausted after {k + 30} ms timeout to 10.0.0.{k}"})
    logs = pl.DataFrame(log_rows, schema={"time": pl.Datetime("us", "UTC"), "entity": pl.String,
                                          "level": pl.String, "message": pl.String})
    spans = pl.DataFrame(span_rows)
    tel = Telemetry(metrics, logs, spans)
    return Incident(tel, (T0, T0 + n_base * STEP), (T0 + n_base * STEP, T0 + n * STEP),
                    alarm="frontend:latency", truth=GroundTruth(root_cause_entities=(culprit,)), name="synthetic")
