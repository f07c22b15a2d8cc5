"""Errors of the LLM client. Messages never contain an API key or a request header."""

from __future__ import annotations

from rcakit.errors import RcakitError

__all__ = ["BudgetExceeded", "LLMConfigError", "LLMError", "LLMNotConfigured"]


class LLMError(RcakitError, RuntimeError):
    """A request to the language model failed for good (after the allowed retries)."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 0) -> None:
        self.status = status
        self.attempts = attempts
        super().__init__(message)


class LLMConfigError(RcakitError, ValueError):
    """The endpoint is configured halfway (for example a base URL but no model name)."""


class LLMNotConfigured(LLMConfigError):
    """No endpoint is configured: rcakit works offline (systems-knowledge suggester, template report)."""


class BudgetExceeded(RcakitError, RuntimeError):
    """The next call would exceed the call or token budget; nothing was sent.

    ``kind`` is ``"calls"`` or ``"tokens"``; ``limit`` the budget, ``used`` what was spent so far and
    ``needed`` what the refused work needs.
    """

    def __init__(self, message: str, *, kind: str, limit: int, used: int, needed: int) -> None:
        self.kind = kind
        self.limit = limit
        self.used = used
        self.needed = needed
        super().__init__(message)
