"""AttributionPanel: run attribute() in a background thread and redraw the ranking as results arrive.

Every button calls a public method (``run``, ``cancel``, ``wait``) that tests call without a browser.
The graph comes from a ReviewSession (``.draft``; the panel subscribes to its changes and marks the
result stale, one click re-runs), from any object with ``.draft``, from a callable returning a graph,
or is a graph itself. ``history`` keeps every finished run, and the second chart shows how the
ranking moved across review decisions.

The charts are plain plotly figures (``chart``, ``moves``) shown as plotly's mime type in ``Output`` widgets
and redrawn whole at each partial result: every front end draws them with the plotly renderer it already has.
A ``FigureWidget`` would ship plotly.js (5 MB) per chart as its anywidget module, which anywidget gives two
seconds to load; under load in Voila a chart then stayed blank.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeAlias, cast

import ipywidgets as widgets
import plotly.graph_objects as go

from rcakit._progress import Cancelled, CancelToken
from rcakit.attribution import Attribution, AttributionConfig, Method, attribute
from rcakit.ui._plotly import show_figure

if TYPE_CHECKING:
    from rcakit.attribution._run import GraphLike, IncidentLike
    from rcakit.graph.draft import CausalDraft

__all__ = ["AttributionPanel"]

# the rankings a run sends, in order (graph-free methods skip "structural"): the bar counts them
_STAGES = ("quick", "structural", "final")


class _HasDraft(Protocol):
    """What holds a draft under review: a ReviewSession, a GraphReviewer's session, ..."""

    @property
    def draft(self) -> CausalDraft: ...


#: Where the panel takes its graph from: an object with ``.draft``, a function returning a graph, or a graph.
GraphSource: TypeAlias = "_HasDraft | Callable[[], GraphLike] | GraphLike"


