"""Plain plotly figures in notebook outputs: plotly's own mime type inside an ipywidgets ``Output``.

JupyterLab, Notebook 7 and Voila draw ``application/vnd.plotly.v1+json`` with the plotly extension that ships
with plotly, VS Code with its built-in notebook renderers; nothing is fetched from a CDN and no widget model
has to load plotly.js. Setting ``outputs`` works from any thread and any callback (no capture context).
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ipywidgets as widgets
    import plotly.graph_objects as go

__all__ = ["show_figure"]


def show_figure(figure: go.Figure, output: widgets.Output) -> None:
    """Show ``figure`` (a plotly Figure) as the only output of ``output`` (an ipywidgets Output)."""
    import plotly.io as pio

    spec = json.loads(pio.to_json(figure, validate=False, remove_uids=True))
    # not "responsive": it sizes the plot to 100% of an auto-height Output, i.e. 0 px tall (nothing visible)
    spec["config"] = {"displaylogo": False}
    title = ""
    with contextlib.suppress(Exception):
        title = figure.layout.title.text or ""
    output.outputs = ({"output_type": "display_data", "metadata": {},
                       "data": {"application/vnd.plotly.v1+json": spec, "text/plain": f"<plotly chart: {title}>"}},)
