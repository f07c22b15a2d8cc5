"""No pickle, eval, exec, unsafe YAML or shell=True on data a user did not write: the source is read with ast,
every such call is listed, and each one that stays is in the allow-list with the reason it is safe."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "rcakit"

#: (path relative to rcakit/, what) -> why it is safe. Anything found and not listed fails the test; anything
#: listed and no longer found fails too (the list stays true).
ALLOWED: dict[tuple[str, str], str] = {}

#: Module attributes that run code or unpickle when called.
DANGEROUS_ATTRIBUTES = {
    ("pickle", "loads"), ("pickle", "load"), ("pickle", "dumps"), ("pickle", "Unpickler"),
    ("cPickle", "loads"), ("marshal", "loads"), ("marshal", "load"), ("shelve", "open"),
    ("dill", "loads"), ("dill", "load"), ("cloudpickle", "loads"), ("jsonpickle", "decode"),
    ("jsonpickle", "loads"), ("jsonpickle", "dumps"), ("jsonpickle", "encode"), ("yaml", "load"),
    ("yaml", "unsafe_load"), ("yaml", "full_load"), ("yaml", "load_all"), ("os", "system"), ("os", "popen"),
    ("pd", "read_pickle"), ("pandas", "read_pickle"), ("torch", "load"), ("joblib", "load"),
}
DANGEROUS_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle", "jsonpickle"}
DANGEROUS_BUILTINS = {"eval", "exec", "__import__"}


def findings(path: Path) -> list[tuple[str, int]]:
    """(what, line) for every dangerous import or call in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in DANGEROUS_MODULES:
                    found.append((f"import {alias.name}", node.lineno))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in DANGEROUS_MODULES:
            found.append((f"from {node.module} import", node.lineno))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in DANGEROUS_BUILTINS:
                found.append((func.id, node.lineno))
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                    (func.value.id, func.attr) in DANGEROUS_ATTRIBUTES:
                found.append((f"{func.value.id}.{func.attr}", node.lineno))
            for keyword in node.keywords:
                if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant) and
                                                   keyword.value.value is False):
                    found.append(("shell=True", node.lineno))
                if keyword.arg == "allow_pickle" and not (isinstance(keyword.value, ast.Constant) and
                                                          keyword.value.value is False):
                    found.append(("allow_pickle=True", node.lineno))
                if keyword.arg == "Loader" and "Safe" not in ast.unparse(keyword.value):
                    found.append(("yaml Loader that is not safe", node.lineno))
    return found


def test_no_unsafe_call_outside_the_allow_list() -> None:
    seen: set[tuple[str, str]] = set()
    unexpected = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for what, line in findings(path):
            key = (relative, what)
            seen.add(key)
            if key not in ALLOWED:
                unexpected.append(f"rcakit/{relative}:{line}: {what}")
    assert not unexpected, "unsafe calls on data (add a reason to ALLOWED only if the data is rcakit's own):\n" + \
        "\n".join(unexpected)
    stale = sorted(set(ALLOWED) - seen)
    assert not stale, f"allow-list entries no longer found (remove them): {stale}"


def test_the_scanner_finds_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import pickle, yaml, subprocess, numpy as np\n"
                      "pickle.loads(b'')\neval('1')\nexec('x = 1')\nyaml.load('a', Loader=yaml.Loader)\n"
                      "yaml.safe_load('a')\nsubprocess.run('ls', shell=True)\nsubprocess.run(['ls'], shell=False)\n"
                      "np.load('x.npy', allow_pickle=True)\n")
    got = {what for what, _ in findings(sample)}
    assert got == {"import pickle", "pickle.loads", "eval", "exec", "yaml.load", "yaml Loader that is not safe",
                   "shell=True", "allow_pickle=True"}
