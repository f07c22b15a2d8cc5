"""Fixtures for the LLM tests: a clean environment (no real endpoint leaks in) and the local fake server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.llm.fake_server import FakeLLMServer, warm_up_openai

LLM_ENV_PREFIXES = ("OPENAI_", "AZURE_OPENAI_", "RCAKIT_LLM_")


@pytest.fixture()
def clean_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every variable that could point rcakit at a real model."""
    for name in list(os.environ):
        if name.startswith(LLM_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture()
def fake_llm(clean_llm_env: None) -> Iterator[FakeLLMServer]:
    warm_up_openai()
    server = FakeLLMServer().start()
    try:
        yield server
    finally:
        server.stop()
