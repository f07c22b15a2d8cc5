"""``python -m rcakit.bench detect``: does detection point at the injected service, and how fast is featurizing?

For every Nezha fault (day 2023-01-30) and every PetShop low_traffic issue: is the root-cause entity
among the anomalous entities, and its rank by anomaly score (metrics, n-sigma by default; for Nezha
also the rank by the share of slow entry spans in traces). Then the time to featurize the whole
Nezha day (metrics, logs and traces; ``entity_features``), beside a baseline measured in the same
process: reading and grouping the metrics alone.

Options: ``--method nsigma|robust_z|cusum``, ``--repeat N`` (timing repeats, default 3),
``--skip-nezha``, ``--skip-petshop``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from rcakit.bench._common import Row
    from rcakit.telemetry import Incident

__all__ = ["main"]


def _rank_rows(incidents: list[Incident], method: str, *, traces: bool) -> list[Row]:
    from rcakit.detect import detect_anomalies
    from rcakit.errors import DataError

    rows: list[Row] = []
    for incident in incidents:
        truth = incident.root_cause_entities[0] if incident.root_cause_entities else "?"
        anomalies = detect_anomalies(incident, method=method)
        ranking = anomalies.entity_ranking()
        row: Row = {
            "incident": incident.name,
            "root cause": truth,
            "fault": (incident.truth.fault_type if incident.truth else None) or "-",
            "anomalous?": "yes" if truth in anomalies.anomalous_entities() else "no",
            "rank": anomalies.entity_rank(truth) or "-",
            "of": ranking.height,
            "anomalous entities": len(anomalies.anomalous_entities()),
        }
        if traces:
            from rcakit.detect.traces import analyze_traces

            try:
                analysis = analyze_traces(incident)
                row["trace rank"] = analysis.entity_rank(truth) or "-"
                row["trace of"] = analysis.entity_ranking().height
            except DataError:
                row["trace rank"], row["trace of"] = "-", 0
        rows.append(row)
    return rows


def _summary(rows: list[Row], key: str = "rank") -> str:
    ranks = [rank for r in rows if isinstance(rank := r[key], int)]
    n = len(rows)
    if not n:
        return "no incidents"
    top = {k: sum(1 for x in ranks if x <= k) / n for k in (1, 3, 5)}
    flagged = sum(1 for r in rows if r.get("anomalous?") == "yes")
    lead = f"root cause anomalous in {flagged}/{n}; " if key == "rank" else ""
    return (f"{n} incidents: {lead}{key} top-1 {top[1]:.0%}, top-3 {top[3]:.0%}, "
            f"top-5 {top[5]:.0%}; median {key} {statistics.median(ranks) if ranks else '-'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rcakit.bench detect", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", default="nsigma", choices=["nsigma", "robust_z", "cusum"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-nezha", action="store_true")
    parser.add_argument("--skip-petshop", action="store_true")
    args = parser.parse_args(argv or [])

    os.environ.setdefault("RCAKIT_PROGRESS", "0")
    from rcakit.bench._common import markdown_table, median_time, peak_rss_mb, require_datasets
    from rcakit.telemetry.datasets import load_nezha, load_petshop

    root = require_datasets()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"# rcakit.bench detect (method {args.method}; {cpus} CPUs; load average "
          f"{os.getloadavg()[0]:.1f})\n")

    if not args.skip_nezha:
        t0 = time.perf_counter()
        nezha = load_nezha(root / "nezha-trainticket")
        load_s = time.perf_counter() - t0
        print(f"## Nezha TrainTicket 2023-01-30: {len(nezha)} faults (loaded in {load_s:.1f} s)\n")
        rows = _rank_rows(nezha, args.method, traces=True)
        print(markdown_table(rows, ["incident", "root cause", "fault", "anomalous?", "rank", "of",
                                    "anomalous entities", "trace rank", "trace of"]))
        print(f"\nmetrics: {_summary(rows)}\ntraces: {_summary(rows, 'trace rank')}\n")

    if not args.skip_petshop:
        petshop = load_petshop(root / "petshop")
        print(f"## PetShop low_traffic: {len(petshop)} issues\n")
        rows = _rank_rows(petshop, args.method, traces=False)
        print(markdown_table(rows, ["incident", "root cause", "anomalous?", "rank", "of", "anomalous entities"]))
        print(f"\nmetrics: {_summary(rows)}\n")

    if not args.skip_nezha:
        import polars as pl

        from rcakit.detect.features import entity_features

        tel = nezha[0].telemetry

        def featurize() -> dict[str, pl.DataFrame]:
            return entity_features(tel, freq="1m")

        def baseline() -> int:
            return (tel.metrics.group_by("entity", "metric", pl.col("time").dt.truncate("1m"))
                    .agg(pl.col("value").mean()).height)

        base_s, _ = median_time(baseline, repeat=args.repeat)
        cpu0 = time.process_time()
        feat_s, tables = median_time(featurize, repeat=args.repeat)
        cpu_s = (time.process_time() - cpu0) / args.repeat
        columns = sum(t.width - 1 for t in tables.values())
        summary = tel.summary()
        print("## Featurizing the whole Nezha day (entity_features, 1-minute grid, all three modalities)\n")
        print(markdown_table([
            {"step": "baseline: group metrics by node and minute", "median s": base_s, "cpu s": "-",
             "output": f"{summary['metric_rows']:,} metric rows"},
            {"step": "entity_features (metrics + logs + traces)", "median s": feat_s, "cpu s": cpu_s,
             "output": f"{len(tables)} entities, {columns} feature columns, "
                       f"{summary['log_lines']:,} log lines, {summary['spans']:,} spans"},
        ]))
        print(f"\ntarget <= 20 s on 2 cores; peak RSS {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
