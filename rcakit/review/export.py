"""Export a reviewed draft: networkx, JSON, DOT, GML and a standalone HTML page.

The HTML page inlines vis-network (the copy bundled with pyvis, so nothing is fetched from a CDN)
and opens without network and without Python. pyvis' own template is not used: it pulls Bootstrap
from a CDN and pastes node names into a ``<script>`` unescaped, so a metric called
``</script><script>alert(1)//`` would run. Here all data sit in one JSON block whose ``<``, ``>``
and ``&`` are escaped, and the page only ever sets ``textContent``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from rcakit._io import atomic_write_text
from rcakit.errors import DataError, MissingDependencyError
from rcakit.graph.draft import CausalDraft
from rcakit.review._vis import PROVENANCE_COLORS, json_for_script, layout_positions, vis_elements

__all__ = ["FORMATS", "export", "to_dot", "to_gml", "to_html", "to_json", "vis_network_assets"]

FORMATS = ("json", "dot", "gml", "html")


@lru_cache(maxsize=1)
def vis_network_assets() -> tuple[str, str]:
    """The JavaScript and CSS of vis-network 9.1.2 as bundled with pyvis (read from site-packages)."""
    try:
        root = resources.files("pyvis") / "lib" / "vis-9.1.2"
        return (root / "vis-network.min.js").read_text(encoding="utf-8"), (root / "vis-network.css").read_text(
            encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise MissingDependencyError(
            "vis-network (bundled with pyvis) is needed for the graph view and the HTML export; "
            "install it with: pip install 'pyvis>=0.3.2'") from exc


def to_dot(draft: CausalDraft, *, include_rejected: bool = False) -> str:
    """Graphviz DOT text: nodes and edges with every attribute of the review (see ``interchange.render_dot``)."""
    from rcakit.review.interchange import render_dot

    return render_dot(draft, include_rejected=include_rejected)


def to_gml(draft: CausalDraft, *, include_rejected: bool = False) -> str:
    """GML text (networkx's writer; every attribute, lists and dicts flattened; see ``interchange.render_gml``)."""
    from rcakit.review.interchange import render_gml

    return render_gml(draft, include_rejected=include_rejected)


def to_json(draft: CausalDraft) -> str:
    import json

    return json.dumps(draft.to_dict(), indent=2, default=str) + "\n"


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>{vis_css}</style>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; display: flex; height: 100vh; }}
#graph {{ flex: 1; border-right: 1px solid #ddd; }}
#side {{ width: 340px; padding: 12px; overflow: auto; font-size: 13px; }}
#side h1 {{ font-size: 16px; margin: 0 0 8px; }}
.legend span {{ display: inline-block; margin-right: 8px; }}
.swatch {{ display: inline-block; width: 14px; height: 4px; margin-right: 3px; vertical-align: middle; }}
pre {{ white-space: pre-wrap; word-break: break-word; background: #f6f6f6; padding: 6px; }}
</style>
</head>
<body>
<div id="graph"></div>
<div id="side">
<h1>{title}</h1>
<p>{summary}</p>
<div class="legend">{legend}</div>
<p>Solid: accepted; dashed: proposed; dotted grey: rejected. Width: confidence. Red node: the alarm; amber: its ancestors.</p>
<h2 style="font-size:14px">Details</h2>
<div id="details">Click an edge or a node.</div>
</div>
<script type="application/json" id="rcakit-data">{data}</script>
<script>{vis_js}</script>
<script>
(function () {{
  var data = JSON.parse(document.getElementById("rcakit-data").textContent);
  var nodes = new vis.DataSet(data.graph.nodes);
  var edges = new vis.DataSet(data.graph.edges);
  // Positions come from Python (a seeded spring layout): no physics, the page draws at once.
  var network = new vis.Network(document.getElementById("graph"), {{nodes: nodes, edges: edges}}, {{
    physics: false, interaction: {{hover: true}}, edges: {{smooth: {{type: "continuous"}}}}
  }});
  network.once("afterDrawing", function () {{ window.rcakitFirstDrawMs = performance.now(); }});
  function show(obj) {{
    var box = document.getElementById("details");
    box.textContent = "";
    Object.keys(obj).forEach(function (key) {{
      var b = document.createElement("b"); b.textContent = key;
      var pre = document.createElement("pre");
      var v = obj[key];
      pre.textContent = typeof v === "string" ? v : JSON.stringify(v, null, 1);
      box.appendChild(b); box.appendChild(pre);
    }});
  }}
  network.on("click", function (p) {{
    if (p.nodes.length) {{ show({{node: p.nodes[0], role: nodes.get(p.nodes[0]).role}}); return; }}
    if (p.edges.length) {{ show(data.details[p.edges[0]] || {{}}); }}
  }});
  window.rcakitNetwork = network;
}})();
</script>
</body>
</html>
"""


def to_html(draft: CausalDraft, *, title: str | None = None) -> str:
    """A standalone page: the graph drawn by inline vis-network, details on click; no network needed."""
    vis_js, vis_css = vis_network_assets()
    graph = vis_elements(draft, positions=layout_positions(draft))
    details = {}
    for item, edge in zip(graph["edges"], draft.edges.values()):
        details[item["id"]] = edge.to_dict()
    name = title or str(draft.meta.get("name") or "Causal graph review")
    counts = draft.counts()
    summary = (f"{len(draft.nodes)} nodes, {len(draft.edges)} edges: {counts['accepted']} accepted, "
               f"{counts['proposed']} proposed, {counts['rejected']} rejected. Alarm: {draft.alarm or 'none'}")
    legend = "".join(f'<span><i class="swatch" style="background:{c}"></i>{html.escape(k)}</span>'
                     for k, c in PROVENANCE_COLORS.items())
    # The inline script must not contain "</script"; vis-network's minified code does not, but be sure.
    if "</script" in vis_js.lower():
        vis_js = vis_js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
    return _PAGE.format(title=html.escape(name), summary=html.escape(summary), legend=legend, vis_css=vis_css,
                        vis_js=vis_js, data=json_for_script({"graph": graph, "details": details}))


def export(draft: CausalDraft, path: str | Path, *, format: str | None = None, **options: object) -> Path:
    """Write ``draft`` to ``path`` as json, dot, gml or html (chosen from the suffix unless given)."""
    target = Path(path)
    fmt = (format or target.suffix.lstrip(".")).lower()
    fmt = {"htm": "html", "gv": "dot"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise DataError(f"cannot export to format {fmt!r}", source=str(target),
                        hint=f"Use a file ending in one of {', '.join('.' + f for f in FORMATS)} or pass format=")
    # The options belong to the chosen writer (include_rejected= for dot and gml, title= for html), which checks them.
    writers: dict[str, Callable[..., str]] = {"dot": to_dot, "gml": to_gml, "html": to_html}
    text = to_json(draft) if fmt == "json" else writers[fmt](draft, **options)
    return atomic_write_text(target, text)
