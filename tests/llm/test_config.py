"""Configuration from arguments and environment, and the offline state. No network in this file."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import rcakit.llm as llm
from rcakit.graph import CandidatePair, SystemModel
from rcakit.graph.suggest_llm import LLMSuggester
from rcakit.llm import LLMClient, LLMConfig, LLMConfigError, LLMNotConfigured, Provider

SECRET = "sk-test-SECRET-0123456789abcdef"


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Any attempt to open a connection fails the test (and is recorded)."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise AssertionError(f"offline code tried to connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_nothing_configured_is_offline_and_touches_no_network(clean_llm_env: None, no_network: list[object],
                                                               tmp_path: Path) -> None:
    assert llm.is_configured() is False
    assert "OPENAI_API_KEY" in (llm.offline_reason() or "")
    assert LLMClient.from_env() is None
    assert LLMConfig.from_env() is None
    with pytest.raises(LLMNotConfigured, match="offline"):
        LLMClient()
    suggester = LLMSuggester()  # builds from the environment: no client, nothing sent
    assert suggester.client is None
    system = SystemModel.from_nodes(["A:latency", "A:throughput", "B:latency"], [("A", "B")])
    pairs = [CandidatePair("A:latency", "A:throughput"), CandidatePair("A:latency", "B:latency", "invokes")]
    estimate = suggester.dry_run(pairs, system)  # a dry run works offline
    assert estimate.calls == estimate.unique == 2 * 3
    with pytest.raises(LLMNotConfigured, match="knowledge suggester"):
        suggester.suggest(pairs, system)
    assert no_network == []


def test_openai_key_only_selects_openai_with_default_model(clean_llm_env: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert llm.is_configured()
    config = LLMConfig.from_env()
    assert config is not None
    assert config.provider is Provider.OPENAI and config.model == llm.config.DEFAULT_OPENAI_MODEL
    assert config.base_url is None and config.endpoint.startswith("https://api.openai.com")
    assert SECRET not in repr(config) and SECRET not in str(config.to_dict())
    assert config.to_dict()["has_api_key"] is True
    client = LLMClient(config)
    assert SECRET not in repr(client)


def test_local_server_needs_a_model_name(clean_llm_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    with pytest.raises(LLMConfigError, match="RCAKIT_LLM_MODEL"):
        LLMConfig.from_env()
    assert llm.is_configured() is False
    assert "halfway" in (llm.offline_reason() or "")
    monkeypatch.setenv("OPENAI_MODEL", "llama3.1")
    config = LLMConfig.from_env()
    assert config is not None and config.model == "llama3.1" and config.base_url == "http://localhost:11434/v1"
    monkeypatch.setenv("RCAKIT_LLM_MODEL", "qwen2.5")  # rcakit's own variable wins
    assert LLMConfig.from_env().model == "qwen2.5"  # type: ignore[union-attr]
    assert config.to_dict()["has_api_key"] is False


def test_azure_from_environment(clean_llm_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://example.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "gpt4o-prod")
    config = LLMConfig.from_env()
    assert config is not None
    assert config.provider is Provider.AZURE
    assert (config.azure_deployment, config.api_version, config.model) == ("gpt4o-prod", "2024-10-21", "gpt4o-prod")
    assert SECRET not in repr(config)


def test_arguments_win_over_environment_and_offline_switch(clean_llm_env: None, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    monkeypatch.setenv("RCAKIT_LLM_MODEL", "env-model")
    monkeypatch.setenv("RCAKIT_LLM_MAX_CALLS", "50")
    config = LLMConfig.from_env(model="arg-model", cache_dir=tmp_path, max_tokens=1000)
    assert config is not None
    assert (config.model, config.max_calls, config.max_tokens, config.cache_dir) == ("arg-model", 50, 1000, tmp_path)
    with pytest.raises(LLMConfigError, match="unknown LLM option"):
        LLMConfig.from_env(modle="typo")
    monkeypatch.setenv("RCAKIT_LLM_OFFLINE", "1")
    assert llm.is_configured() is False and LLMClient.from_env() is None
    monkeypatch.setenv("RCAKIT_LLM_MAX_CALLS", "many")
    monkeypatch.delenv("RCAKIT_LLM_OFFLINE")
    with pytest.raises(LLMConfigError, match="RCAKIT_LLM_MAX_CALLS"):
        LLMConfig.from_env()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(LLMConfigError, match="max_concurrency"):
        LLMConfig(model="m", max_concurrency=0)
    with pytest.raises(LLMConfigError, match="model"):
        LLMConfig(model=" ")
    with pytest.raises(LLMConfigError, match="endpoint"):
        LLMConfig(model="m", provider=Provider.AZURE)
