"""The import graph goes one way: telemetry -> detect -> graph -> review -> attribution -> report -> ui.

Every ``import`` of an rcakit module is read from the source with :mod:`ast`, the ones inside
functions too (a lazy import is still a dependency), so a back-edge fails here before it becomes a
circle, and so does a circle inside a part (two modules that import each other, lazily or not). ``llm`` and ``sim`` stand beside the flow: anything above the telemetry model may use them,
and they use nothing of the flow. The tooling on top (``bench``, the CLI) may use everything.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

import rcakit

ROOT = Path(rcakit.__file__).parent

#: The layer of each top-level part of rcakit; a part may import only parts of a lower layer (or its own).
LAYERS: dict[str, int] = {
    **dict.fromkeys(["errors", "_progress", "_version", "_paths", "_io", "_types"], 0),
    "telemetry": 1,
    **dict.fromkeys(["llm", "sim", "samples"], 2),  # beside the flow: they read telemetry only
    "detect": 3,
    "graph": 4,
    "review": 5,
    "attribution": 6,
    **dict.fromkeys(["report", "integrations"], 7),
    "pipeline": 8,
    **dict.fromkeys(["ui", "commands", "scale"], 9),  # scale: analyze over many incidents on Dask
    **dict.fromkeys(["__init__", "cli", "bench"], 10),
    "__main__": 11,
}


def _modules() -> dict[str, Path]:
    out = {}
    for file in ROOT.rglob("*.py"):
        parts = file.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = file
    return out


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(file: Path, *, top_level_only: bool) -> Iterator[tuple[str, int]]:
    """(imported name, line) of every import that runs (those under ``if TYPE_CHECKING:`` never do)."""
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    never: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                never |= set(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    for node in (tree.body if top_level_only else ast.walk(tree)):
        if getattr(node, "lineno", None) in never:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def test_every_part_of_rcakit_has_a_layer() -> None:
    parts = {_part(m) for m in _modules()}
    assert parts <= set(LAYERS), f"give these a layer in LAYERS: {sorted(parts - set(LAYERS))}"


def test_no_part_imports_a_part_above_it() -> None:
    back_edges = []
    for module, file in _modules().items():
        src = _part(module)
        for name, line in _imports(file, top_level_only=False):
            if not name.startswith("rcakit."):
                continue
            dst = name.split(".")[1]
            if dst in LAYERS and dst != src and LAYERS[dst] >= LAYERS[src]:
                back_edges.append(f"{file.relative_to(ROOT.parent)}:{line} ({src}, layer {LAYERS[src]}) "
                                  f"imports {name} ({dst}, layer {LAYERS[dst]})")
    assert not back_edges, "imports against the layer order:\n" + "\n".join(back_edges)


def _import_graph(*, top_level_only: bool) -> nx.DiGraph:
    """Module -> imported rcakit module, for the imports that run (``TYPE_CHECKING`` ones never do)."""
    modules = _modules()
    graph = nx.DiGraph()
    for module, file in modules.items():
        for name, _line in _imports(file, top_level_only=top_level_only):
            if not name.startswith("rcakit"):
                continue
            while name and name not in modules:
                name = name.rpartition(".")[0]
            # a package's own __init__ importing its modules is how packages are built, not a circle
            if name and name != module and not module.startswith(name + "."):
                graph.add_edge(module, name)
    return graph


def test_module_level_imports_have_no_circle() -> None:
    circles = list(itertools.islice(nx.simple_cycles(_import_graph(top_level_only=True)), 5))
    assert not circles, f"module-level import circles: {circles}"


def test_no_import_circle_counting_imports_inside_functions() -> None:
    """A lazy import only hides a circle: two modules that need each other are one job in two files."""
    circles = list(itertools.islice(nx.simple_cycles(_import_graph(top_level_only=False)), 5))
    assert not circles, f"import circles (lazy imports counted): {circles}"


@pytest.mark.parametrize("name", ["load", "detect_anomalies", "draft_graph", "ReviewSession", "attribute",
                                  "write_report", "analyze", "sample_incident", "Telemetry", "Incident",
                                  "split_node", "node_name"])
def test_the_flow_is_one_hop_from_rcakit(name: str) -> None:
    assert name in rcakit.__all__
    assert callable(getattr(rcakit, name))


def test_import_rcakit_stays_light() -> None:
    """The step functions load on first use: ``import rcakit`` pulls in no graph, attribution or widget code."""
    import subprocess
    import sys

    code = ("import sys, rcakit; heavy = [m for m in ('rcakit.graph', 'rcakit.attribution', 'rcakit.ui', "
            "'ipywidgets', 'dowhy', 'causallearn') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
