"""Review speed: a decision through the session and the GraphReviewer, view serialization, chromium drawing."""

from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rcakit.bench._common import Row, median_time

if TYPE_CHECKING:
    from rcakit.graph import CausalDraft
    from rcakit.review import ReviewSession

__all__ = ["run_speed"]


def _big_draft(n_edges: int = 200, seed: int = 0) -> CausalDraft:
    from rcakit.graph import CausalDraft

    rng = random.Random(seed)
    names = [f"svc{i}:m{j}" for i in range(40) for j in range(3)]
    draft = CausalDraft(alarm=names[-1], meta={"name": "big"})
    while len(draft.edges) < n_edges:
        a, b = sorted(rng.sample(range(len(names)), 2))
        draft.add_edge(names[a], names[b], provenance=rng.choice(["llm", "knowledge", "data"]),
                       confidence=round(rng.random(), 3), rationale="synthetic")
    return draft


def run_speed(folder: Path, *, decisions: int = 40, browser: bool = False) -> list[Row]:
    from rcakit.review import ReviewSession
    from rcakit.review._vis import layout_positions, vis_elements
    from rcakit.ui import GraphReviewer

    rows: list[Row] = []
    draft = _big_draft()
    keys = list(draft.edges)[:decisions]
    # baseline: the bare data-model call, no session, no file, no view
    bare = draft.copy()
    times = []
    for i, key in enumerate(keys):
        t0 = time.perf_counter()
        bare.set_status(*key, "accepted" if i % 2 else "rejected")
        times.append(time.perf_counter() - t0)
    rows.append({"measure": "CausalDraft.set_status (baseline)", "edges": 200, "median ms": 1000 * statistics.median(times),
                 "target": ""})
    session = ReviewSession(draft.copy(), path=folder / "speed-session.json")
    times = []
    for i, key in enumerate(keys):
        t0 = time.perf_counter()
        (session.accept if i % 2 else session.reject)(*key)
        times.append(time.perf_counter() - t0)
    rows.append({"measure": "ReviewSession decision + atomic autosave", "edges": 200,
                 "median ms": 1000 * statistics.median(times), "target": ""})
    reviewer = GraphReviewer(draft.copy(), path=folder / "speed-widget.json")
    times = []
    for i, key in enumerate(keys):
        t0 = time.perf_counter()
        reviewer.select_edge(*key)  # the click
        (reviewer.accept if i % 2 else reviewer.reject)()  # the button; returns once the view state is rebuilt
        times.append(time.perf_counter() - t0)
    rows.append({"measure": "GraphReviewer round trip (click, decide, autosave, view updated)", "edges": 200,
                 "median ms": 1000 * statistics.median(times), "target": "<= 50"})
    seconds, positions = median_time(lambda: layout_positions(reviewer.session.draft), repeat=3)
    rows.append({"measure": "200-edge layout (Python side, once per widget)", "edges": 200,
                 "median ms": 1000 * seconds, "target": ""})
    seconds, _ = median_time(lambda: json.dumps({"graph": vis_elements(reviewer.session.draft, positions=positions),
                                                  "queue": reviewer.queue, "details": reviewer.details}), repeat=9)
    rows.append({"measure": "200-edge view serialization (Python side)", "edges": 200, "median ms": 1000 * seconds,
                 "target": "<= 1000 (with render)"})
    if browser:
        rows.append(_browser_render(reviewer.session, folder))
    reviewer.close()
    return rows


def _browser_render(session: ReviewSession, folder: Path) -> Row:
    """Time from navigation to the first drawing of the 200-edge standalone page in Debian's chromium."""
    from playwright.sync_api import sync_playwright

    page_path = session.export(folder / "big.html")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args, headless=True)
        try:
            for _ in range(3):
                # bypass_csp: the page forbids eval, which Playwright's wait_for_function needs
                context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
                page = context.new_page()
                page.goto(page_path.as_uri())
                page.wait_for_function("window.rcakitFirstDrawMs !== undefined", timeout=60_000)
                times.append(float(page.evaluate("window.rcakitFirstDrawMs")))
                context.close()
        finally:
            browser.close()
    return {"measure": "200-edge page load to first drawing in chromium (standalone HTML export)", "edges": 200,
            "median ms": statistics.median(times), "target": "<= 1000"}
