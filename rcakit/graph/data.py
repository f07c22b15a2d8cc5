"""Data-driven structure learning: causal-learn's PC, GES and GRaSP, and a NOTEARS learner.

:func:`discover` learns a graph from a wide aligned frame (one column per node) with background
knowledge (:class:`Background`: required edges always appear, forbidden edges never do; a rejected
edge is forbidden in both directions). PC takes the knowledge natively; every method's result is
then made to respect it exactly. :func:`notears` is the continuous-optimisation learner of Zheng et
al. with the acyclicity constraint h(A) = tr(e^(A∘A)) - d (CGL-BFI eq. 2), in numpy/scipy.

Runs are bounded: rows are subsampled (seeded) to ``max_samples`` and the learner runs in a child
process (a fresh interpreter) that is stopped after ``max_seconds`` (the result then says ``timed_out``).
:class:`DataSuggester` wraps a method behind the :class:`~rcakit.graph.proposal.Suggester` interface.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, TypeAlias, cast

import networkx as nx
import numpy as np

from rcakit.errors import DataError
from rcakit.graph._learners import DiscoveryMethod, _Job, _learn, _Learned
from rcakit.graph.notears import notears
from rcakit.graph.proposal import CandidatePair, Proposal, Provenance, Verdict
from rcakit.graph.system import SystemModel

if TYPE_CHECKING:
    import subprocess

    import pandas as pd
    import polars as pl

    from rcakit._progress import CancelToken
    from rcakit._types import JSONObject
    from rcakit.graph.draft import CausalDraft
    from rcakit.telemetry import AlignedMetrics

__all__ = ["Background", "DataSuggester", "DiscoveryMethod", "DiscoveryResult", "WideData", "discover", "notears",
           "wide_matrix"]


#: A wide frame with one column per node (and maybe ``time``): polars, pandas, or ``Telemetry.align``'s result.
WideData: TypeAlias = "pl.DataFrame | pd.DataFrame | AlignedMetrics"


@dataclass
class Background:
    """Edges the learner must keep (``required``) and must not propose (``forbidden``, directed)."""

    required: set[tuple[str, str]] = field(default_factory=set)
    forbidden: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def from_decisions(cls, accepted: Iterable[tuple[str, str]] = (),
                       rejected: Iterable[tuple[str, str]] = ()) -> Background:
        """Accepted edges required; rejected edges forbidden in both directions."""
        bg = cls(required={(str(u), str(v)) for u, v in accepted})
        for u, v in rejected:
            bg.forbidden |= {(str(u), str(v)), (str(v), str(u))}
        return bg

    @classmethod
    def from_draft(cls, draft: CausalDraft) -> Background:
        """From a draft's human decisions: accepted edges required, rejected ones forbidden both ways."""
        from rcakit.graph.draft import EdgeStatus

        return cls.from_decisions([e.key for e in draft.edges_where(status=EdgeStatus.ACCEPTED)],
                                  [e.key for e in draft.edges_where(status=EdgeStatus.REJECTED)])

    def check(self) -> None:
        clash = self.required & self.forbidden
        if clash:
            u, v = sorted(clash)[0]
            raise DataError(f"edge {u!r} -> {v!r} is both required and forbidden",
                            hint="An accepted edge cannot also be rejected; undo one of the two decisions")
        both = sorted((u, v) for u, v in self.required if (v, u) in self.required and u < v)
        if both:
            u, v = both[0]
            raise DataError(f"both {u!r} -> {v!r} and {v!r} -> {u!r} are required",
                            hint="A causal graph cannot hold both directions; keep one of the two decisions")

    def restrict(self, nodes: Iterable[str]) -> Background:
        keep = set(nodes)
        return Background({e for e in self.required if e[0] in keep and e[1] in keep},
                          {e for e in self.forbidden if e[0] in keep and e[1] in keep})


