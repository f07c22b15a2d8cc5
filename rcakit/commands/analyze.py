"""``rcakit analyze <incident folder | dataset folder> --report out.html``: the whole pipeline, offline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="run detection, drafting, attribution and the report on an incident",
                       description="Analyse an incident folder (rcakit format, e.g. sample_data/...) or a dataset "
                                   "folder (PetShop, Nezha, DoWhy, IT monitoring) and write the report.")
    p.add_argument("source", help="an incident folder, a dataset folder, or a dataset folder's issue sub-folder")
    p.add_argument("--report", default=None, help="write the report here (.html or .md)")
    p.add_argument("--incident", default=None,
                   help="when SOURCE holds several incidents: the name (or a unique part of it) of the one to analyse; "
                        "without it every incident is analysed, one line each")
    p.add_argument("--json", action="store_true", help="print the ranking as JSON")
    p.add_argument("--offline", action="store_true", help="never use a language model, even if one is configured")


def _incidents(source: Path) -> list:
    from rcakit.telemetry import load_incident

    if (source / "incident.json").is_file():
        return [load_incident(source)]
    from rcakit.telemetry.datasets import load

    return list(load(source))


def run(args: argparse.Namespace) -> int:
    from rcakit.errors import RcakitError
    from rcakit.pipeline import analyze

    source = Path(args.source)
    if not source.exists():
        print(f"rcakit analyze: {source} does not exist", file=sys.stderr)
        return 2
    try:
        incidents = _incidents(source)
    except RcakitError as exc:
        print(f"rcakit analyze: {exc}", file=sys.stderr)
        return 2
    if args.incident:
        chosen = [i for i in incidents if i.name == args.incident] or [i for i in incidents if args.incident in i.name]
        if len(chosen) != 1:
            names = ", ".join(i.name for i in incidents[:10])
            print(f"rcakit analyze: {len(chosen)} incidents match {args.incident!r}; some are: {names}", file=sys.stderr)
            return 2
        incidents = chosen
    elif len(incidents) > 1 and args.report:
        print(f"rcakit analyze: {source} holds {len(incidents)} incidents; pick one with --incident NAME "
              f"(e.g. {incidents[0].name}), or drop --report to analyse them all", file=sys.stderr)
        return 2
    llm = None if args.offline else "auto"
    for incident in incidents:
        result = analyze(incident, llm=llm)
        if args.json:
            print(json.dumps({"incident": incident.name, "causes": [c.to_dict() for c in result.attribution.causes[:10]],
                              "fault_type": getattr(result.fault, "fault_type", None)}, default=str))
        else:
            print(result.summary())
        if args.report:
            path = result.report.save(args.report)
            print(f"report: {path.resolve()} (written by {result.report.writer})")
    return 0
