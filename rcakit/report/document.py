"""``Report``: the incident's story as sections of Markdown, exported to Markdown or standalone HTML.

A report may carry charts (:mod:`rcakit.report.figures`: the anomalous series, the reviewed graph with the
causal path, the scores with intervals). The HTML export embeds them as inline plotly, with plotly.js from the
installed package once per page, so a saved report and a notebook converted by nbconvert show them offline.
"""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rcakit._io import atomic_write_text
from rcakit.report.facts import ReportFacts
from rcakit.report.figures import ReportFigure, figure_html, plotlyjs_script, report_figures

if TYPE_CHECKING:
    import networkx as nx

    from rcakit.attribution import Attribution
    from rcakit.detect import Anomalies
    from rcakit.graph import CausalDraft
    from rcakit.telemetry import Incident

__all__ = ["Report", "md_code", "md_escape"]

_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*[]<>|"})


def md_escape(text: object) -> str:
    """Escape a name or a log line for Markdown: its characters show as they are, never as markup.

    Only the characters that start markup or raw HTML are escaped (intraword ``_`` is plain text in
    CommonMark), so the Markdown export stays readable for names like ``GPU_0``.
    """
    return str(text).translate(_MD_SPECIAL)


def md_code(text: object) -> str:
    """``text`` as a Markdown code span that no backtick in it can close (its characters shown as they are).

    The fence is one backtick longer than the longest run inside; a space pads text that starts or ends
    with a backtick (CommonMark strips one on each side). Inside a code span, HTML is never markup.
    """
    value = " ".join(str(text).split("\n"))
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value[:1] == "`" or value[-1:] == "`" else ""
    return f"{fence}{pad}{value}{pad}{fence}"


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")


def neutralize_html(markdown: str) -> str:
    """Markdown with every raw HTML ``<`` outside code turned into ``&lt;``: text from a model or from logs
    stays text when a notebook renders the Markdown (Jupyter runs raw HTML in a trusted output)."""
    out: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            out.append(line)
            continue
        if opening:
            fence = opening.group(1)
            out.append(line)
            continue
        pieces, last = [], 0
        for span in _SPAN.finditer(line):
            pieces.append(re.sub(r"(?<!\\)<", "&lt;", line[last:span.start()]))
            pieces.append(span.group(0))
            last = span.end()
        pieces.append(re.sub(r"(?<!\\)<", "&lt;", line[last:]))
        out.append("".join(pieces))
    return "\n".join(out)


@dataclass
class Report:
    """A titled list of (heading, Markdown body) sections, and who wrote it (template or an LLM)."""

    title: str
    sections: list[tuple[str, str]]
    facts: ReportFacts
    writer: str = "template"
    notes: list[str] = field(default_factory=list)
    figures: list[ReportFigure] = field(default_factory=list)

    def add_figures(self, incident: Incident, *, attribution: Attribution | None = None,
                    draft: CausalDraft | nx.DiGraph | None = None, anomalies: Anomalies | None = None) -> Report:
        """Make the report's charts from the results it was written from (replacing any); returns the report.

        ``write_report`` calls this; call it yourself on a report built another way. A chart that fails is
        left out with a note, never at the cost of the report.
        """
        try:
            self.figures = report_figures(incident, attribution=attribution, draft=draft, anomalies=anomalies)
        except Exception as exc:  # a chart must never cost the reader the report
            self.figures = []
            self.notes.append(f"The charts could not be drawn ({type(exc).__name__}: {str(exc)[:200]}).")
        return self

    def figure(self, name: str) -> ReportFigure:
        """The chart named ``series``, ``graph`` or ``scores``."""
        for fig in self.figures:
            if fig.name == name:
                return fig
        raise KeyError(f"no chart {name!r}; this report has {[f.name for f in self.figures]}")

    def section(self, heading: str) -> str:
        for name, body in self.sections:
            if name.lower() == heading.lower():
                return body
        raise KeyError(f"no section {heading!r}; sections are {[n for n, _ in self.sections]}")

    def to_markdown(self) -> str:
        """The report as Markdown; names are escaped where the template puts them, and raw HTML anywhere (a
        model's answer, a log line) is neutralized, so a notebook shows it as text."""
        parts = [f"# {md_escape(self.title)}", "", f"*Written by: {md_escape(self.writer)}.*", ""]
        for heading, body in self.sections:
            parts += [f"## {md_escape(heading)}", "", body.strip(), ""]
        for note in self.notes:
            parts += [f"> {md_escape(note)}", ""]
        return neutralize_html("\n".join(parts).rstrip()) + "\n"

    def to_html(self, *, standalone: bool = True, charts: bool = True) -> str:
        """The report as HTML: a whole page (``standalone``) or a fragment for a notebook output.

        With ``charts`` (and charts made, see :meth:`add_figures`) the charts follow the summary as inline
        plotly: plotly.js itself is included once (about 5 MB, from the installed plotly package; no CDN),
        so the page, and a notebook holding this output converted with nbconvert, draws them offline.
        """
        import mistune

        # escape=True: raw HTML in the Markdown (a hostile service name, a log line) is shown, not run.
        render = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
        body = str(render(self.to_markdown()))
        if charts and self.figures:
            # A file holds one report: ids from its content keep the file the same run after run. A notebook
            # page may show the same report twice, so there each display gets ids of its own.
            uid = hashlib.sha1(body.encode()).hexdigest()[:8] if standalone else uuid.uuid4().hex[:8]
            body = _insert_after_first_section(body, self._charts_html(uid))
        if not standalone:
            return f"<div class='rcakit-report'>{body}</div>"
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head>"
            f"<body><main class='rcakit-report'>{body}</main></body></html>\n"
        )

    def _charts_html(self, uid: str) -> str:
        parts = [plotlyjs_script(), "<section class='rcakit-charts'><h2>Charts</h2>"]
        parts += [figure_html(fig, div_id=f"rcakit-{fig.name}-{uid}") for fig in self.figures]
        parts.append("</section>")
        return "".join(parts)

    def save(self, path: str | Path) -> Path:
        """Write Markdown (.md) or standalone HTML (.html, .htm), atomically."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix in {".html", ".htm"}:
            return atomic_write_text(target, self.to_html())
        if suffix in {".md", ".markdown", ".txt"}:
            return atomic_write_text(target, self.to_markdown())
        raise ValueError(f"cannot tell the format of {target.name!r}: use .md or .html")

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return self.to_html(standalone=False)


def _insert_after_first_section(body: str, extra: str) -> str:
    """Put ``extra`` before the second ``<h2>`` (after the summary), or at the end."""
    first = body.find("<h2")
    second = body.find("<h2", first + 1) if first >= 0 else -1
    return body[:second] + extra + body[second:] if second >= 0 else body + extra


_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; border-bottom: 1px solid #ddd; margin-top: 1.6rem; }
code, pre { background: #f4f4f4; padding: 0 .2rem; } pre { padding: .6rem; overflow-x: auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; }
blockquote { color: #555; border-left: 3px solid #ccc; margin-left: 0; padding-left: .8rem; }
figure.rcakit-figure { margin: 1rem 0; } figcaption { color: #555; font-size: .9rem; }
"""
