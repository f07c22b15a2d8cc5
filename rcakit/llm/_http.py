"""The wire under :class:`~rcakit.llm.LLMClient`: a guarded HTTP client, and reading what an endpoint sent back.

:func:`_guarded_http_client` bounds every answer in time and size; :func:`_unusable` says why a 200
answer cannot be used; :func:`_error_text`, :func:`_retry_after` and :func:`_hint` read a refusal
(its message, the ``Retry-After`` wait, what to check).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from rcakit.llm.usage import CHARS_PER_TOKEN

if TYPE_CHECKING:
    from openai import DefaultHttpxClient

__all__ = ["_answer_limit", "_error_text", "_guarded_http_client", "_hint", "_retry_after", "_unusable"]


def _unusable(response: object) -> str:
    """Why a 200 answer cannot be used (asked again), or "" when it can."""
    choices = getattr(response, "choices", None)
    if not choices:
        return "the answer had no choices"
    message = getattr(choices[0], "message", None)
    if message is None or not isinstance(getattr(message, "content", None), str):
        return "the answer's first choice has no text"
    return ""


def _answer_limit(max_output_tokens: int) -> int:
    """Bytes an answer may take: its tokens at up to 16 bytes each (JSON escapes, multi-byte text) plus the envelope."""
    return 16 * max(int(max_output_tokens), 1) * CHARS_PER_TOKEN // 4 + (64 << 10)


def _guarded_http_client(total: float, max_bytes: int) -> DefaultHttpxClient:
    """The SDK's own HTTP client with two guards on every answer: the whole of it within ``total`` seconds (a
    server trickling bytes never trips a per-read timeout) and at most ``max_bytes`` (a server ignoring max_tokens).

    Built on the HTTP library the installed ``openai`` uses (``httpx`` or its successor), found from the SDK's
    default client class, so the guard follows the SDK across versions.
    """
    import sys

    import openai

    base = openai.DefaultHttpxClient
    http = sys.modules[next(c for c in base.__mro__ if c.__name__ == "Client").__module__.split(".")[0]]

    class TooLarge(http.ReadError):  # type: ignore[misc, name-defined]
        rcakit_too_large = True

    class Guarded(http.SyncByteStream):  # type: ignore[misc, name-defined]
        def __init__(self, inner: Any, deadline: float) -> None:
            self.inner = inner
            self.deadline = deadline

        def __iter__(self) -> Iterator[bytes]:
            size = 0
            for chunk in self.inner:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"more than {max_bytes:,} bytes")
                if time.monotonic() > self.deadline:
                    raise http.ReadTimeout(f"the answer took longer than {total:g} s")
                yield chunk

        def close(self) -> None:
            self.inner.close()

    class Transport(http.BaseTransport):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self.inner = http.HTTPTransport(limits=http.Limits(max_connections=100, max_keepalive_connections=20))

        def handle_request(self, request: Any) -> Any:
            deadline = time.monotonic() + total
            response = self.inner.handle_request(request)
            response.stream = Guarded(response.stream, deadline)
            return response

        def close(self) -> None:
            self.inner.close()

    return base(transport=Transport())


def _error_text(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping) and err.get("message"):
            return str(err["message"])
        return str(err)
    return str(getattr(exc, "message", "") or type(exc).__name__)


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return float(raw_ms) / 1000.0
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        try:
            return max((parsedate_to_datetime(raw).timestamp() - time.time()), 0.0)
        except (TypeError, ValueError):
            return None


def _hint(status: int | None) -> str:
    if status in (401, 403):
        return "Check the API key (OPENAI_API_KEY or AZURE_OPENAI_API_KEY) and its permissions"
    if status == 404:
        return "Check the model name (RCAKIT_LLM_MODEL) or Azure deployment, and the base URL (it usually ends in /v1)"
    if status == 400:
        return "The server rejected the request's parameters; check the model name and max_output_tokens"
    return "See the server's message above"
