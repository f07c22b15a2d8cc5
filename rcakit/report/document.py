"""``Report``: the incident's story as sections of Markdown, exported to Markdown or standalone HTML."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rcakit._io import atomic_write_text
from rcakit.report.facts import ReportFacts

__all__ = ["Report", "md_escape"]

_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*[]<>|"})


def md_escape(text: Any) -> str:
    """Escape a name or a log line for Markdown: its characters show as they are, never as markup.

    Only the characters that start markup or raw HTML are escaped (intraword ``_`` is plain text in
    CommonMark), so the Markdown export stays readable for names like ``GPU_0``.
    """
    return str(text).translate(_MD_SPECIAL)


@dataclass
class Report:
    """A titled list of (heading, Markdown body) sections, and who wrote it (template or an LLM)."""

    title: str
    sections: list[tuple[str, str]]
    facts: ReportFacts
    writer: str = "template"
    notes: list[str] = field(default_factory=list)

    def section(self, heading: str) -> str:
        for name, body in self.sections:
            if name.lower() == heading.lower():
                return body
        raise KeyError(f"no section {heading!r}; sections are {[n for n, _ in self.sections]}")

    def to_markdown(self) -> str:
        parts = [f"# {self.title}", "", f"*Written by: {self.writer}.*", ""]
        for heading, body in self.sections:
            parts += [f"## {heading}", "", body.strip(), ""]
        for note in self.notes:
            parts += [f"> {note}", ""]
        return "\n".join(parts).rstrip() + "\n"

    def to_html(self, *, standalone: bool = True) -> str:
        import mistune

        # escape=True: raw HTML in the Markdown (a hostile service name, a log line) is shown, not run.
        render = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
        body = render(self.to_markdown())
        if not standalone:
            return f"<div class='rcakit-report'>{body}</div>"
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head>"
            f"<body><main class='rcakit-report'>{body}</main></body></html>\n"
        )

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


_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; border-bottom: 1px solid #ddd; margin-top: 1.6rem; }
code, pre { background: #f4f4f4; padding: 0 .2rem; } pre { padding: .6rem; overflow-x: auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; }
blockquote { color: #555; border-left: 3px solid #ccc; margin-left: 0; padding-left: .8rem; }
"""
