"""Test selection shared by tests/ and the nbval run over notebooks/.

Tests marked slow, notebook, browser or llm run in CI (CI=true), with ``--all`` or with
RCAKIT_TEST_ALL=1; elsewhere they are skipped so that a plain ``pytest`` stays fast. Notebooks
collected by nbval are marked ``notebook`` here.
"""

from __future__ import annotations

import os

import pytest

GATED = ("slow", "notebook", "browser", "llm")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--all", action="store_true", default=False,
                     help="also run slow, notebook, browser and llm tests (CI does)")


def run_everything(config: pytest.Config) -> bool:
    return bool(
        config.getoption("--all")
        or os.environ.get("CI", "").lower() in {"1", "true", "yes"}
        or os.environ.get("RCAKIT_TEST_ALL", "") == "1"
    )


def pytest_configure(config: pytest.Config) -> None:
    # Stable notebook and test output: no progress bars anywhere.
    os.environ.setdefault("RCAKIT_PROGRESS", "0")
    os.environ.setdefault("TQDM_DISABLE", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    everything = run_everything(config)
    for item in items:
        if str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.notebook)
        if everything:
            continue
        gated = [name for name in GATED if item.get_closest_marker(name)]
        if gated:
            item.add_marker(pytest.mark.skip(reason=f"{gated[0]} test: run with --all (CI runs it)"))
