"""``LLMClient``: the one way rcakit talks to a language model.

It wraps the ``openai`` package (any OpenAI-compatible endpoint, or Azure OpenAI) and adds what a
notebook user needs before spending money on a draft: an on-disk cache keyed by the meaning of the
question, a budget of calls and tokens that refuses the call that would exceed it, a dry-run
estimate, bounded retries with exponential backoff on 429 / 5xx / timeouts (honouring
``Retry-After``), a bounded thread pool, and usage accounting. The API key never reaches a cache
file, a log line or an exception message.

>>> client = LLMClient.from_env()            # None when nothing is configured (offline)
>>> if client is not None:
...     answer = client.chat([{"role": "user", "content": "Say hi"}], cache_key={"greeting": 1})
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar, cast

from rcakit.llm._errors import BudgetExceeded, LLMError, LLMNotConfigured
from rcakit.llm._http import _answer_limit, _error_text, _guarded_http_client, _hint, _retry_after, _unusable
from rcakit.llm.cache import ResponseCache, cache_key
from rcakit.llm.config import NO_KEY, LLMConfig, Provider, offline_reason
from rcakit.llm.usage import (
    ChatResult,
    Estimate,
    Message,
    Usage,
    estimate_message_tokens,
    estimate_tokens,
)

if TYPE_CHECKING:
    from openai import OpenAI
    from openai.types.chat import ChatCompletion

    from rcakit._progress import CancelToken
    from rcakit._types import JSONObject, JSONValue

__all__ = ["ChatResult", "Estimate", "LLMClient", "Usage", "estimate_message_tokens", "estimate_tokens"]

log = logging.getLogger("rcakit.llm")

T = TypeVar("T")
R = TypeVar("R")

_RETRYABLE_STATUS = frozenset({408, 409, 429})


class LLMClient:
    """Chat completions with cache, budget, retries and a bounded thread pool.

    Build it from a :class:`LLMConfig`, from keyword options (``LLMClient(model="llama3",
    base_url="http://localhost:11434/v1")``), or from the environment with :meth:`from_env`.
    """

    def __init__(self, config: LLMConfig | None = None, **options: Any) -> None:
        if config is None:
            config = LLMConfig.from_env(**options)
            if config is None:
                raise LLMNotConfigured(offline_reason() or "no language model configured")
        elif options:
            config = config.with_options(**options)
        self.config = config
        self.cache = ResponseCache(config.resolved_cache_dir)
        self._lock = threading.Lock()
        self._usage = Usage()
        self._reserved_calls = 0
        self._reserved_tokens = 0
        self._sdk: OpenAI | None = None
        self._sdk_lock = threading.Lock()
        self._token_param = "max_tokens"
        self._stop = threading.Event()

    @classmethod
    def from_env(cls, **overrides: Any) -> LLMClient | None:
        """A client from the environment (and ``overrides``), or None when nothing is configured (offline)."""
        config = LLMConfig.from_env(**overrides)
        return None if config is None else cls(config)

    # -- accounting ------------------------------------------------------------------------------
    @property
    def usage(self) -> Usage:
        with self._lock:
            return self._usage

    def reset_usage(self) -> None:
        """Start counting (and budgeting) from zero again."""
        with self._lock:
            self._usage = Usage()

    def _add(self, **deltas: int) -> None:
        with self._lock:
            self._usage = Usage(**{k: getattr(self._usage, k) + deltas.get(k, 0) for k in asdict(self._usage)})

    @property
    def name(self) -> str:
        return self.config.model

    def key_for(self, semantic: JSONValue, prompt_version: str = "") -> str:
        """The cache key of a question with this client's model and sampling settings."""
        return cache_key(semantic, model=self.config.model, prompt_version=prompt_version, params=self._params())

    def is_cached(self, semantic: JSONValue, prompt_version: str = "") -> bool:
        return self.config.use_cache and self.key_for(semantic, prompt_version) in self.cache

    def _params(self) -> JSONObject:
        return {"temperature": self.config.temperature, "max_output_tokens": self.config.max_output_tokens}

    # -- budget ----------------------------------------------------------------------------------
    def remaining(self) -> dict[str, int | None]:
        """Calls and tokens left in the budget (None: unlimited)."""
        cfg = self.config
        with self._lock:
            used_calls = self._usage.calls + self._reserved_calls
            used_tokens = self._usage.total_tokens + self._reserved_tokens
        return {"calls": None if cfg.max_calls is None else max(cfg.max_calls - used_calls, 0),
                "tokens": None if cfg.max_tokens is None else max(cfg.max_tokens - used_tokens, 0)}

    def check_budget(self, estimate: Estimate) -> None:
        """Raise :class:`BudgetExceeded` now if a job of this size cannot fit in what is left of the budget."""
        left = self.remaining()
        if left["calls"] is not None and estimate.calls > left["calls"]:
            raise BudgetExceeded(
                f"this job needs {estimate.calls} calls ({estimate.summary()}) but the budget has "
                f"{left['calls']} of {self.config.max_calls} left; nothing was sent. Raise max_calls "
                "(RCAKIT_LLM_MAX_CALLS), ask fewer pairs or votes, or reuse the cache",
                kind="calls", limit=int(self.config.max_calls or 0), used=int(self.config.max_calls or 0)
                - int(left["calls"]), needed=estimate.calls)
        needed_tokens = estimate.prompt_tokens
        if left["tokens"] is not None and needed_tokens > left["tokens"]:
            raise BudgetExceeded(
                f"this job needs about {needed_tokens:,} prompt tokens ({estimate.summary()}) but the budget "
                f"has {left['tokens']:,} of {self.config.max_tokens:,} tokens left; nothing was sent. Raise "
                "max_tokens (RCAKIT_LLM_MAX_TOKENS), ask fewer pairs or votes, or reuse the cache",
                kind="tokens", limit=int(self.config.max_tokens or 0), used=int(self.config.max_tokens or 0)
                - int(left["tokens"]), needed=needed_tokens)

    def _reserve(self, tokens: int) -> None:
        cfg = self.config
        with self._lock:
            calls_used = self._usage.calls + self._reserved_calls
            if cfg.max_calls is not None and calls_used + 1 > cfg.max_calls:
                raise BudgetExceeded(
                    f"the call budget is spent: {calls_used} of max_calls={cfg.max_calls} requests made or in "
                    "flight, and one more would exceed it; nothing was sent. Raise max_calls "
                    "(RCAKIT_LLM_MAX_CALLS) or rely on the cache", kind="calls", limit=cfg.max_calls,
                    used=calls_used, needed=1)
            tokens_used = self._usage.total_tokens + self._reserved_tokens
            if cfg.max_tokens is not None and tokens_used + tokens > cfg.max_tokens:
                raise BudgetExceeded(
                    f"the token budget would be exceeded: {tokens_used:,} of max_tokens={cfg.max_tokens:,} used "
                    f"or reserved, and this request may need {tokens:,} (prompt estimate plus max_output_tokens="
                    f"{cfg.max_output_tokens}); nothing was sent. Raise max_tokens (RCAKIT_LLM_MAX_TOKENS) or "
                    "lower max_output_tokens", kind="tokens", limit=cfg.max_tokens, used=tokens_used, needed=tokens)
            self._reserved_calls += 1
            self._reserved_tokens += tokens

    def _settle(self, tokens: int, *, sent: bool, prompt_tokens: int = 0, completion_tokens: int = 0,
                retry: bool = False, failure: bool = False) -> None:
        with self._lock:
            self._reserved_calls -= 1
            self._reserved_tokens -= tokens
            u = self._usage
            self._usage = Usage(calls=u.calls + (1 if sent else 0), cache_hits=u.cache_hits,
                                retries=u.retries + (1 if retry else 0), failures=u.failures + (1 if failure else 0),
                                prompt_tokens=u.prompt_tokens + prompt_tokens,
                                completion_tokens=u.completion_tokens + completion_tokens)

    # -- the call --------------------------------------------------------------------------------
    def _client(self) -> OpenAI:
        with self._sdk_lock:  # one SDK client (one connection pool) shared by the worker threads
            return self._make_client()

    def _make_client(self) -> OpenAI:
        if self._sdk is None:
            import openai

            cfg = self.config
            http = _guarded_http_client(cfg.timeout, _answer_limit(cfg.max_output_tokens))
            if cfg.provider is Provider.AZURE:
                self._sdk = openai.AzureOpenAI(azure_endpoint=cfg.base_url or "", api_key=cfg.api_key,
                                               api_version=cfg.api_version, azure_deployment=cfg.azure_deployment,
                                               timeout=cfg.timeout, max_retries=0, http_client=http)
            else:
                self._sdk = openai.OpenAI(api_key=cfg.api_key or NO_KEY, base_url=cfg.base_url,
                                          timeout=cfg.timeout, max_retries=0, http_client=http)
        return self._sdk

    def _redact(self, text: str) -> str:
        key = self.config.api_key
        if key and key != NO_KEY and len(key) >= 4:
            text = text.replace(key, "***")
        text = re.sub(r"(?i)(bearer\s+)\S+", r"\1***", text)
        text = re.sub(r"\bsk-[A-Za-z0-9_\-*]{4,}", "sk-***", text)
        text = re.sub(r"(?i)(api[-_]?key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+", r"\1***", text)
        return text[:400]

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        cfg = self.config
        if retry_after is not None:
            return min(max(retry_after, 0.0), cfg.backoff_max)
        delay: float = min(cfg.backoff_base * (2 ** attempt), cfg.backoff_max)
        return delay

    def chat(self, messages: Sequence[Message], *, cache_key: JSONValue = None, prompt_version: str = "",
             use_cache: bool | None = None, max_output_tokens: int | None = None) -> ChatResult:
        """Send one chat completion (or answer from the cache) and return its text.

        ``cache_key`` is the *meaning* of the question (any JSON-able value); with None the messages
        themselves are the key. The cache file's name also depends on the model, ``prompt_version`` and
        the sampling settings. Raises :class:`BudgetExceeded` before a request that would exceed the
        budget, :class:`LLMError` when the endpoint keeps failing or refuses the request.
        """
        msgs = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
        semantic = cache_key if cache_key is not None else {"messages": msgs}
        key = self.key_for(semantic, prompt_version)
        caching = self.config.use_cache if use_cache is None else use_cache
        if caching:
            hit = self.cache.get(key)
            if hit is not None:
                self._add(cache_hits=1)
                return ChatResult(hit.text, True, key, hit.prompt_tokens, hit.completion_tokens, 0)
        if self._stop.is_set():
            raise LLMError("the client was stopped")
        out_tokens = max_output_tokens or self.config.max_output_tokens
        text, p_tok, c_tok, attempts = self._complete(msgs, out_tokens, key)
        if caching:
            self.cache.put(key, text, model=self.config.model, prompt_version=prompt_version, semantic=semantic,
                           messages=msgs, prompt_tokens=p_tok, completion_tokens=c_tok)
        return ChatResult(text, False, key, p_tok, c_tok, attempts)

    def complete(self, prompt: str, *, system: str | None = None, cache_key: JSONValue = None, prompt_version: str = "",
                 max_output_tokens: int | None = None) -> str:
        """The answer text to one user prompt (with an optional system prompt); see :meth:`chat`."""
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        return self.chat(messages, cache_key=cache_key, prompt_version=prompt_version,
                         max_output_tokens=max_output_tokens).text

    def _complete(self, msgs: list[dict[str, str]], out_tokens: int, key: str) -> tuple[str, int, int, int]:
        import openai

        cfg = self.config
        reserve = estimate_message_tokens(msgs) + out_tokens
        model = cfg.azure_deployment if cfg.provider is Provider.AZURE and cfg.azure_deployment else cfg.model
        last_error = ""
        status: int | None = None
        attempt = 0
        switched_param = False
        while True:
            self._reserve(reserve)
            kwargs: JSONObject = {"model": model, "messages": msgs, self._token_param: out_tokens}
            if cfg.temperature is not None:
                kwargs["temperature"] = cfg.temperature
            retry_after: float | None = None
            try:
                log.debug("LLM request %s to %s (attempt %d)", key[:12], cfg.endpoint, attempt + 1)
                response = self._client().chat.completions.create(**kwargs)
            except openai.APIStatusError as exc:
                status = exc.status_code
                body = self._redact(_error_text(exc))
                retryable = status in _RETRYABLE_STATUS or status >= 500
                if (status == 400 and not switched_param and self._token_param == "max_tokens"
                        and "max_completion_tokens" in body):
                    # Newer OpenAI models refuse max_tokens; ask again with the new name (not a retry).
                    self._settle(reserve, sent=True)
                    self._token_param = "max_completion_tokens"
                    switched_param = True
                    continue
                self._settle(reserve, sent=True, retry=retryable and attempt < cfg.max_retries,
                             failure=not retryable or attempt >= cfg.max_retries)
                if not retryable:
                    raise LLMError(f"the model endpoint {cfg.endpoint} refused the request with HTTP {status}: "
                                   f"{body}. {_hint(status)}", status=status, attempts=attempt + 1) from None
                retry_after = _retry_after(exc)
                last_error = f"HTTP {status}: {body}"
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                if getattr(exc.__cause__, "rcakit_too_large", False):
                    # The server ignored max_tokens: refused, counted at its reservation, not asked again.
                    self._settle(reserve, sent=True, prompt_tokens=reserve - out_tokens, completion_tokens=out_tokens,
                                 failure=True)
                    raise LLMError(f"the model endpoint {cfg.endpoint} sent an answer longer than max_output_tokens="
                                   f"{out_tokens} allows ({exc.__cause__}); it was not read. Check the server's "
                                   "max_tokens handling", attempts=attempt + 1) from None
                timed_out = isinstance(exc, openai.APITimeoutError)
                self._settle(reserve, sent=True, retry=attempt < cfg.max_retries, failure=attempt >= cfg.max_retries)
                status = None
                last_error = (f"no whole answer within timeout={cfg.timeout:g} s" if timed_out else
                              f"cannot connect ({self._redact(type(exc).__name__)})")
            except (openai.APIResponseValidationError, ValueError) as exc:
                # A 200 whose body is not JSON (the SDK's json.JSONDecodeError) or not a chat completion.
                self._settle(reserve, sent=True, retry=attempt < cfg.max_retries, failure=attempt >= cfg.max_retries)
                status = getattr(exc, "status_code", None)
                last_error = (f"the answer is not a chat completion ({type(exc).__name__}: "
                              f"{self._redact(str(exc))[:120]})")
            else:
                answer = self._take_answer(response, msgs, reserve, out_tokens, attempt)
                if not isinstance(answer, str):
                    return answer
                last_error = answer
            self._wait_to_retry(attempt, retry_after, last_error, status)
            attempt += 1

    def _take_answer(self, response: ChatCompletion, msgs: list[dict[str, str]], reserve: int, out_tokens: int,
                     attempt: int) -> tuple[str, int, int, int] | str:
        """A 200 answer's text, tokens and attempts, settled in the budget; or why it cannot be used (asked again)."""
        cfg = self.config
        problem = _unusable(response)
        if problem:
            self._settle(reserve, sent=True, retry=attempt < cfg.max_retries,
                         failure=attempt >= cfg.max_retries)
            return problem
        choice = response.choices[0]
        text = (choice.message.content if choice.message is not None else None) or ""
        usage = getattr(response, "usage", None)
        p_tok = int(getattr(usage, "prompt_tokens", 0) or 0) or estimate_message_tokens(msgs)
        c_tok = int(getattr(usage, "completion_tokens", 0) or 0) or estimate_tokens(text)
        if c_tok > out_tokens:  # more than was asked for: the budget counts only the reservation
            self._settle(reserve, sent=True, prompt_tokens=reserve - out_tokens,
                         completion_tokens=out_tokens, failure=True)
            raise LLMError(f"the model endpoint {cfg.endpoint} answered with {c_tok} tokens, more than "
                           f"max_output_tokens={out_tokens}; the answer was refused", attempts=attempt + 1)
        self._settle(reserve, sent=True, prompt_tokens=p_tok, completion_tokens=c_tok)
        return text, p_tok, c_tok, attempt + 1

    def _wait_to_retry(self, attempt: int, retry_after: float | None, last_error: str, status: int | None) -> None:
        """Give up after ``max_retries`` retries, else wait the backoff (or ``Retry-After``) before the next attempt."""
        cfg = self.config
        if attempt >= cfg.max_retries:
            raise LLMError(f"the model endpoint {cfg.endpoint} failed {attempt + 1} times; last error: "
                           f"{last_error}. Check that the server is up, or raise timeout / max_retries",
                           status=status, attempts=attempt + 1) from None
        delay = self._backoff(attempt, retry_after)
        log.warning("LLM request failed (%s); retrying in %.2f s (attempt %d of %d)", last_error, delay,
                    attempt + 2, cfg.max_retries + 1)
        if self._stop.wait(delay):
            raise LLMError("the client was stopped while waiting to retry", status=status, attempts=attempt + 1)

    # -- many calls at once ----------------------------------------------------------------------
    def map(self, fn: Callable[[T], R], items: Iterable[T], *, on_progress: Callable[[int, int], None] | None = None,
            cancel: CancelToken | None = None, desc: str = "asking the LLM") -> list[R]:
        """``[fn(item) for item in items]`` on a thread pool of ``max_concurrency`` workers, in order.

        The first error (a :class:`BudgetExceeded`, an :class:`LLMError`, a cancellation) stops the
        work that has not started and is raised; answers already received stay in the cache.
        """
        from rcakit._progress import progress

        todo = list(items)
        total = len(todo)
        results: list[R | None] = [None] * total
        if not todo:
            return []

        def run(item: T) -> R:
            if cancel is not None:
                cancel.raise_if_cancelled()
            return fn(item)

        workers = max(1, min(self.config.max_concurrency, total))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rcakit-llm")
        futures: dict[Future[R], int] = {}
        done_count = 0
        try:
            for index, item in enumerate(todo):
                futures[pool.submit(run, item)] = index
            pending = set(futures)
            bar = iter(progress(range(total), total=total, desc=desc))
            while pending:
                finished, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
                for fut in finished:
                    results[futures[fut]] = fut.result()
                    done_count += 1
                    next(bar, None)
                    if on_progress is not None:
                        on_progress(done_count, total)
                if cancel is not None and cancel.cancelled:
                    cancel.raise_if_cancelled()
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return cast("list[R]", results)  # every slot is filled once all futures finished

    def close(self) -> None:
        """Stop waiting retries and close the HTTP connections."""
        self._stop.set()
        if self._sdk is not None:
            self._sdk.close()
            self._sdk = None

    def __repr__(self) -> str:
        u = self.usage
        return (f"LLMClient({self.config.provider.value}, model={self.config.model!r}, endpoint="
                f"{self.config.endpoint!r}, calls={u.calls}, cache_hits={u.cache_hits})")
