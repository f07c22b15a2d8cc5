"""``ReportPanel``: the incident report in the notebook, with its charts, save buttons and a rewrite button.

The charts (:mod:`rcakit.report.figures`) are shown as plotly's own mime type in ``Output`` widgets, which
JupyterLab, Notebook 7, Voila and VS Code all render (a script inside an HTML widget would not run).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import ipywidgets as W

from rcakit.report import Report

__all__ = ["ReportPanel"]


class ReportPanel(W.VBox):  # type: ignore[misc]  # ipywidgets ships no type information
    """Shows a :class:`rcakit.report.Report`; every button calls a public method.

    ``rewrite`` is an optional callable returning a new Report (for example
    ``lambda: write_report(incident, attribution=run.result, llm="auto")``); the "Rewrite" button
    calls :meth:`refresh`, so the report follows a re-run attribution or a newly configured LLM.
    """

    def __init__(self, report: Report, *, rewrite: Callable[[], Report] | None = None,
                 folder: str | Path = ".") -> None:
        self.report = report
        self._rewrite = rewrite
        self.folder = Path(folder)
        self.status = W.HTML()
        self.body = W.HTML()
        self.charts = W.VBox(layout=W.Layout(width="100%"))
        self.save_html_button = W.Button(description="Save HTML", icon="download")
        self.save_md_button = W.Button(description="Save Markdown", icon="download")
        self.rewrite_button = W.Button(description="Rewrite", icon="refresh", disabled=rewrite is None,
                                       tooltip="Write the report again from the current results")
        self.save_html_button.on_click(lambda _b: self.save("html"))
        self.save_md_button.on_click(lambda _b: self.save("md"))
        self.rewrite_button.on_click(lambda _b: self.refresh())
        super().__init__([W.HBox([self.save_html_button, self.save_md_button, self.rewrite_button]),
                          self.status, self.charts, self.body], layout=W.Layout(width="100%"))
        self.show(report)

    def show(self, report: Report) -> None:
        self.report = report
        self.body.value = report.to_html(standalone=False, charts=False)
        outputs = []
        for figure in report.figures:
            out = W.Output(layout=W.Layout(width="100%"))
            out.outputs = ({"output_type": "display_data", "metadata": {}, "data": figure.mimebundle()},)
            outputs.append(out)
        self.charts.children = tuple(outputs)
        charts = f" {len(outputs)} charts." if outputs else ""
        self.status.value = f"<small>Written by {html.escape(report.writer)}.{charts}</small>"

    def refresh(self) -> Report:
        if self._rewrite is None:
            raise RuntimeError("this panel was built without a rewrite function")
        self.status.value = "<small>Rewriting…</small>"
        self.show(self._rewrite())
        return self.report

    def save(self, fmt: str = "html") -> Path:
        if fmt not in {"html", "md"}:
            raise ValueError(f"fmt must be 'html' or 'md', got {fmt!r}")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.report.facts.incident) or "incident"
        path = self.report.save(self.folder / f"{safe}-report.{fmt}")
        self.status.value = f"<small>Saved {html.escape(str(path))}</small>"
        return path
