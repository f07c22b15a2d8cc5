"""Where the widgets' front-end modules live: ``widgets/`` in a source checkout, ``rcakit/_widgets`` in a wheel.

pyproject force-includes ``widgets/`` into the wheel as ``rcakit/_widgets``, so no build step is
needed; this module finds whichever exists and reads a module or stylesheet from it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import rcakit
from rcakit.errors import MissingDependencyError

__all__ = ["asset_path", "read_asset", "vis_source", "widgets_dir"]


def widgets_dir() -> Path:
    """The folder holding ``graph_reviewer.js`` and friends (installed copy first, then the checkout)."""
    package = Path(rcakit.__file__).resolve().parent
    for candidate in (package / "_widgets", package.parent / "widgets"):
        if candidate.is_dir():
            return candidate
    raise MissingDependencyError(
        f"the widgets' front-end files were not found in {package / '_widgets'} nor {package.parent / 'widgets'}; "
        "reinstall rcakit (pip install --force-reinstall rcakit) or run from a source checkout")


def asset_path(name: str) -> Path:
    path = widgets_dir() / name
    if not path.is_file():
        raise MissingDependencyError(f"front-end file {name!r} is missing from {path.parent}; reinstall rcakit")
    return path


@lru_cache(maxsize=16)
def read_asset(name: str) -> str:
    return asset_path(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def vis_source() -> str:
    """vis-network's code (pyvis's copy, a UMD bundle) as a string.

    The reviewer's view evaluates it once per page, so the graph library travels with the widget and
    nothing is fetched from a CDN. It is a synced trait of its own, not part of the widget's module:
    anywidget gives a model 2 s to load its module, which a module holding 480 kB could miss.
    """
    from rcakit.review.export import vis_network_assets

    js, _css = vis_network_assets()
    return js
