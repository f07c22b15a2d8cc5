"""``analyze_many``: :func:`rcakit.pipeline.analyze` over many incidents on a Dask cluster, resumable.

Each incident is a small :class:`~rcakit.scale.specs.IncidentSpec`; the worker that runs it loads
the incident itself, analyses it and sends back a summary (rankings, fault type, report text,
seconds), never the telemetry. With ``results=folder`` each finished incident is written there at
once as ``<name>.json`` (an atomic write), so a batch that stops (Ctrl-C, a crash of the notebook,
a worker that dies) keeps what it finished, and the same call again skips those incidents.
"""

from __future__ import annotations

import html
import json
import math
import os
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

import polars as pl

from rcakit._io import atomic_write_json
from rcakit._progress import CancelToken, progress
from rcakit._types import JSONObject, JSONValue
from rcakit.errors import RcakitError
from rcakit.scale._dask import open_client
from rcakit.scale.specs import IncidentSpec

if TYPE_CHECKING:
    import networkx as nx
    from distributed import Client

    from rcakit.attribution import Attribution, Method
    from rcakit.graph import CausalDraft
    from rcakit.graph.proposal import Suggester
    from rcakit.llm import LLMClient

__all__ = ["AnalyzeOptions", "BatchError", "BatchResult", "IncidentOutcome", "analyze_many", "run_incident"]

_FORMAT = 1


class AnalyzeOptions(TypedDict, total=False):
    """The keywords of :func:`rcakit.pipeline.analyze` a batch passes on (``llm`` defaults to None in a batch)."""

    graph: nx.DiGraph | CausalDraft | None
    suggesters: Sequence[Suggester] | None
    method: Method | None
    llm: LLMClient | str | None
    multimodal: bool
    on_step: Callable[[str], None] | None
    cancel: CancelToken | None


@dataclass
class IncidentOutcome:
    """What one incident's analysis found (or why it failed), small enough to send and to keep on disk.

    Rankings are ``(node or entity, score)`` pairs, best first: ``ranking`` is the graph attribution's
    nodes, ``entities`` its entities, ``services`` the traces/logs ranking (when the incident had
    spans or logs) and ``fused`` the two fused. ``resumed`` is True when the outcome was read from the
    results folder instead of computed in this run.
    """

    name: str
    key: str
    status: str
    ranking: list[tuple[str, float]] = field(default_factory=list)
    entities: list[tuple[str, float]] = field(default_factory=list)
    services: list[tuple[str, float]] = field(default_factory=list)
    fused: list[tuple[str, float]] = field(default_factory=list)
    top_cause: str | None = None
    top_entity: str | None = None
    fault_type: str | None = None
    truth: list[str] = field(default_factory=list)
    truth_rank: int | None = None
    fused_truth_rank: int | None = None
    summary: str = ""
    limits: list[str] = field(default_factory=list)
    report: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    worker: str = ""
    error: str | None = None
    resumed: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> JSONObject:
        out = asdict(self)
        out.pop("resumed")
        for name in ("ranking", "entities", "services", "fused"):
            out[name] = [[n, _json_float(s)] for n, s in out[name]]
        return {"rcakit_outcome": _FORMAT, **out}

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue], *, resumed: bool = False) -> IncidentOutcome:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "resumed"}
        for name in ("ranking", "entities", "services", "fused"):
            fields[name] = [(str(n), float("nan") if s is None else float(s)) for n, s in fields.get(name, [])]
        return cls(**fields, resumed=resumed)


