"""Exports: networkx, JSON, DOT, GML and a standalone HTML page, with hostile names escaped."""

from __future__ import annotations

import json
import re

import networkx as nx
import pytest

from rcakit.errors import DataError
from rcakit.graph import CausalDraft
from rcakit.review import ReviewSession

EVIL = '<script>alert("x")</script>'
EVIL_NODE = f'{EVIL}:lat"ency'


def _evil_session(tmp_path) -> ReviewSession:
    draft = CausalDraft(alarm="web:latency", meta={"name": EVIL})
    draft.add_edge(EVIL_NODE, "web:latency", provenance="llm", confidence=0.7, rationale=f"because {EVIL}")
    draft.add_edge("db:latency", "web:latency", provenance="knowledge", confidence=0.9)
    draft.add_edge("db:latency", EVIL_NODE, provenance="data", confidence=0.2)
    session = ReviewSession(draft, path=tmp_path / "evil.json")
    session.reject("db:latency", EVIL_NODE)
    return session


def test_networkx_export_leaves_rejected_edges_out(tmp_path):
    g = _evil_session(tmp_path).to_networkx()
    assert set(g.edges) == {(EVIL_NODE, "web:latency"), ("db:latency", "web:latency")}


def test_json_dot_and_gml_round_trip(tmp_path):
    session = _evil_session(tmp_path)
    session.export(tmp_path / "g.json")
    assert CausalDraft.from_dict(json.loads((tmp_path / "g.json").read_text())).to_dict() == session.draft.to_dict()
    session.export(tmp_path / "g.gml")
    gml = nx.read_gml(tmp_path / "g.gml")
    assert set(gml.edges) == {(EVIL_NODE, "web:latency"), ("db:latency", "web:latency")}
    assert gml.edges[EVIL_NODE, "web:latency"]["status"] == "proposed"
    dot = session.export(tmp_path / "g.dot").read_text()
    # every quoted DOT string is closed: quotes inside names are escaped
    quoted = re.findall(r'"((?:[^"\\]|\\.)*)"', dot)
    assert 'lat\\"ency' in "".join(quoted) and dot.strip().endswith("}")
    assert '"db:latency" -> "web:latency"' in dot and "rejected" not in dot


def test_html_export_is_standalone_and_escapes_names(tmp_path):
    session = _evil_session(tmp_path)
    page = session.export(tmp_path / "g.html").read_text()
    assert EVIL not in page and "<script>alert" not in page
    from rcakit.review.export import vis_network_assets

    outside_library = page.replace(vis_network_assets()[0], "")
    assert outside_library.count("<script") == 3  # the JSON data block, vis-network, the page's own code
    assert not re.search(r"""(src|href)=["']?https?:""", page), "the page must open without network"
    assert "vis.Network" in page and "&lt;script&gt;" in page  # the title, escaped
    data = page.split('id="rcakit-data">', 1)[1].split("</script>", 1)[0]
    parsed = json.loads(data)
    assert EVIL_NODE in {n["id"] for n in parsed["graph"]["nodes"]}


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(DataError, match="format"):
        _evil_session(tmp_path).export(tmp_path / "g.xlsx")
