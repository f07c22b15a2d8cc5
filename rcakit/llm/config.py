"""Where the language model is and how to talk to it: :class:`LLMConfig`, from arguments or the environment.

Any OpenAI-compatible endpoint works: OpenAI itself, Azure OpenAI, vLLM, Ollama, LM Studio. The usual
environment variables are read (arguments win over them):

==========================  ====================================================================
``OPENAI_API_KEY``          key for OpenAI or an OpenAI-compatible server
``OPENAI_BASE_URL``         base URL of an OpenAI-compatible server (``http://localhost:8000/v1``)
``RCAKIT_LLM_MODEL``        model name (``OPENAI_MODEL`` is read too)
``AZURE_OPENAI_ENDPOINT``   Azure OpenAI resource URL (selects Azure)
``AZURE_OPENAI_API_KEY``    Azure key (``OPENAI_API_KEY`` is used when it is missing)
``OPENAI_API_VERSION``      Azure API version
``AZURE_OPENAI_DEPLOYMENT`` Azure deployment name (the model name is used when it is missing)
``RCAKIT_LLM_OFFLINE=1``    ignore everything above and stay offline
==========================  ====================================================================

With none of them set, :func:`is_configured` is False and rcakit works offline: the systems-knowledge
suggester drafts graphs and reports use a template. The API key is kept out of ``repr``, ``to_dict``,
logs, cache files and error messages.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rcakit.llm._errors import LLMConfigError

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = ["DEFAULT_OPENAI_MODEL", "LLMConfig", "Provider", "default_cache_dir", "is_configured", "offline_reason"]

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_AZURE_API_VERSION = "2024-06-01"
# vLLM and Ollama accept any key, but the openai package insists on one; this one is not a secret.
NO_KEY = "no-key-needed"

_TRUE = {"1", "true", "yes", "on"}


class Provider(StrEnum):
    OPENAI = "openai"  # OpenAI or any OpenAI-compatible server (vLLM, Ollama, LM Studio, ...)
    AZURE = "azure"


def default_cache_dir() -> Path:
    """``$RCAKIT_LLM_CACHE_DIR``, else ``$XDG_CACHE_HOME/rcakit/llm``, else ``~/.cache/rcakit/llm``."""
    env = os.environ.get("RCAKIT_LLM_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "rcakit" / "llm"


@dataclass(frozen=True)
class LLMConfig:
    """Everything the client needs; build it by hand, or with :meth:`from_env`.

    ``timeout`` is per request in seconds; ``max_retries`` bounds retries on 429, 5xx, timeouts and
    connection errors, waiting ``backoff_base * 2**attempt`` seconds (capped at ``backoff_max``) or the
    server's ``Retry-After``. ``max_concurrency`` bounds the thread pool. ``max_calls`` and
    ``max_tokens`` are the budget (None: unlimited); ``max_output_tokens`` is sent as ``max_tokens``
    of each request and is what the budget reserves for an answer.
    """

    model: str
    api_key: str = field(default=NO_KEY, repr=False)
    base_url: str | None = None
    provider: Provider = Provider.OPENAI
    api_version: str | None = None
    azure_deployment: str | None = None
    timeout: float = 60.0
    max_retries: int = 4
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    max_concurrency: int = 4
    temperature: float | None = None
    max_output_tokens: int = 1024
    max_calls: int | None = None
    max_tokens: int | None = None
    cache_dir: Path | None = None
    use_cache: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "provider", Provider(self.provider))
        if not self.model or not str(self.model).strip():
            raise LLMConfigError("no model name given",)
        if self.provider is Provider.AZURE and not self.base_url:
            raise LLMConfigError("Azure OpenAI needs the endpoint URL: set AZURE_OPENAI_ENDPOINT or pass base_url=")
        for name in ("timeout", "backoff_base", "backoff_max"):
            if float(getattr(self, name)) < 0:
                raise LLMConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("max_retries",):
            if int(getattr(self, name)) < 0:
                raise LLMConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("max_concurrency", "max_output_tokens"):
            if int(getattr(self, name)) < 1:
                raise LLMConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_calls", "max_tokens"):
            value = getattr(self, name)
            if value is not None and int(value) < 0:
                raise LLMConfigError(f"{name} must be >= 0 or None, got {value}")
        if self.cache_dir is not None:
            object.__setattr__(self, "cache_dir", Path(self.cache_dir).expanduser())

    # -- views -----------------------------------------------------------------------------------
    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else default_cache_dir()

    @property
    def endpoint(self) -> str:
        """Where requests go (no secrets): the base URL, or OpenAI's default."""
        return self.base_url or "https://api.openai.com/v1"

    def to_dict(self) -> JSONObject:
        """The settings without the API key (safe to show, log or save)."""
        out: JSONObject = {}
        for f in fields(self):
            if f.name == "api_key":
                continue
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, (Path, Provider)) else value
        out["has_api_key"] = self.api_key not in ("", NO_KEY)
        return out

    def __repr__(self) -> str:
        return (f"LLMConfig(provider={self.provider.value!r}, model={self.model!r}, endpoint={self.endpoint!r}, "
                f"api_key={'***' if self.api_key not in ('', NO_KEY) else 'none'}, "
                f"max_calls={self.max_calls}, max_tokens={self.max_tokens})")

    def with_options(self, **changes: Any) -> LLMConfig:
        return replace(self, **changes)

    # -- from the environment -------------------------------------------------------------------
    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> LLMConfig | None:
        """The configuration from environment variables and ``overrides``; None when nothing is configured.

        Raises :class:`LLMConfigError` when it is configured halfway (a base URL without a model name),
        with the variable to set.
        """
        env = os.environ if env is None else env
        overrides = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise LLMConfigError(f"unknown LLM option(s) {sorted(unknown)}; known: "
                                 f"{sorted(f.name for f in fields(cls))}")
        if _flag(env.get("RCAKIT_LLM_OFFLINE")) and not overrides:
            return None

        def get(*names: str) -> str | None:
            for name in names:
                value = env.get(name)
                if value is not None and value.strip():
                    return value.strip()
            return None

        model = overrides.pop("model", None) or get("RCAKIT_LLM_MODEL", "OPENAI_MODEL")
        options: dict[str, Any] = {}
        for name, var, conv in (("timeout", "RCAKIT_LLM_TIMEOUT", float), ("max_calls", "RCAKIT_LLM_MAX_CALLS", int),
                                ("max_tokens", "RCAKIT_LLM_MAX_TOKENS", int),
                                ("max_concurrency", "RCAKIT_LLM_CONCURRENCY", int),
                                ("cache_dir", "RCAKIT_LLM_CACHE_DIR", Path)):
            raw = get(var)
            if raw is not None:
                try:
                    options[name] = conv(raw)
                except ValueError:
                    raise LLMConfigError(f"environment variable {var}={raw!r} is not a valid {conv.__name__}") from None
        options.update(overrides)
        provider = options.pop("provider", None)
        azure_endpoint = options.pop("base_url", None) if provider == Provider.AZURE else None
        azure_endpoint = azure_endpoint or get("AZURE_OPENAI_ENDPOINT")
        if provider == Provider.AZURE or (provider is None and azure_endpoint):
            if not azure_endpoint:
                raise LLMConfigError("Azure OpenAI selected but no endpoint: set AZURE_OPENAI_ENDPOINT or pass base_url=")
            deployment = options.pop("azure_deployment", None) or get("AZURE_OPENAI_DEPLOYMENT",
                                                                       "AZURE_OPENAI_DEPLOYMENT_NAME") or model
            if not deployment:
                raise LLMConfigError("Azure OpenAI endpoint is set but no deployment: set AZURE_OPENAI_DEPLOYMENT "
                                     "(or RCAKIT_LLM_MODEL) or pass azure_deployment=")
            return cls(model=model or deployment, provider=Provider.AZURE, base_url=azure_endpoint,
                       azure_deployment=deployment,
                       api_key=options.pop("api_key", None) or get("AZURE_OPENAI_API_KEY", "OPENAI_API_KEY") or NO_KEY,
                       api_version=options.pop("api_version", None) or get("OPENAI_API_VERSION",
                                                                           "AZURE_OPENAI_API_VERSION")
                       or DEFAULT_AZURE_API_VERSION,
                       **options)
        api_key = options.pop("api_key", None) or get("OPENAI_API_KEY")
        base_url = options.pop("base_url", None) or get("OPENAI_BASE_URL", "OPENAI_API_BASE")
        if not api_key and not base_url and not model:
            return None
        if not api_key and not base_url:
            # A model name alone points nowhere: stay offline rather than guess an endpoint.
            return None
        if not model:
            if base_url:
                raise LLMConfigError(f"OPENAI_BASE_URL is set ({base_url}) but no model name: set RCAKIT_LLM_MODEL "
                                     "(or OPENAI_MODEL) or pass model=")
            model = DEFAULT_OPENAI_MODEL
        return cls(model=model, api_key=api_key or NO_KEY, base_url=base_url, provider=Provider.OPENAI, **options)


def _flag(value: str | None) -> bool:
    return bool(value) and str(value).strip().lower() in _TRUE


def offline_reason(env: Mapping[str, str] | None = None) -> str | None:
    """None when an endpoint is configured, else a sentence saying why rcakit is offline and how to fix it."""
    env = os.environ if env is None else env
    if _flag(env.get("RCAKIT_LLM_OFFLINE")):
        return "RCAKIT_LLM_OFFLINE is set: the language model is switched off"
    try:
        config = LLMConfig.from_env(env)
    except LLMConfigError as exc:
        return f"the language model is configured halfway: {exc}"
    if config is None:
        return ("no language model configured (set OPENAI_API_KEY, or OPENAI_BASE_URL and RCAKIT_LLM_MODEL, "
                "or AZURE_OPENAI_ENDPOINT); rcakit works offline")
    return None


def is_configured(env: Mapping[str, str] | None = None) -> bool:
    """True when an endpoint is configured through the environment; never touches the network."""
    return offline_reason(env) is None
