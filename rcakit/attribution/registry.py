"""Which code runs each :class:`~rcakit.attribution.Method`: one module per method, registered by name.

A method is a function ``run(request) -> Attribution`` (:class:`rcakit.attribution._run.Request`) in a module of
its own, registered with :func:`register`. :func:`runner` imports the module of a built-in method on first use,
so ``import rcakit.attribution`` does not import DoWhy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from rcakit.attribution.config import Method

if TYPE_CHECKING:
    from rcakit.attribution._run import Request
    from rcakit.attribution.result import Attribution

__all__ = ["MethodRunner", "register", "runner"]

MethodRunner = Callable[["Request"], "Attribution"]

#: The module that registers each built-in method.
_MODULES: dict[Method, str] = {
    Method.STRUCTURAL: "rcakit.attribution.structural",
    Method.ROBUST_Z: "rcakit.attribution.baselines",
    Method.N_SIGMA: "rcakit.attribution.baselines",
    Method.ATE: "rcakit.attribution.ate",
    Method.ANOMALY_ATTRIBUTION: "rcakit.attribution.dowhy_gcm",
    Method.DISTRIBUTION_CHANGE: "rcakit.attribution.dowhy_gcm",
    Method.MULTIMODAL: "rcakit.attribution.multimodal",
}
_RUNNERS: dict[Method, MethodRunner] = {}


def register(*methods: Method) -> Callable[[MethodRunner], MethodRunner]:
    """Decorator: ``fn`` runs ``methods``."""
    def decorate(fn: MethodRunner) -> MethodRunner:
        for method in methods:
            _RUNNERS[Method(method)] = fn
        return fn
    return decorate


def runner(method: Method) -> MethodRunner:
    """The function that runs ``method``."""
    if method not in _RUNNERS:
        importlib.import_module(_MODULES[method])
    return _RUNNERS[method]
