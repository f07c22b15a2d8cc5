"""``IncidentDashboard``: the whole incident review in one widget, for a team that opens it without code (Voila).

Pick a sample incident or a folder, and the dashboard loads it, shows what went abnormal
(:class:`TelemetryExplorer`), drafts the causal graph for review (:class:`GraphReviewer`), ranks root causes
(:class:`AttributionPanel`) and writes the report (:class:`ReportPanel`). Each step says what it is doing on a
progress bar and can be stopped with Cancel.

Every button calls a public method that a test calls without a browser: ``Load`` -> :meth:`start` (the work
in a background thread, so that Cancel and the other widgets stay live), ``Cancel`` -> :meth:`cancel`,
``Write report`` -> :meth:`write_report`; :meth:`load` is the same work in the caller's thread (what a
notebook cell or a test runs). Only standard ipywidgets, anywidget and plotly's mime type are used, so the
dashboard works in JupyterLab, Notebook 7, Voila and VS Code alike.
"""

from __future__ import annotations

import contextlib
import html
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import ipywidgets as W

from rcakit._progress import Cancelled, CancelToken
from rcakit.errors import DataError, RcakitError

if TYPE_CHECKING:
    import polars as pl
    from traitlets.utils.bunch import Bunch

    from rcakit.detect import Anomalies
    from rcakit.graph import CausalDraft
    from rcakit.report import Report
    from rcakit.review import ReviewSession
    from rcakit.telemetry import Incident
    from rcakit.ui.attribution_panel import AttributionPanel
    from rcakit.ui.explorer import TelemetryExplorer
    from rcakit.ui.report_panel import ReportPanel
    from rcakit.ui.reviewer import GraphReviewer

__all__ = ["STEPS", "IncidentDashboard"]

# the dashboard's steps, in order, and what each says while it runs
STEPS = {
    "load": "loading the telemetry",
    "detect": "detecting anomalies",
    "explore": "drawing the series and the anomaly map",
    "draft": "drafting the causal graph",
    "review": "ranking suspicious edges for review",
    "attribute": "attributing the alarm to root causes",
    "report": "writing the report",
}


def _heading(number: int, text: str, hint: str) -> W.HTML:
    return W.HTML(f"<h3 style='margin:14px 0 2px'>{number}. {html.escape(text)}</h3>"
                  f"<div style='color:#555;margin-bottom:4px'>{html.escape(hint)}</div>")