class AttributionPanel(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type information
    """A live bar chart of root-cause scores with intervals, a progress line and a ranking history."""

    def __init__(self, source: GraphSource, incident: IncidentLike, *, method: Method | str = Method.STRUCTURAL,
                 config: AttributionConfig | None = None, top_k: int = 10) -> None:
        self.source = source
        self.incident = incident
        self.method = Method(method)
        self.config = config or AttributionConfig()
        self.top_k = top_k
        self.result: Attribution | None = None
        self.partials: list[Attribution] = []
        self.history: list[Attribution] = []
        self.error: BaseException | None = None
        self.stale = False
        self._thread: threading.Thread | None = None
        self._token: CancelToken | None = None
        self._lock = threading.Lock()

        self.status = widgets.HTML("ready")
        # what the run has reached: a quick graph-free ranking, the structural one, the final one with intervals
        self.progress = widgets.IntProgress(value=0, min=0, max=len(_STAGES), description="",
                                            layout=widgets.Layout(width="160px"))
        self.run_button = widgets.Button(description="Run", icon="play", button_style="primary")
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", disabled=True)
        self.run_button.on_click(lambda _: self.run())
        self.cancel_button.on_click(lambda _: self.cancel())
        self.chart = go.Figure(layout=go.Layout(title="root-cause scores", height=360,
                                                margin={"l": 220, "r": 20, "t": 40, "b": 30}))
        self.chart.add_bar(x=[], y=[], orientation="h", name="score")
        self.moves = go.Figure(layout=go.Layout(title="rank across runs (review decisions)", height=300,
                                                yaxis={"autorange": "reversed", "title": "rank"}))
        full = widgets.Layout(width="100%")
        self.chart_output = widgets.Output(layout=full)
        self.moves_output = widgets.Output(layout=full)
        subscribe = getattr(source, "subscribe", None)
        if callable(subscribe):
            subscribe(self._on_graph_change)
        super().__init__([widgets.HBox([self.run_button, self.cancel_button, self.progress, self.status],
                                       layout=widgets.Layout(align_items="center")), self.chart_output,
                          self.moves_output], layout=widgets.Layout(width="100%"))
        show_figure(self.chart, self.chart_output)

    # -- public API (the buttons call these) -------------------------------------------------------
    def graph(self) -> GraphLike:
        """The graph to attribute on now: the source's draft, the callable's answer, or the source."""
        if hasattr(self.source, "draft"):
            return cast(_HasDraft, self.source).draft
        if callable(self.source):
            return self.source()
        return self.source

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> None:
        """Start a run in a background thread (a running one is cancelled first)."""
        if self.running:
            self.cancel()
            self.wait()
        self._token = CancelToken()
        self.partials = []
        self.error = None
        self.stale = False
        self.progress.value, self.progress.bar_style = 0, "info"
        self.progress.description = f"0/{len(_STAGES)}"
        self._set_status("running: preparing the graph and data ...")
        self.run_button.disabled = True
        self.cancel_button.disabled = False
        self._thread = threading.Thread(target=self._work, args=(self.graph(), self._token), daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the running attribution to stop at its next step."""
        if self._token is not None:
            self._token.cancel()

    def wait(self, timeout: float | None = None) -> Attribution | None:
        """Block until the current run ends; return its final result (None if cancelled or failed)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.result if self.error is None and not (self._token and self._token.cancelled) else None

    # -- worker -----------------------------------------------------------------------------------------
    def _work(self, graph: GraphLike, token: CancelToken) -> None:
        try:
            result = attribute(graph if self.method.needs_graph else None, self.incident, method=self.method,
                               config=self.config, on_progress=self._on_partial, cancel=token)
            with self._lock:
                self.result = result
                self.history.append(result)
            self._draw(result)
            self._draw_moves()
            self.progress.value, self.progress.bar_style = len(_STAGES), "success"
            self.progress.description = f"{len(_STAGES)}/{len(_STAGES)}"
            self._set_status(f"done in {result.elapsed:.2f} s: top cause <b>"
                             f"{html.escape(result.causes[0].node) if result.causes else 'none'}</b>")
        except Cancelled:
            self.progress.bar_style = "warning"
            self._set_status("cancelled")
        except Exception as exc:
            self.error = exc
            self.progress.bar_style = "danger"
            self._set_status(f"failed: {html.escape(str(exc))}")
        finally:
            self.run_button.disabled = False
            self.cancel_button.disabled = True

    def _on_partial(self, partial: Attribution) -> None:
        with self._lock:
            self.partials.append(partial)
        if partial.stage in _STAGES:
            done = _STAGES.index(partial.stage) + 1
            self.progress.value = done
            self.progress.description = f"{done}/{len(_STAGES)}"
        following = {"quick": "structural ranking", "structural": "final ranking and intervals"}.get(partial.stage, "")
        self._set_status(f"running: {html.escape(partial.stage)} ranking after {partial.elapsed:.2f} s"
                         + (f"; now the {following} ..." if following else " ..."))
        self._draw(partial)

    def _on_graph_change(self, *args: object, **kwargs: object) -> None:
        self.stale = True
        self._set_status("the graph changed since the last run: press Run to update")

    # -- drawing ----------------------------------------------------------------------------------------
    def _set_status(self, text: str) -> None:
        self.status.value = text

    def _draw(self, result: Attribution) -> None:
        causes = result.top(self.top_k)[::-1]
        names = [c.node for c in causes]
        scores = [c.score for c in causes]
        has_interval = any(c.low == c.low for c in causes)
        plus = [max(c.high - c.score, 0.0) if c.high == c.high else 0.0 for c in causes]
        minus = [max(c.score - c.low, 0.0) if c.low == c.low else 0.0 for c in causes]
        with self.chart.batch_update():
            bar = self.chart.data[0]
            bar.x, bar.y = scores, names
            bar.error_x = {"type": "data", "array": plus, "arrayminus": minus, "visible": has_interval}
            self.chart.layout.title = f"{result.method}: {result.stage}{'' if result.final else ' (partial)'}"
        show_figure(self.chart, self.chart_output)

    def _draw_moves(self) -> None:
        runs = self.history
        nodes: list[str] = []
        for run in runs:
            for cause in run.top(5):
                if cause.node not in nodes:
                    nodes.append(cause.node)
        with self.moves.batch_update():
            self.moves.data = []
            for node in nodes:
                ranks = [run.rank_of(node) for run in runs]
                self.moves.add_scatter(x=list(range(1, len(runs) + 1)), y=ranks, mode="lines+markers", name=node)
        show_figure(self.moves, self.moves_output)

    def rank_history(self, node: str) -> list[int | None]:
        """The rank of ``node`` in every finished run, oldest first."""
        return [run.rank_of(node) for run in self.history]
