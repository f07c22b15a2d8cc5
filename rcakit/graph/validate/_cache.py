"""The data of one validation with memoised tests, kept per draft between ranking calls."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from rcakit.graph.draft import CausalDraft
from rcakit.graph.validate._stats import ANMResult, anm_direction, fisher_p, partial_correlation

if TYPE_CHECKING:
    from rcakit.graph.data import WideData

__all__ = ["ValidationCache", "validation_cache"]


class _Data:
    """The data matrix of one validation, with memoised tests.

    A conditional-independence test is keyed by the unordered pair and the set of conditioning
    candidates it was given (the pair's neighbourhood in the draft), an ANM check by the ordered
    pair. A review decision that changes an edge's neighbourhood changes its key, so only that
    edge's test runs again. :meth:`end_round` drops tests the latest ranking did not ask for.

    A metric that accumulates (a queue's length, consumer lag: :func:`rcakit.graph.meanings.is_accumulator`)
    integrates the difference of the rates that feed it, so its *level* barely co-varies with a rate that
    causes it while its change per step does. A test that involves an accumulator is therefore run twice,
    on the level and on the first difference, and the stronger dependence counts (the conditioning set
    stays on levels).
    """

    def __init__(self, data: WideData, nodes: list[str], seed: int) -> None:
        from rcakit.graph.data import wide_matrix

        self.x, kept, self.dropped = wide_matrix(data, [n for n in nodes], max_samples=5000, seed=seed)
        self.index = {n: i for i, n in enumerate(kept)}
        self.n = self.x.shape[0]
        self.seed = seed
        # One correlation matrix over the levels and the accumulators' differences; the levels' block is corr.
        self._diff_index, self._corr_ext = _with_differences(self.x, kept)
        k = self.x.shape[1]
        self.corr = self._corr_ext[:k, :k] if k > 1 else np.ones((1, 1))
        self.tests: dict[tuple[str, str, frozenset[str]], tuple[float, float, list[str]]] = {}
        self.anms: dict[tuple[str, str], ANMResult] = {}
        self.hits = self.misses = 0
        self.recomputed: set[tuple[str, str]] = set()
        self._used: set[tuple[str, str, frozenset[str]]] = set()

    def has(self, *nodes: str) -> bool:
        return all(n in self.index for n in nodes)

    def test(self, u: str, v: str, cond: Iterable[str], max_cond: int = 10) -> tuple[float, float, list[str]]:
        cands = frozenset(c for c in cond if c in self.index and c not in (u, v))
        a, b = (u, v) if u <= v else (v, u)
        key = (a, b, cands)
        self._used.add(key)
        found = self.tests.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        self.recomputed.add((a, b))
        i, j = self.index[a], self.index[b]
        # The strongest neighbours of either end, at most max_cond of them (keeps the test powerful).
        ranked = sorted(cands, key=lambda c: (-max(abs(self.corr[self.index[c], i]),
                                                   abs(self.corr[self.index[c], j])), c))[:max_cond]
        cond_idx = [self.index[c] for c in ranked]
        r = partial_correlation(self.corr, i, j, cond_idx)
        # An accumulator end: its change per step may carry the dependence its level hides.
        for di, dj in ((self._diff_index.get(a), j), (i, self._diff_index.get(b))):
            if di is not None and dj is not None:
                r_diff = partial_correlation(self._corr_ext, di, dj, cond_idx)
                if abs(r_diff) > abs(r):
                    r = r_diff
        out = (r, fisher_p(r, self.n, len(ranked)), ranked)
        self.tests[key] = out
        return out

    def anm(self, u: str, v: str) -> ANMResult:
        found = self.anms.get((u, v))
        if found is None:
            back = self.anms.get((v, u))
            if back is not None:  # the same fits seen from the other end
                found = ANMResult(hsic_forward=back["hsic_backward"], hsic_backward=back["hsic_forward"],
                                  reverse_preference=-back["reverse_preference"])
                if "degenerate" in back:
                    found["degenerate"] = back["degenerate"]
            else:
                found = anm_direction(self.x[:, self.index[u]], self.x[:, self.index[v]], seed=self.seed)
            self.anms[(u, v)] = found
        return found

    def begin_round(self) -> None:
        self._used = set()
        self.recomputed = set()

    def end_round(self) -> None:
        self.tests = {k: t for k, t in self.tests.items() if k in self._used}


def _with_differences(x: np.ndarray, nodes: list[str]) -> tuple[dict[str, int], np.ndarray]:
    """(column of each accumulator's first difference, correlations of the levels and those differences)."""
    from rcakit.graph.meanings import is_accumulator
    from rcakit.telemetry import split_node

    acc = [j for j, n in enumerate(nodes) if is_accumulator(split_node(n)[1])] if x.shape[0] >= 4 else []
    cols = np.hstack([x, np.diff(x[:, acc], axis=0, prepend=x[:1, acc])]) if acc else x
    ext = np.nan_to_num(np.corrcoef(cols, rowvar=False)) if cols.shape[1] > 1 else np.ones((1, 1))
    return {nodes[j]: x.shape[1] + k for k, j in enumerate(acc)}, ext


class ValidationCache:
    """Validation results of one draft on one data set, kept between :func:`next_batch` calls.

    Holds the data matrix and the memoised tests (see ``_Data``): a test is reused while the edge
    and the draft neighbourhood it conditioned on are unchanged, and recomputed when a review
    decision changed that neighbourhood. New data (another object, shape, node set or seed) starts
    afresh. ``hits``/``misses`` count reused and recomputed tests; ``recomputed`` lists the pairs
    the latest ranking tested anew.

    Data are recognised by identity: a pandas frame edited in place between calls is not noticed;
    pass ``cache=False`` (or a new frame) after such an edit.
    """

    def __init__(self) -> None:
        self._key: tuple[int, object, tuple[str, ...], int] | None = None
        self._obj: WideData | None = None
        self.data: _Data | None = None

    def data_for(self, data: WideData, nodes: list[str], seed: int) -> _Data:
        shape = getattr(data, "shape", None)
        key = (id(data), shape, tuple(nodes), seed)
        if self.data is None or self._obj is not data or self._key != key:
            self.data = _Data(data, nodes, seed)
            self._obj, self._key = data, key
        return self.data

    @property
    def hits(self) -> int:
        return self.data.hits if self.data is not None else 0

    @property
    def misses(self) -> int:
        return self.data.misses if self.data is not None else 0

    @property
    def recomputed(self) -> set[tuple[str, str]]:
        return set(self.data.recomputed) if self.data is not None else set()


_CACHES: weakref.WeakKeyDictionary[CausalDraft, ValidationCache] = weakref.WeakKeyDictionary()


def validation_cache(draft: CausalDraft) -> ValidationCache:
    """The cache :func:`next_batch` and :func:`rank_suspicious` keep for ``draft`` (created on first use)."""
    cache = _CACHES.get(draft)
    if cache is None:
        cache = _CACHES[draft] = ValidationCache()
    return cache