@dataclass
class DiscoveryResult:
    """A learned graph: directed edges in ``graph``, edges of unknown direction in ``undirected``."""

    method: str
    graph: nx.DiGraph
    undirected: list[tuple[str, str]]
    nodes: list[str]
    seconds: float
    n_samples: int
    timed_out: bool = False
    weights: dict[tuple[str, str], float] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def to_dict(self) -> JSONObject:
        return {"method": self.method, "edges": [list(e) for e in self.graph.edges],
                "undirected": [list(e) for e in self.undirected], "nodes": self.nodes, "seconds": self.seconds,
                "n_samples": self.n_samples, "timed_out": self.timed_out, "dropped": self.dropped}

    def adjacent(self, a: str, b: str) -> bool:
        return self.graph.has_edge(a, b) or self.graph.has_edge(b, a) or (a, b) in self._und or (b, a) in self._und

    @property
    def _und(self) -> set[tuple[str, str]]:
        return set(self.undirected)

    def _repr_html_(self) -> str:
        state = " (timed out)" if self.timed_out else ""
        return (f"<b>DiscoveryResult</b> {html.escape(self.method)}{state}: {len(self.nodes)} nodes, "
                f"{self.graph.number_of_edges()} directed and {len(self.undirected)} undirected edges, "
                f"{self.n_samples} rows, {self.seconds:.2f} s")


# -- data ---------------------------------------------------------------------------------------------
def wide_matrix(data: WideData, nodes: Iterable[str] | None = None, *, max_samples: int | None = None,
                seed: int = 0, standardize: bool = True) -> tuple[np.ndarray, list[str], list[str]]:
    """(rows x nodes matrix, the nodes kept, the nodes dropped as constant or empty) from a wide frame.

    ``data`` is a polars or pandas frame (or an AlignedMetrics) with one column per node; a
    ``time`` column is ignored. Missing values are filled forward, then backward, then with the
    column mean. Rows are subsampled evenly at random (``seed``) down to ``max_samples``.
    """
    import polars as pl

    if hasattr(data, "frame") and not isinstance(data, pl.DataFrame):
        data = data.frame
    if not isinstance(data, pl.DataFrame):
        try:
            data = pl.from_pandas(data)
        except Exception as exc:
            raise DataError(f"expected a polars or pandas frame with one column per node, got {type(data).__name__}",
                            hint="Pass incident.aligned(freq, agg).frame or a pandas DataFrame") from exc
    columns = [c for c in data.columns if c != "time"]
    wanted = list(nodes) if nodes is not None else columns
    missing = [n for n in wanted if n not in data.columns]
    if nodes is None and not wanted:
        raise DataError("the data has no node columns", hint="One column per node, named entity:metric")
    present = [n for n in wanted if n in data.columns]
    frame = data.select([pl.col(c).cast(pl.Float64, strict=False) for c in present]) if present else pl.DataFrame()
    frame = frame.fill_nan(None).fill_null(strategy="forward").fill_null(strategy="backward")
    x = frame.to_numpy().astype(float) if present else np.zeros((0, 0))
    kept, dropped = [], list(missing)
    cols = []
    for j, name in enumerate(present):
        col = x[:, j]
        finite = np.isfinite(col)
        if finite.sum() < 3 or np.nanstd(col[finite]) <= 1e-12:
            dropped.append(name)
            continue
        col = np.where(finite, col, np.nanmean(col[finite]))
        cols.append(col)
        kept.append(name)
    mat = np.column_stack(cols) if cols else np.zeros((x.shape[0], 0))
    if max_samples is not None and mat.shape[0] > max_samples:
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(mat.shape[0], size=max_samples, replace=False))
        mat = mat[idx]
    if standardize and mat.size:
        mat = (mat - mat.mean(axis=0)) / mat.std(axis=0)
    return mat, kept, dropped


