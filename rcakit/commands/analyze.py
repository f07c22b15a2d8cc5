"""``rcakit analyze <incident folder | dataset folder> --report out.html``: the whole pipeline, offline.

While it runs it says what it is doing: a progress bar of the five steps (detect, draft, attribute,
classify, report) on a terminal, one line per step otherwise (a CI log), nothing with ``--no-progress`` or
``RCAKIT_PROGRESS=0``. Ctrl-C stops it between or inside steps and says where it stopped (exit code 130).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

    from rcakit.telemetry import Incident

__all__ = ["STEPS", "StepProgress", "add_parser", "run"]

# analyze()'s steps, in order, and what each is doing in words
STEPS = {
    "detect": "detecting anomalies (metrics, logs, traces)",
    "draft": "drafting the causal graph",
    "attribute": "attributing the alarm to root causes",
    "classify": "classifying the fault",
    "report": "writing the report",
}


class StepProgress:
    """Shows analyze()'s steps: a tqdm bar on a terminal, a line per step elsewhere, nothing when off.

    Its ``step(name)`` is ``analyze(on_step=...)``; ``current`` names the step running (for a Ctrl-C message).
    """

    def __init__(self, label: str, *, enabled: bool = True, stream: TextIO | None = None,
                 position: tuple[int, int] | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.current: str | None = None
        self._done = 0
        self._prefix = f"[{position[0]}/{position[1]}] " if position and position[1] > 1 else ""
        self._bar: tqdm | None = None
        if enabled and getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            # disable=False: this class already decided to show a bar; tqdm's own TQDM_DISABLE default is read
            # once, when tqdm is imported, and would otherwise outlive a caller's change of the environment.
            self._bar = tqdm(total=len(STEPS), desc=f"{self._prefix}{label}", file=self.stream, unit="step",
                             disable=False,
                             bar_format="{desc}: {bar:20} {n_fmt}/{total_fmt} steps [{elapsed}]{postfix}", leave=False)

    def step(self, name: str) -> None:
        if self.current is not None:
            self._done += 1
        self.current = name
        what = STEPS.get(name, name)
        if self._bar is not None:
            self._bar.n = self._done
            self._bar.set_postfix_str(what)
        elif self.enabled:
            print(f"rcakit analyze: {self._prefix}{self.label}: {what} ({self._done + 1}/{len(STEPS)})",
                  file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.n = len(STEPS)
            self._bar.close()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    p.add_argument("--no-progress", action="store_true",
                   help="do not say what each step is doing (also RCAKIT_PROGRESS=0)")


def _incidents(source: Path) -> list[Incident]:
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
    from rcakit._progress import progress_enabled

    llm = None if args.offline else "auto"
    show = progress_enabled() and not getattr(args, "no_progress", False)
    for number, incident in enumerate(incidents, start=1):
        steps = StepProgress(incident.name, enabled=show, position=(number, len(incidents)))
        try:
            result = analyze(incident, llm=llm, on_step=steps.step)
        except KeyboardInterrupt:
            steps.close()
            where = STEPS.get(steps.current or "", "starting")
            print(f"rcakit analyze: interrupted while {where} for {incident.name}"
                  f"{f' (incident {number} of {len(incidents)})' if len(incidents) > 1 else ''}; "
                  f"{'no report was written' if args.report else 'stopped'}", file=sys.stderr)
            return 130
        steps.close()
        if args.json:
            print(json.dumps({"incident": incident.name, "causes": [c.to_dict() for c in result.attribution.causes[:10]],
                              "fault_type": getattr(result.fault, "fault_type", None)}, default=str))
        else:
            print(result.summary())
        if args.report:
            path = result.report.save(args.report)
            print(f"report: {path.resolve()} (written by {result.report.writer})")
    return 0
