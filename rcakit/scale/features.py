"""``featurize_many``: per-entity features (:func:`rcakit.detect.features.entity_features`) of many windows
of a store, each window read and featurized by a Dask worker."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict

import polars as pl

from rcakit._progress import progress
from rcakit.scale._dask import open_client
from rcakit.telemetry.window import TimeWindow, parse_duration

if TYPE_CHECKING:
    from pathlib import Path

    from distributed import Client

    from rcakit.detect.config import Modality
    from rcakit.telemetry.loaders.lazy import TelemetryStore
    from rcakit.telemetry.window import WindowLike

__all__ = ["featurize_many", "featurize_window", "split_window"]


class _FeatureOptions(TypedDict, total=False):
    """The keywords of :func:`rcakit.detect.features.entity_features` a window is featurized with."""

    freq: str | timedelta
    modalities: tuple[Modality | str, ...]
    top_templates: int


def split_window(window: WindowLike, every: str | timedelta) -> list[TimeWindow]:
    """Consecutive windows of length ``every`` covering ``window`` (the last one may be shorter)."""
    win = TimeWindow.of(window)
    step = parse_duration(every)
    if step <= timedelta(0):
        raise ValueError(f"every must be a positive duration, got {every!r}")
    out, start = [], win.start
    while start < win.end:
        out.append(TimeWindow(start, min(start + step, win.end)))
        start += step
    return out


def featurize_window(store: TelemetryStore | str | Path, window: WindowLike, entities: list[str] | None,
                     options: _FeatureOptions
                     ) -> dict[str, pl.DataFrame]:
    """One window's per-entity feature tables, read lazily from ``store`` (this runs on a worker)."""
    from rcakit.detect.features import entity_features
    from rcakit.telemetry.loaders.lazy import TelemetryStore

    opened = store if isinstance(store, TelemetryStore) else TelemetryStore.open(store)
    win = TimeWindow.of(window)
    telemetry = opened.incident(win, entities)
    return entity_features(telemetry, window=win, **options)


def featurize_many(
    store: TelemetryStore | str | Path,
    windows: Sequence[WindowLike],
    *,
    entities: Iterable[str] | None = None,
    freq: str | timedelta = "1m",
    modalities: tuple[Modality | str, ...] | None = None,
    top_templates: int = 20,
    client: Client | None = None,
    address: str | None = None,
    n_workers: int = 2,
    serial: bool = False,
    show_progress: bool = True,
) -> list[dict[str, pl.DataFrame]]:
    """``entity_features`` of each window of ``store`` (a TelemetryStore or a store folder), in order.

    Each window is read from the store and featurized by one worker, which sends back only the
    feature tables (one per entity, one row per ``freq`` bin). Equal to calling ``entity_features``
    on each window in one process (``serial=True`` does). Each window is featurized on its own, as
    ``entity_features`` featurizes one window: log templates are mined per window, so split a long
    span into windows (:func:`split_window`) only where per-window templates are what you want.
    Cluster options as in :func:`rcakit.scale.analyze_many`.
    """
    from rcakit.telemetry.loaders.lazy import TelemetryStore

    if not isinstance(store, TelemetryStore):
        store = TelemetryStore.open(store)
    wins = [TimeWindow.of(w) for w in windows]
    names = None if entities is None else list(entities)
    options: _FeatureOptions = {"freq": freq, "top_templates": top_templates}
    if modalities is not None:
        options["modalities"] = tuple(modalities)
    if serial:
        items = progress(wins, total=len(wins), desc="windows") if show_progress else wins
        return [featurize_window(store, w, names, options) for w in items]
    from rcakit.scale._dask import require_distributed

    as_completed = require_distributed().as_completed
    out: dict[int, dict[str, pl.DataFrame]] = {}
    with open_client(client, address=address, n_workers=n_workers) as c:
        futures = {c.submit(featurize_window, store, w, names, options, pure=False): i for i, w in enumerate(wins)}
        finished = as_completed(list(futures))
        for future in progress(finished, total=len(futures), desc="windows") if show_progress else finished:
            index = futures[future]
            try:
                out[index] = future.result()
            except Exception as exc:
                exc.add_note(f"while featurizing window {index} ({wins[index]}) of {store!r}")
                raise
            future.release()
    return [out[i] for i in range(len(wins))]
