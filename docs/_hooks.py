"""mkdocs hooks of rcakit's docs (mkdocs.yml ``hooks:``); not a page (excluded in mkdocs.yml).

The reference pages on file formats and on scale are written by other parts of the project. Until one
exists, its nav entry is left out and links to it become plain text, with a line in the build log, so
that ``mkdocs build --strict`` keeps failing on every other broken link.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

__all__ = ["PENDING", "on_config", "on_page_markdown"]

log = logging.getLogger("mkdocs.hooks.rcakit")
PENDING = ("formats.md", "scale.md")
_missing: set[str] = set()


def _prune(nav: Any) -> Any:
    if isinstance(nav, list):
        kept = [_prune(item) for item in nav]
        return [item for item in kept if item not in (None, [], {})]
    if isinstance(nav, dict):
        kept = {title: _prune(value) for title, value in nav.items()}
        return {title: value for title, value in kept.items() if value not in (None, [], {})}
    if isinstance(nav, str) and nav in _missing:
        return None
    return nav


def on_config(config: Any) -> Any:
    docs = Path(config["docs_dir"])
    _missing.clear()
    _missing.update(name for name in PENDING if not (docs / name).is_file())
    if _missing:
        log.info("not written yet, left out of the site: %s", ", ".join(sorted(_missing)))
        config["nav"] = _prune(config["nav"])
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    for name in _missing:
        markdown = re.sub(r"\[([^\]]+)\]\((?:\.\./)?" + re.escape(name) + r"(?:#[^)]*)?\)", r"\1", markdown)
    return markdown
