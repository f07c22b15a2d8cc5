"""A local OpenAI-compatible chat server for tests: the real ``openai`` client talks to it over HTTP.

It serves ``POST /v1/chat/completions`` (and Azure's ``/openai/deployments/<name>/chat/completions``)
on 127.0.0.1 with an ephemeral port, answers by prompt content from a rule table, and can answer
malformed text, sleep past the client's timeout or return 429 with ``Retry-After``. It counts
requests and the most requests it served at the same time.

>>> with FakeLLMServer([Rule(choose=r'of \\w+ directly causes a change in "latency" of you')]) as server:
...     client = LLMClient(model="fake", base_url=server.base_url, api_key="sk-test")
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["NO_EDGE", "FakeLLMServer", "Rule", "options_of", "warm_up_openai"]

NO_EDGE = r"do not directly influence each other"
_OPTION = re.compile(r"^([ABC])\. (.*)$", re.MULTILINE)
REASONING = "Let me think step by step. The first metric feeds the second through the request path."


def options_of(prompt: str) -> dict[str, str]:
    """``{"A": text, "B": text, "C": text}`` from a multiple-choice user prompt."""
    return {m.group(1): m.group(2) for m in _OPTION.finditer(prompt)}


@dataclass
class Rule:
    """When every ``contains`` substring is in the prompt (system + first user message), answer.

    ``choose`` is a regex: the answer is the letter of the first option it matches, after a line of
    reasoning. ``reply`` is a literal answer (for malformed ones). ``status`` other than 200 returns an
    OpenAI-shaped error with an optional ``Retry-After``. ``delay`` sleeps before answering. ``times``
    limits how often the rule fires (then later rules apply). ``reasked`` selects only first asks
    (False) or only follow-ups after an unparseable answer (True).
    """

    contains: Sequence[str] = ()
    choose: str | None = None
    reply: str | None = None
    status: int = 200
    retry_after: float | None = None
    error_message: str = "simulated error"
    delay: float = 0.0
    times: int | None = None
    reasked: bool | None = None
    fired: int = 0


@dataclass
class Request:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    rule: int | None  # index of the rule that answered, None for the default


@dataclass
class FakeLLMServer:
    rules: list[Rule] = field(default_factory=list)
    default_choose: str = NO_EDGE
    answer: Callable[[str], str] | None = None  # custom: prompt -> reply text, used when no rule fires

    def __post_init__(self) -> None:
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeLLMServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between headers and body
            wbufsize = 1 << 16

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                server._handle(self)

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default backlog of 5 drops connections under a thread pool

        httpd = Server(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return self.root + "/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def prompts(self) -> list[str]:
        with self._lock:
            return [_prompt(r.body) for r in self.requests]

    # -- answering -------------------------------------------------------------------------------
    def _pick(self, body: dict[str, Any]) -> tuple[int | None, Rule | None]:
        prompt = _prompt(body)
        reasked = any(m.get("role") == "assistant" for m in body.get("messages", []))
        with self._lock:
            for index, rule in enumerate(self.rules):
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.reasked is not None and rule.reasked != reasked:
                    continue
                if all(s in prompt for s in rule.contains):
                    rule.fired += 1
                    return index, rule
        return None, None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send(handler, 400, {"error": {"message": "invalid JSON", "type": "invalid_request_error"}})
            return
        path = handler.path.split("?", 1)[0]
        if not path.endswith("/chat/completions"):
            self._send(handler, 404, {"error": {"message": f"no route {path}", "type": "not_found"}})
            return
        index, rule = self._pick(body)
        with self._lock:
            self.requests.append(Request(handler.path, body, {k.lower(): v for k, v in handler.headers.items()},
                                         index))
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if rule is not None and rule.delay:
                time.sleep(rule.delay)
            if rule is not None and rule.status != 200:
                headers = {} if rule.retry_after is None else {"Retry-After": f"{rule.retry_after:g}"}
                self._send(handler, rule.status, {"error": {"message": rule.error_message, "type": "error",
                                                            "code": str(rule.status)}}, headers)
                return
            text = self._reply(body, rule)
            prompt = _prompt(body)
            p_tok = math.ceil(len(prompt) / 4) + 7
            c_tok = math.ceil(len(text) / 4)
            self._send(handler, 200, {
                "id": f"chatcmpl-fake{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "system_fingerprint": None,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": p_tok, "completion_tokens": c_tok, "total_tokens": p_tok + c_tok},
            })
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to answer
        finally:
            with self._lock:
                self._in_flight -= 1

    def _reply(self, body: dict[str, Any], rule: Rule | None) -> str:
        if rule is not None and rule.reply is not None:
            return rule.reply
        prompt = _first_user(body)
        if rule is None and self.answer is not None:
            return self.answer(prompt)
        options = options_of(prompt)
        patterns = [rule.choose] if rule is not None and rule.choose else []
        for pattern in [*patterns, self.default_choose]:
            for letter, text in options.items():
                if re.search(pattern, text):
                    return f"{REASONING}\n{letter}"
        return f"{REASONING}\nB"

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()


def _first_user(body: dict[str, Any]) -> str:
    for message in body.get("messages", []):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


def _prompt(body: dict[str, Any]) -> str:
    system = " ".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "system")
    return system + "\n" + _first_user(body)


_warm = False


def warm_up_openai() -> None:
    """Pay the ``openai`` package's first-request cost (lazy imports, pydantic models: seconds on a cold
    disk) once per process, so that tests timing retries and timeouts measure rcakit, not the import."""
    global _warm
    if _warm:
        return
    import openai

    with FakeLLMServer() as server:
        client = openai.OpenAI(api_key="warm-up", base_url=server.base_url, max_retries=0)
        client.chat.completions.create(model="warm-up", messages=[{"role": "user", "content": "hi"}])
        client.close()
    _warm = True