class IncidentDashboard(W.VBox):  # type: ignore[misc]  # ipywidgets ships no type information
    """Load an incident and review it end to end; see the module doc.

    ``source``: a sample name or a folder to load at once (``None``: wait for the Load button).
    ``folder``: where review sessions and saved reports go (default: the working directory).
    """

    def __init__(self, source: str | Path | None = None, *, folder: str | Path = ".",
                 samples: list[str] | None = None) -> None:
        from rcakit.samples import sample_names

        self.folder = Path(folder)
        self.incident: Incident | None = None
        self.anomalies: Anomalies | None = None
        self.explorer: TelemetryExplorer | None = None
        self.draft: CausalDraft | None = None
        self.session: ReviewSession | None = None
        self.reviewer: GraphReviewer | None = None
        self.panel: AttributionPanel | None = None
        self.report: Report | None = None
        self.report_panel: ReportPanel | None = None
        self.error: BaseException | None = None
        self.step: str | None = None
        self.seconds: dict[str, float] = {}
        self.notes: list[str] = []
        self._token = CancelToken()
        self._thread: threading.Thread | None = None
        self._choices: list[Incident] = []
        self._syncing = False

        names = samples if samples is not None else sample_names()
        self.sample_select = W.Dropdown(options=names, value=names[0] if names else None, description="sample",
                                        layout=W.Layout(width="320px"))
        self.folder_input = W.Text(placeholder="or a folder: incident, dataset or export", description="folder",
                                   layout=W.Layout(width="420px"))
        self.incident_select = W.Dropdown(options=[], description="incident", layout=W.Layout(width="420px",
                                                                                              display="none"))
        self.load_button = W.Button(description="Load", icon="folder-open", button_style="primary",
                                    tooltip="Load the sample (or the folder, when one is typed) and analyse it")
        self.cancel_button = W.Button(description="Cancel", icon="stop", disabled=True,
                                      tooltip="Stop the step that is running")
        self.progress = W.IntProgress(value=0, min=0, max=len(STEPS), description="", bar_style="info",
                                      layout=W.Layout(width="240px"))
        self.status = W.HTML("Pick a sample incident or type a folder, then press Load.")
        self.load_button.on_click(lambda _b: self.start())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.incident_select.observe(self._incident_chosen, names="value")

        self.explorer_box = W.VBox(layout=W.Layout(width="100%"))
        self.reviewer_box = W.VBox(layout=W.Layout(width="100%"))
        self.attribution_box = W.VBox(layout=W.Layout(width="100%"))
        self.report_button = W.Button(description="Write report", icon="file-text", disabled=True,
                                      tooltip="Write the report from the latest attribution run")
        self.report_button.on_click(lambda _b: self.write_report())
        self.report_box = W.VBox(layout=W.Layout(width="100%"))
        header = W.HTML("<h2 style='margin:4px 0'>Incident review</h2><div style='color:#555'>Load an incident, "
                        "see what went abnormal, review the causal graph, rank root causes, read the report.</div>")
        picker = W.HBox([self.sample_select, self.folder_input, self.load_button],
                        layout=W.Layout(flex_flow="row wrap", width="100%"))
        running = W.HBox([self.progress, self.cancel_button, self.status],
                         layout=W.Layout(align_items="center", width="100%"))
        super().__init__([
            header, picker, self.incident_select, running,
            _heading(1, "What went abnormal", "The series against the baseline window (shaded blue; the incident "
                     "window red), the anomaly score of each entity over time, log templates and the service map."),
            self.explorer_box,
            _heading(2, "Review the causal graph", "Click an edge, then accept (a), reject (r), reverse (v) or skip "
                     "(s); decisions are saved at once."),
            self.reviewer_box,
            _heading(3, "Rank the root causes", "Run again after review decisions; the bars update as results arrive."),
            self.attribution_box,
            _heading(4, "Report", "Written from the latest ranking; save it as HTML or Markdown."),
            self.report_button, self.report_box,
        ], layout=W.Layout(width="100%"))
        self.add_class("rcakit-dashboard")
        # names for the page (styling, and the browser tests that measure each area)
        for box, name in ((self.explorer_box, "explorer"), (self.reviewer_box, "reviewer"),
                          (self.attribution_box, "attribution"), (self.report_box, "report")):
            box.add_class(f"rcakit-dash-{name}")
        self.status.add_class("rcakit-dash-status")
        if source is not None:
            self.load(source)

    # -- public actions (each button calls one) -----------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, source: str | Path | None = None) -> None:
        """What Load does: :meth:`load` in a background thread (the chosen sample, or the folder if typed)."""
        if self.running:
            self._set_status("still working: press Cancel first")
            return
        chosen = source if source is not None else (self.folder_input.value.strip() or self.sample_select.value)
        self._thread = threading.Thread(target=self._load_quietly, args=(chosen,), daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a background run ends; True when it finished without error or cancel."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.error is None and not self._token.cancelled

    def cancel(self) -> None:
        """Stop the running step (at its next check; attribution stops at once)."""
        self._token.cancel()
        if self.panel is not None:
            self.panel.cancel()
        self._set_status(f"cancelling {html.escape(STEPS.get(self.step or '', 'the run'))} ...")

    def load(self, source: str | Path) -> None:
        """Load ``source`` (a sample name or a folder) and run every step; raises on failure or cancel."""
        self._token = CancelToken()
        self.error = None
        self.seconds = {}
        self.progress.value, self.progress.bar_style = 0, "info"
        self.load_button.disabled, self.cancel_button.disabled = True, False
        self.report_button.disabled = True
        try:
            with self._step("load"):
                incident = self._read(source)
            self.show(incident)
        except Cancelled:
            self.progress.bar_style = "warning"
            self._set_status(f"cancelled while {html.escape(STEPS.get(self.step or '', ''))}")
            raise
        except Exception as exc:
            self.error = exc
            self.progress.bar_style = "danger"
            self._set_status(f"<b>failed</b> while {html.escape(STEPS.get(self.step or '', ''))}: "
                             f"{html.escape(str(exc))}")
            raise
        finally:
            self.load_button.disabled, self.cancel_button.disabled = False, True

    def show(self, incident: Incident) -> None:
        """Run the steps after loading on an Incident you already have (detect, draft, attribute, report)."""
        from rcakit.detect import detect_anomalies
        from rcakit.graph import draft_graph
        from rcakit.review import ReviewSession
        from rcakit.ui.attribution_panel import AttributionPanel
        from rcakit.ui.explorer import TelemetryExplorer
        from rcakit.ui.reviewer import GraphReviewer

        self.incident = incident
        self.notes = []
        # the reviewer stays: its model is reused for the next session (a new anywidget model must load its
        # module in 2 s, which a page busy drawing the other charts can miss)
        for box in (self.explorer_box, self.attribution_box, self.report_box):
            box.children = ()
        self.reviewer_box.layout.display = "none"  # the previous incident's review, until this one's is drawn
        with self._step("detect"):
            self.anomalies = detect_anomalies(incident)
        with self._step("explore"):
            # a plain series chart: Voila 0.5 leaves plotly 7's FigureWidget without its traces
            self.explorer = TelemetryExplorer(incident, anomalies=self.anomalies, interactive=False)
            self.explorer_box.children = (self.explorer.widget,)
        with self._step("draft"):
            self.draft = draft_graph(incident, cancel=self._token, on_progress=self._draft_progress)
        with self._step("review"):
            data = None
            if incident.telemetry.metrics.height:
                data = incident.telemetry.align(self.anomalies.freq, "mean", start=incident.baseline_window.start,
                                                end=incident.incident_window.end).frame
            self._close_session()
            self.session = self._open_session(ReviewSession, incident, self.draft, data)
            self.reviewer_box.layout.display = None  # shown before the graph is drawn, so the view fits it
            if self.reviewer is None:
                self.reviewer = GraphReviewer(self.session, height="460px")
                self.reviewer_box.children = (self.reviewer,)
            else:
                self.reviewer.open_session(self.session)
        with self._step("attribute"):
            self.panel = AttributionPanel(self.session, incident)
            self.attribution_box.children = (self.panel,)
            self.panel.run()
            self.panel.wait()
            if self._token.cancelled:
                raise Cancelled("the run was cancelled")
            if self.panel.error is not None:
                raise self.panel.error
        self.write_report()
        self.progress.value, self.progress.bar_style = len(STEPS), "success"
        total = sum(self.seconds.values())
        top = self.panel.result.causes[0].node if self.panel.result is not None and self.panel.result.causes else None
        self._set_status(f"<b>{html.escape(incident.name)}</b> analysed in {total:.1f} s"
                         + (f": top cause <b>{html.escape(top)}</b>" if top else "")
                         + "".join(f"<br><small>{html.escape(note)}</small>" for note in self.notes))

    def write_report(self) -> Report:
        """What Write report does: the report from the latest attribution run and the reviewed graph."""
        from rcakit.report import write_report
        from rcakit.ui.report_panel import ReportPanel

        if self.incident is None:
            raise DataError("no incident loaded", hint="Pick a sample or a folder and press Load")
        with self._step("report"):
            result = self.panel.result if self.panel is not None else None
            self.report = write_report(self.incident, attribution=result, anomalies=self.anomalies,
                                       draft=self.session.draft if self.session is not None else None)
            if self.report_panel is None or self.report_box.children != (self.report_panel,):
                self.report_panel = ReportPanel(self.report, rewrite=self._rewrite, folder=self.folder)
                self.report_box.children = (self.report_panel,)
            else:
                self.report_panel.show(self.report)
        self.report_button.disabled = False
        return self.report

    def choose_incident(self, name: str) -> None:
        """Load one incident of the folder whose incidents fill the ``incident`` menu."""
        for incident in self._choices:
            if incident.name == name:
                self.load_button.disabled, self.cancel_button.disabled = True, False
                try:
                    self.show(incident)
                finally:
                    self.load_button.disabled, self.cancel_button.disabled = False, True
                return
        raise DataError(f"no incident {name!r} in the loaded folder",
                        hint=f"Choose one of {', '.join(i.name for i in self._choices[:10])}")

    def close(self) -> None:
        """Give the review file up (its lock) and close the widgets; what a kernel shutdown does too."""
        self.cancel()
        self._close_review()
        super().close()

    # -- internals -----------------------------------------------------------------------------------
    def _close_review(self) -> None:
        if self.reviewer is not None:
            with contextlib.suppress(Exception):
                self.reviewer.close()
        self._close_session()

    def _close_session(self) -> None:
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.session.close()

    def _open_session(self, session_class: type[ReviewSession], incident: Incident, draft: CausalDraft,
                      data: pl.DataFrame | None) -> ReviewSession:
        """A review session saved beside the dashboard; a file another session holds (a second visitor of the
        same Voila page, another kernel) is left alone and the next free ``<name>-<n>`` file used instead."""
        from rcakit.review._autosave import SessionLockedError

        alarm = incident.alarm if incident.alarm in draft.nodes else None
        stem = _safe(incident.name)
        for n in range(1, 100):
            path = self.folder / (f"{stem}.rcakit-review.json" if n == 1 else f"{stem}-{n}.rcakit-review.json")
            try:
                session = session_class(draft, path=path, data=data, alarm=alarm)
            except SessionLockedError:
                continue
            if n > 1:
                self.notes.append(f"{stem}.rcakit-review.json is open in another session; this review is saved "
                                  f"to {path.name}")
            return session
        return session_class(draft, path=None, data=data, alarm=alarm, autosave=False)

    def _rewrite(self) -> Report:
        from rcakit.report import write_report

        if self.incident is None:  # the report panel exists only once an incident was shown
            raise DataError("no incident loaded", hint="Pick a sample or a folder and press Load")
        result = self.panel.result if self.panel is not None else None
        self.report = write_report(self.incident, attribution=result, anomalies=self.anomalies,
                                   draft=self.session.draft if self.session is not None else None)
        return self.report

    def _draft_progress(self, done: int, total: int) -> None:
        """draft_graph's count of answered candidate pairs, in the status line (a data or LLM draft takes time)."""
        name = html.escape(self.incident.name) if self.incident is not None else ""
        self._set_status(f"{name}: {STEPS['draft']}: {done:,} of {total:,} candidate pairs answered ...")

    def _load_quietly(self, source: str | Path) -> None:
        with contextlib.suppress(Exception):  # shown in the status line; kept in self.error
            self.load(source)

    def _read(self, source: str | Path) -> Incident:
        from rcakit.samples import sample_incident, sample_names

        text = str(source).strip()
        if text in sample_names():
            self._show_choices([])
            return sample_incident(text)
        path = Path(text).expanduser()
        if not path.exists():
            raise DataError(f"{text!r} is neither a sample incident nor an existing folder",
                            hint=f"Samples: {', '.join(sample_names())}; or type the path of an incident folder")
        if path.is_dir() and (path / "incident.json").is_file():
            from rcakit.telemetry import load_incident

            self._show_choices([])
            return load_incident(path)
        from rcakit.telemetry.datasets import load as load_dataset

        incidents = list(load_dataset(path))
        if not incidents:
            raise DataError(f"no incident found in {path}", hint="Point at an incident folder or a dataset folder")
        self._show_choices(incidents)
        return incidents[0]

    def _show_choices(self, incidents: list[Incident]) -> None:
        self._choices = incidents
        self._syncing = True
        try:
            self.incident_select.options = [i.name for i in incidents]
            if incidents:
                self.incident_select.value = incidents[0].name
        finally:
            self._syncing = False
        self.incident_select.layout.display = "" if len(incidents) > 1 else "none"

    def _incident_chosen(self, change: Bunch) -> None:  # traitlets' change dict
        if self._syncing or not change["new"]:
            return
        try:
            self.choose_incident(change["new"])
        except (Cancelled, RcakitError) as exc:
            self._set_status(html.escape(str(exc)))

    def _set_status(self, text: str) -> None:
        self.status.value = text

    def _step(self, name: str) -> _Step:
        return _Step(self, name)


class _Step:
    """One step: says what it does, counts on the bar, times itself, checks Cancel before starting."""

    def __init__(self, owner: IncidentDashboard, name: str) -> None:
        self.owner = owner
        self.name = name
        self.started = 0.0

    def __enter__(self) -> _Step:
        owner = self.owner
        owner._token.raise_if_cancelled()
        owner.step = self.name
        index = list(STEPS).index(self.name)
        owner.progress.value = index
        owner.progress.description = f"{index + 1}/{len(STEPS)}"
        subject = f"{html.escape(owner.incident.name)}: " if owner.incident is not None and self.name != "load" else ""
        owner._set_status(f"{subject}{html.escape(STEPS[self.name])} ...")
        self.started = time.perf_counter()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.owner.seconds[self.name] = time.perf_counter() - self.started
        if kind is None:
            self.owner.progress.value = list(STEPS).index(self.name) + 1


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "incident"

