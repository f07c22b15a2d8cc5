"""Fixtures shared by the test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rcakit._paths import shared_datasets_dir


def _require_shared() -> bool:
    return os.environ.get("RCAKIT_REQUIRE_SHARED", "") == "1"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``../shared/datasets``; skips when absent, fails instead when RCAKIT_REQUIRE_SHARED=1 (CI)."""
    path = shared_datasets_dir()
    if path is None or not path.is_dir():
        message = ("../shared/datasets not found (set RCAKIT_DATASETS to its path); "
                   "RCAKIT_REQUIRE_SHARED=1 makes this a failure")
        if _require_shared():
            pytest.fail(message)
        pytest.skip(message)
    return path


def shared_dataset(name: str) -> Path:
    """One dataset folder under ../shared/datasets, with the same skip-or-fail rule."""
    path = shared_datasets_dir()
    folder = path / name if path is not None else None
    if folder is None or not folder.is_dir():
        message = f"../shared/datasets/{name} not found"
        if _require_shared():
            pytest.fail(message + " and RCAKIT_REQUIRE_SHARED=1")
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def dowhy_dir() -> Path:
    return shared_dataset("dowhy-microservice")


@pytest.fixture(scope="session")
def petshop_dir() -> Path:
    return shared_dataset("petshop")


@pytest.fixture(scope="session")
def nezha_dir() -> Path:
    return shared_dataset("nezha-trainticket")


@pytest.fixture(scope="session")
def itmon_dir() -> Path:
    return shared_dataset("it-monitoring")