def _json_float(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass
class BatchResult:
    """The outcomes of a batch, in the order of the specs, and where they were written."""

    outcomes: list[IncidentOutcome]
    folder: Path | None = None
    seconds: float = 0.0
    dashboard: str | None = None

    @property
    def ok(self) -> list[IncidentOutcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[IncidentOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def resumed(self) -> list[IncidentOutcome]:
        """Outcomes read from the results folder (finished by an earlier run), not computed again."""
        return [o for o in self.outcomes if o.resumed]

    def __getitem__(self, name: str) -> IncidentOutcome:
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        raise KeyError(name)

    def top_k(self, k: int = 1, *, fused: bool = False) -> float:
        """The share of finished incidents with a truth whose true root cause ranks in the top ``k``."""
        scored = [o for o in self.ok if o.truth]
        if not scored:
            return float("nan")
        def rank(o: IncidentOutcome) -> int | None:
            return o.fused_truth_rank if fused else o.truth_rank

        return sum(1 for o in scored if (r := rank(o)) is not None and r <= k) / len(scored)

    def to_dict(self) -> JSONObject:
        return {"folder": str(self.folder) if self.folder else None, "seconds": self.seconds,
                "outcomes": [o.to_dict() for o in self.outcomes]}

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([{
            "incident": o.name, "status": o.status, "top_cause": o.top_cause, "top_entity": o.top_entity,
            "fault_type": o.fault_type, "truth": ", ".join(o.truth), "truth_rank": o.truth_rank,
            "fused_truth_rank": o.fused_truth_rank, "seconds": sum(o.seconds.values()), "resumed": o.resumed,
            "error": o.error,
        } for o in self.outcomes], schema_overrides={"truth_rank": pl.Int64, "fused_truth_rank": pl.Int64,
                                                     "error": pl.String, "fault_type": pl.String})

    def __repr__(self) -> str:
        return (f"BatchResult({len(self.ok)} finished ({len(self.resumed)} from earlier runs), "
                f"{len(self.failed)} failed, {self.seconds:.1f} s)")

    def _repr_html_(self) -> str:
        esc = html.escape
        head = (f"<b>Batch</b>: {len(self.ok)} finished ({len(self.resumed)} from earlier runs), "
                f"{len(self.failed)} failed, {self.seconds:.1f} s")
        if self.folder:
            head += f"; results in <code>{esc(str(self.folder))}</code>"
        if self.dashboard:
            head += f'; <a href="{esc(self.dashboard)}" target="_blank">Dask dashboard</a>'
        rows = "".join(
            f"<tr><td>{esc(o.name)}</td><td>{esc(o.status)}</td><td>{esc(str(o.top_cause or '-'))}</td>"
            f"<td>{esc(str(o.top_entity or '-'))}</td><td>{esc(str(o.truth_rank or '-'))}</td>"
            f"<td>{sum(o.seconds.values()):.1f}</td><td>{esc((o.error or '')[:200])}</td></tr>"
            for o in self.outcomes[:200])
        cols = "".join(f"<th>{c}</th>" for c in ("incident", "status", "top cause", "top entity", "truth rank",
                                                  "seconds", "error"))
        more = f"<br><small>{len(self.outcomes) - 200} more</small>" if len(self.outcomes) > 200 else ""
        return f"<div>{head}<table><tr>{cols}</tr>{rows}</table>{more}</div>"


class BatchError(RcakitError, RuntimeError):
    """Some incidents of a batch failed; ``result`` holds every outcome (the finished ones are on disk)."""

    def __init__(self, result: BatchResult) -> None:
        self.result = result
        failed = result.failed
        lines = [f"{o.name}: {(o.error or '').splitlines()[0] if o.error else 'failed'}" for o in failed[:10]]
        more = f" (and {len(failed) - 10} more)" if len(failed) > 10 else ""
        kept = (f"; the {len(result.ok)} finished incidents are kept in {result.folder} and a rerun of the "
                "same batch skips them" if result.folder else
                "; pass results=<folder> to keep finished incidents and resume")
        super().__init__(f"{len(failed)} of {len(result.outcomes)} incidents failed{more}: " + "; ".join(lines) + kept)


# -- one incident (runs on a worker) ---------------------------------------------------------------
def _pairs(attribution: Attribution | None, entities: bool = False) -> list[tuple[str, float]]:
    if attribution is None:
        return []
    if entities:
        return [(str(e), float(s)) for e, s in attribution.entities]
    return [(str(c.node), float(c.score)) for c in attribution.causes]


def run_incident(spec: IncidentSpec, options: AnalyzeOptions | Mapping[str, object] | None = None) -> JSONObject:
    """Load and analyse one incident; the outcome as a dict (what a worker sends back).

    ``options`` go to :func:`rcakit.pipeline.analyze` (``llm`` defaults to None: a batch runs
    offline unless asked). An exception becomes a failed outcome naming the incident, with the traceback.
    """
    from rcakit._progress import set_progress
    from rcakit.pipeline import analyze

    opts = dict(options or {})
    set_progress(bool(opts.pop("_progress", False)))
    opts.setdefault("llm", None)
    worker = f"{os.uname().nodename}:{os.getpid()}"
    t0 = time.perf_counter()
    try:
        incident = spec.load()
        loaded = time.perf_counter() - t0
        analysis = analyze(incident, **cast(AnalyzeOptions, opts))  # analyze checks the keywords it is given
    except Exception as exc:
        return IncidentOutcome(spec.name, spec.key, "failed", worker=worker,
                               error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}").to_dict()
    truth = list(incident.truth.root_cause_entities) if incident.truth is not None else []
    tel = incident.telemetry
    fault = analysis.fault
    report = analysis.report
    outcome = IncidentOutcome(
        spec.name, spec.key, "ok",
        ranking=_pairs(analysis.attribution), entities=_pairs(analysis.attribution, entities=True),
        services=_pairs(analysis.services, entities=True), fused=_pairs(analysis.fused, entities=True),
        top_cause=analysis.top_cause, top_entity=analysis.top_entity,
        fault_type=None if fault is None else str(getattr(fault, "fault_type", fault)),
        truth=truth,
        truth_rank=analysis.attribution.rank_of(truth[0]) if truth and analysis.attribution is not None else None,
        fused_truth_rank=analysis.fused.rank_of(truth[0]) if truth and analysis.fused is not None else None,
        summary=analysis.summary(), limits=list(analysis.limits),
        report=report.to_markdown() if hasattr(report, "to_markdown") else str(report),
        seconds={"load": loaded, **analysis.seconds},
        rows={"metrics": tel.metrics.height, "logs": tel.logs.height, "spans": tel.spans.height},
        worker=worker,
    )
    return outcome.to_dict()


# -- the batch ---------------------------------------------------------------------------------------
def _finished(folder: Path | None, spec: IncidentSpec) -> IncidentOutcome | None:
    if folder is None:
        return None
    path = folder / spec.filename
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None  # a damaged file is computed again
    if data.get("status") != "ok" or data.get("key") != spec.key:
        return None
    return IncidentOutcome.from_dict(data, resumed=True)


def _check_specs(specs: Sequence[IncidentSpec]) -> None:
    seen: dict[str, str] = {}
    for spec in specs:
        if not isinstance(spec, IncidentSpec):
            raise TypeError(f"analyze_many takes IncidentSpec objects, got {type(spec).__name__}; build them with "
                            "IncidentSpec.folder / .store / .call")
        if spec.filename in seen:
            raise ValueError(f"two incidents share the name {spec.name!r} (or one that makes the same file name as "
                             f"{seen[spec.filename]!r}): names must be unique in a batch")
        seen[spec.filename] = spec.name


def _worker_died(spec: IncidentSpec, exc: BaseException) -> IncidentOutcome:
    return IncidentOutcome(spec.name, spec.key, "failed", error=(
        f"the worker analysing incident {spec.name!r} died ({type(exc).__name__}: {exc}). A worker dies when it "
        "runs out of memory (see the dashboard's worker memory) or crashes in native code; finished incidents "
        "are kept, and the same call again resumes with the others"))


def analyze_many(
    specs: Iterable[IncidentSpec],
    *,
    client: Client | None = None,
    address: str | None = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    serial: bool = False,
    results: str | Path | None = None,
    resume: bool = True,
    errors: str = "raise",
    options: AnalyzeOptions | None = None,
    cancel: CancelToken | None = None,
    show_progress: bool = True,
) -> BatchResult:
    """Analyse every incident of ``specs`` with :func:`rcakit.pipeline.analyze` on a Dask cluster.

    The cluster: ``client`` (a ``distributed.Client``), else a scheduler at ``address``
    (``"tcp://host:8786"``), else a new LocalCluster of ``n_workers`` processes (closed at the end);
    ``serial=True`` runs in this process without Dask (the same code, for comparison and debugging).
    Workers load each incident from its spec themselves: give them paths they can read.

    ``results``: a folder where each finished incident is written at once as ``<name>.json``; with
    ``resume=True`` incidents already there (same name and recipe) are not analysed again. A failure
    (an exception, a worker that died) names the incident; the others go on. ``errors="raise"`` then
    raises :class:`BatchError` (its ``result`` holds every outcome), ``errors="keep"`` returns the
    result with the failures in ``result.failed``. ``options`` go to ``analyze`` (``llm`` defaults to
    None). A notebook progress bar counts finished incidents; the Dask dashboard link is printed.

    >>> specs = [IncidentSpec.folder(p) for p in sorted(Path("incidents").iterdir())]  # doctest: +SKIP
    >>> result = analyze_many(specs, results="results/")                                # doctest: +SKIP
    >>> result.to_frame()                                                                # doctest: +SKIP
    """
    if errors not in ("raise", "keep"):
        raise ValueError(f"errors must be 'raise' or 'keep', got {errors!r}")
    todo_specs = list(specs)
    _check_specs(todo_specs)
    folder = Path(results) if results is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    done: dict[str, IncidentOutcome] = {}
    if resume:
        for spec in todo_specs:
            found = _finished(folder, spec)
            if found is not None:
                done[spec.name] = found
    todo = [s for s in todo_specs if s.name not in done]
    opts = {**dict(options or {}), "_progress": False}

    def record(spec: IncidentSpec, outcome: IncidentOutcome) -> None:
        done[spec.name] = outcome
        if folder is not None:
            atomic_write_json(folder / spec.filename, outcome.to_dict())

    dashboard = None
    if todo and serial:
        for spec in progress(todo, total=len(todo), desc="incidents") if show_progress else todo:
            if cancel is not None:
                cancel.raise_if_cancelled()
            record(spec, IncidentOutcome.from_dict(run_incident(spec, opts)))
    elif todo:
        dashboard = _run_on_dask(todo, opts, record, client=client, address=address, n_workers=n_workers,
                                 threads_per_worker=threads_per_worker, cancel=cancel, show_progress=show_progress)
    result = BatchResult([done[s.name] for s in todo_specs], folder, time.perf_counter() - t0, dashboard)
    if result.failed and errors == "raise":
        raise BatchError(result)
    return result


def _run_on_dask(todo: list[IncidentSpec], opts: Mapping[str, object], record: Callable[[IncidentSpec, IncidentOutcome], None],
                 *, client: Client | None, address: str | None,
                 n_workers: int, threads_per_worker: int, cancel: CancelToken | None, show_progress: bool
                 ) -> str | None:
    from rcakit.scale._dask import require_distributed

    distributed = require_distributed()
    as_completed = distributed.as_completed
    with open_client(client, address=address, n_workers=n_workers, threads_per_worker=threads_per_worker) as c:
        futures = {c.submit(run_incident, spec, opts, key=f"rcakit-incident-{spec.key}-{time.time_ns()}", pure=False):
                   spec for spec in todo}
        finished = as_completed(list(futures))
        try:
            for future in progress(finished, total=len(futures), desc="incidents") if show_progress else finished:
                spec = futures[future]
                try:
                    outcome = IncidentOutcome.from_dict(future.result())
                except distributed.KilledWorker as exc:
                    outcome = _worker_died(spec, exc)
                except Exception as exc:  # a result that could not come back (lost scheduler, unpicklable)
                    outcome = IncidentOutcome(spec.name, spec.key, "failed", error=f"{type(exc).__name__}: {exc}")
                record(spec, outcome)
                future.release()
                if cancel is not None and cancel.cancelled:
                    # distributed leaves Client.cancel and Future.done unannotated
                    c.cancel([f for f in futures if not f.done()])  # type: ignore[no-untyped-call]
                    cancel.raise_if_cancelled()
        except BaseException:
            # Ctrl-C or cancel: stop the rest; what finished is on disk
            c.cancel(list(futures))  # type: ignore[no-untyped-call]
            raise
        return str(getattr(c, "dashboard_link", "") or "") or None
