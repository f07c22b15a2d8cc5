"""One client for every OpenAI-compatible language model (OpenAI, Azure OpenAI, vLLM, Ollama).

``LLMClient.from_env()`` builds a client from the usual environment variables, or returns None when
nothing is configured, in which case rcakit works offline (``is_configured()`` is False). The client
caches answers on disk by the meaning of the question, keeps a call and token budget with a dry-run
estimate, retries 429 / 5xx / timeouts with backoff, runs requests on a bounded thread pool and counts
usage. An API key never reaches a cache file, a log or an error message. See docs/llm.md.
"""

from rcakit.llm._errors import BudgetExceeded, LLMConfigError, LLMError, LLMNotConfigured
from rcakit.llm.cache import ResponseCache, cache_key
from rcakit.llm.client import (
    ChatResult,
    Estimate,
    LLMClient,
    Usage,
    estimate_message_tokens,
    estimate_tokens,
)
from rcakit.llm.config import LLMConfig, Provider, default_cache_dir, is_configured, offline_reason

__all__ = [
    "BudgetExceeded",
    "ChatResult",
    "Estimate",
    "LLMClient",
    "LLMConfig",
    "LLMConfigError",
    "LLMError",
    "LLMNotConfigured",
    "Provider",
    "ResponseCache",
    "Usage",
    "cache_key",
    "default_cache_dir",
    "estimate_message_tokens",
    "estimate_tokens",
    "is_configured",
    "offline_reason",
]