class _Worker:
    """One long-lived child interpreter running ``rcakit.graph._worker`` (see there)."""

    proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def run(cls, args: _Job, max_seconds: float) -> _Learned | None:
        import select
        import subprocess
        import sys

        from rcakit.graph._worker import decode_result, encode_job, read_frame, write_frame

        if cls.proc is None or cls.proc.poll() is not None:
            cls.proc = subprocess.Popen([sys.executable, "-m", "rcakit.graph._worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            import atexit

            atexit.register(cls.stop)
        proc = cls.proc
        stdin, stdout = cast("IO[bytes]", proc.stdin), cast("IO[bytes]", proc.stdout)  # Popen was given PIPE
        write_frame(stdin, encode_job(*args))
        ready, _, _ = select.select([stdout], [], [], max_seconds)
        if not ready:
            cls.stop()
            return None
        frame = read_frame(stdout)
        if frame is None:
            cls.stop()
            raise DataError("structure learning crashed in its child process",
                            hint="Run discover(..., max_seconds=None) to see the error in this process")
        status, payload = decode_result(frame)
        if status != "ok":
            raise DataError(f"structure learning failed: {payload}",
                            hint="Check the data for duplicated or constant columns, or try another method")
        return cast("_Learned", payload)  # an "ok" result's payload is the learner's

    @classmethod
    def stop(cls) -> None:
        proc, cls.proc = cls.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5)


def _run_bounded(args: _Job, max_seconds: float | None) -> _Learned | None:
    """Run the learner in the child interpreter; None when it ran out of time (the child is then killed).

    A fresh interpreter rather than a fork: forking a process whose BLAS and polars thread pools
    are running can hang the child. ``max_seconds=None`` runs here, unbounded.
    """
    if max_seconds is None:
        return _learn(*args)
    return _Worker.run(args, max_seconds)


def discover(
    data: WideData,
    *,
    method: DiscoveryMethod | str = DiscoveryMethod.PC,
    nodes: Iterable[str] | None = None,
    background: Background | None = None,
    alpha: float = 0.05,
    max_samples: int | None = 2000,
    max_seconds: float | None = 120.0,
    seed: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
) -> DiscoveryResult:
    """Learn a causal graph from ``data`` (wide frame, one column per node) with ``method``.

    ``background`` is respected exactly: required edges are in the result, forbidden ones are not
    (the learner is told where it can be, then the result is corrected). Constant or empty columns
    are dropped (listed in ``dropped``). ``max_seconds`` bounds the learner (``timed_out`` then and
    the graph holds only the required edges). ``on_progress(done, total)`` reports 0/1 and 1/1.
    """
    method = DiscoveryMethod(method)
    started = time.perf_counter()
    x, kept, dropped = wide_matrix(data, nodes, max_samples=max_samples, seed=seed)
    bg = (background or Background()).restrict(kept)
    bg.check()
    index = {n: i for i, n in enumerate(kept)}
    required = sorted((index[u], index[v]) for u, v in bg.required)
    forbidden = sorted((index[u], index[v]) for u, v in bg.forbidden)
    if on_progress is not None:
        on_progress(0, 1)
    result: _Learned | None
    if len(kept) < 2:
        result = {"directed": [], "undirected": [], "weights": {}}
    else:
        rng = np.random.default_rng(seed)
        # A whisper of seeded noise keeps tests of exactly collinear columns (sums of others) defined.
        x = x + rng.normal(scale=1e-6, size=x.shape)
        # NOTEARS stops itself a little before the bound and returns its current estimate.
        deadline = time.monotonic() + 0.8 * max_seconds if max_seconds is not None else None
        result = _run_bounded((method.value, x, alpha, required, forbidden, deadline, seed), max_seconds)
    timed_out = result is None
    result = result or {"directed": [], "undirected": [], "weights": {}}
    g = nx.DiGraph()
    g.add_nodes_from(kept)
    weights: dict[tuple[str, str], float] = {}
    for i, j in result["directed"]:
        g.add_edge(kept[i], kept[j])
        if f"{i},{j}" in result["weights"]:
            weights[(kept[i], kept[j])] = result["weights"][f"{i},{j}"]
    undirected = [(kept[i], kept[j]) for i, j in result["undirected"]]
    # Background knowledge, exactly: forbidden out, required in (with its reverse removed).
    for u, v in bg.forbidden:
        if g.has_edge(u, v):
            g.remove_edge(u, v)
    undirected = [(u, v) for u, v in undirected if (u, v) not in bg.forbidden or (v, u) not in bg.forbidden]
    new_und = []
    for u, v in undirected:
        if (u, v) in bg.forbidden:
            g.add_edge(v, u)
        elif (v, u) in bg.forbidden:
            g.add_edge(u, v)
        else:
            new_und.append((u, v))
    undirected = new_und
    for u, v in bg.required:
        if g.has_edge(v, u):
            g.remove_edge(v, u)
        g.add_edge(u, v)
    undirected = [(a, b) for a, b in undirected if {a, b} not in ({u, v} for u, v in bg.required)]
    if on_progress is not None:
        on_progress(1, 1)
    return DiscoveryResult(method.value, g, undirected, kept, round(time.perf_counter() - started, 4), x.shape[0],
                           timed_out, weights, dropped)


# -- the suggester ----------------------------------------------------------------------------------------
class DataSuggester:
    """A structure learner behind the Suggester interface.

    It learns over the observed nodes of the candidate pairs that have data, then answers each pair:
    a directed edge is a proposal (confidence ``confidence``), an undirected one an abstain with the
    adjacency as evidence, no adjacency "no direct influence" (``no_edge_confidence``); pairs with
    an unobserved or data-less node are abstains. ``data`` may be given later with :meth:`with_data`
    (``draft_graph(..., data=)`` does that). The last learned :class:`DiscoveryResult` is ``result``.
    """

    provenance = Provenance.DATA

    def __init__(self, method: DiscoveryMethod | str = DiscoveryMethod.PC, data: WideData | None = None, *,
                 background: Background | None = None, alpha: float = 0.05, max_samples: int | None = 2000,
                 max_seconds: float | None = 120.0, seed: int = 0, confidence: float = 0.5,
                 no_edge_confidence: float = 0.3, restrict_to_candidates: bool = True) -> None:
        self.method = DiscoveryMethod(method)
        self.name = f"data:{self.method.value}"
        self.data = data
        self.background = background
        self.alpha = alpha
        self.max_samples = max_samples
        self.max_seconds = max_seconds
        self.seed = seed
        self.confidence = confidence
        self.no_edge_confidence = no_edge_confidence
        self.restrict_to_candidates = restrict_to_candidates
        self.result: DiscoveryResult | None = None

    def with_data(self, data: WideData) -> DataSuggester:
        clone = self._copy()
        clone.data = data
        return clone

    def _copy(self) -> DataSuggester:
        other = DataSuggester.__new__(DataSuggester)
        other.__dict__.update(self.__dict__)
        other.result = None
        return other

    def __repr__(self) -> str:
        return f"DataSuggester({self.method.value!r}, data={'yes' if self.data is not None else 'none'})"

    def suggest(
        self,
        pairs: Sequence[CandidatePair],
        system: SystemModel,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> list[Proposal]:
        if self.data is None:
            raise DataError(f"the {self.name} suggester has no data",
                            hint="Pass data= to DataSuggester or to draft_graph (a wide aligned frame)")
        observed = {n for n, m in system.metrics.items() if m.observed}
        nodes = sorted({n for p in pairs for n in (p.a, p.b) if n in observed})
        background = self.background
        if self.restrict_to_candidates:
            # Atlas 4.4 for data too: pairs that are not candidates may not be adjacent.
            allowed = {p.key() for p in pairs}
            forbid = {(u, v) for i, u in enumerate(nodes) for v in nodes[i + 1:] if (u, v) not in allowed}
            extra = Background(forbidden=forbid | {(v, u) for u, v in forbid})
            background = Background((background or Background()).required,
                                    (background or Background()).forbidden | extra.forbidden)
        if cancel is not None:
            cancel.raise_if_cancelled()
        result = discover(self.data, method=self.method, nodes=nodes, background=background, alpha=self.alpha,
                          max_samples=self.max_samples, max_seconds=self.max_seconds, seed=self.seed)
        self.result = result
        have = set(result.nodes)
        undirected = {frozenset(e) for e in result.undirected}
        out = []
        for i, pair in enumerate(pairs):
            a, b = pair.a, pair.b
            ev: JSONObject = {"method": self.method.value, "n_samples": result.n_samples}
            if a not in have or b not in have:
                out.append(Proposal(a, b, Verdict.ABSTAIN, self.provenance, 0.0, rationale="no data for this pair",
                                    evidence=ev, suggester=self.name))
            elif result.graph.has_edge(a, b) or result.graph.has_edge(b, a):
                verdict = Verdict.A_CAUSES_B if result.graph.has_edge(a, b) else Verdict.B_CAUSES_A
                w = result.weights.get((a, b)) or result.weights.get((b, a))
                if w is not None:
                    ev["weight"] = w
                out.append(Proposal(a, b, verdict, self.provenance, self.confidence, evidence=ev,
                                    rule=self.method.value, suggester=self.name,
                                    rationale=f"{self.method.value} found this edge in the data"))
            elif frozenset((a, b)) in undirected:
                ev["adjacent"] = True
                out.append(Proposal(a, b, Verdict.ABSTAIN, self.provenance, 0.0, evidence=ev, suggester=self.name,
                                    rationale=f"{self.method.value} found them adjacent but could not orient the edge"))
            else:
                out.append(Proposal(a, b, Verdict.NO_EDGE, self.provenance, self.no_edge_confidence, evidence=ev,
                                    rule=self.method.value, suggester=self.name,
                                    rationale=f"{self.method.value} found them separable in the data"))
            if on_progress is not None and (i + 1) % 256 == 0:
                on_progress(i + 1, len(pairs))
        if on_progress is not None:
            on_progress(len(pairs), len(pairs))
        return out
