"""The HTTP core of a local OpenAI-compatible chat server: one implementation for the stand-in model and the tests.

:class:`ChatServer` serves ``POST /v1/chat/completions`` (and Azure's
``/openai/deployments/<name>/chat/completions``) on 127.0.0.1 with an ephemeral port from a daemon
thread, records every request, counts the most requests served at the same time, and answers with an
OpenAI-shaped chat completion (token usage estimated at four characters per token). What it answers
is decided by :meth:`ChatServer.reply`, which subclasses implement: :class:`rcakit.graph.standin.StandInModel`
applies systems-knowledge rules, the test server (tests/llm/fake_server.py) applies a rule table and
can return errors, sleep past timeouts or answer malformed text.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = ["ChatServer", "Reply", "Request", "first_user", "options_of", "prompt_of"]

_OPTION = re.compile(r"^([ABC])\. (.*)$", re.MULTILINE)


def options_of(prompt: str) -> dict[str, str]:
    """``{"A": text, "B": text, "C": text}`` from a multiple-choice user prompt."""
    return {m.group(1): m.group(2) for m in _OPTION.finditer(prompt)}


def first_user(body: JSONObject) -> str:
    """The first user message of a chat request body."""
    for message in body.get("messages", []):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


def prompt_of(body: JSONObject) -> str:
    """The system messages and the first user message, joined: what rules match against."""
    system = " ".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "system")
    return system + "\n" + first_user(body)


@dataclass
class Request:
    """One request the server received; ``rule`` is whatever the answering :class:`Reply` named."""

    path: str
    body: JSONObject
    headers: dict[str, str]
    rule: int | None


@dataclass
class Reply:
    """What to answer: ``text`` with status 200, or an OpenAI-shaped error for another ``status``
    (with ``Retry-After`` when ``retry_after`` is set), after sleeping ``delay`` seconds.

    Faults for tests: ``raw`` is sent as the body instead of a chat completion (malformed JSON);
    ``choices=False`` answers a completion without choices; ``trickle`` sends the body in ``trickle``
    pieces with ``trickle_delay`` seconds between them (a very slow stream that never times out a
    single read); ``retry_after_text`` sends a Retry-After header as given (an HTTP date, garbage).
    """

    text: str = ""
    status: int = 200
    retry_after: float | None = None
    error_message: str = "simulated error"
    delay: float = 0.0
    rule: int | None = None
    raw: bytes | None = None
    choices: bool = True
    trickle: int = 0
    trickle_delay: float = 0.0
    retry_after_text: str | None = None


class ChatServer:
    """A local OpenAI-compatible chat server; subclasses implement :meth:`reply`.

    Use it as a context manager or call :meth:`start` / :meth:`stop`; :attr:`base_url` is what an
    :class:`~rcakit.llm.LLMClient` (or the ``openai`` package) needs.
    """

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- what to answer (subclasses) --------------------------------------------------------------
    def reply(self, body: JSONObject) -> Reply:
        """The answer to one chat request body (called once per request, before it is recorded)."""
        raise NotImplementedError

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> ChatServer:
        if self._httpd is not None:
            return self
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
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                                        name=f"{type(self).__name__}-http")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def root(self) -> str:
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running: call start() or use it in a with block")
        host, port = self._httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return self.root + "/v1"

    @property
    def count(self) -> int:
        """How many chat requests the server received."""
        with self._lock:
            return len(self.requests)

    def prompts(self) -> list[str]:
        with self._lock:
            return [prompt_of(r.body) for r in self.requests]

    # -- HTTP ------------------------------------------------------------------------------------
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
        answer = self.reply(body)
        with self._lock:
            self.requests.append(Request(handler.path, body, {k.lower(): v for k, v in handler.headers.items()},
                                         answer.rule))
            number = len(self.requests)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if answer.delay:
                time.sleep(answer.delay)
            if answer.status != 200:
                headers = {} if answer.retry_after is None else {"Retry-After": f"{answer.retry_after:g}"}
                if answer.retry_after_text is not None:
                    headers = {"Retry-After": answer.retry_after_text}
                self._send(handler, answer.status, {"error": {"message": answer.error_message, "type": "error",
                                                              "code": str(answer.status)}}, headers)
                return
            if answer.raw is not None:
                self._send_bytes(handler, 200, answer.raw, trickle=answer.trickle, delay=answer.trickle_delay)
                return
            text = answer.text
            p_tok = math.ceil(len(prompt_of(body)) / 4) + 7
            c_tok = math.ceil(len(text) / 4)
            choices = [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                        "logprobs": None, "finish_reason": "stop"}] if answer.choices else []
            payload = {
                "id": f"chatcmpl-local{number}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "local"),
                "system_fingerprint": None,
                "choices": choices,
                "usage": {"prompt_tokens": p_tok, "completion_tokens": c_tok, "total_tokens": p_tok + c_tok},
            }
            self._send_bytes(handler, 200, json.dumps(payload).encode("utf-8"), trickle=answer.trickle,
                             delay=answer.trickle_delay)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to answer
        finally:
            with self._lock:
                self._in_flight -= 1

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: JSONObject,
              headers: dict[str, str] | None = None) -> None:
        ChatServer._send_bytes(handler, status, json.dumps(payload).encode("utf-8"), headers)

    @staticmethod
    def _send_bytes(handler: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict[str, str] | None = None,
                    *, trickle: int = 0, delay: float = 0.0) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        if trickle > 1:  # a slow stream: every piece arrives well inside a read timeout, the whole does not
            step = max(1, math.ceil(len(data) / trickle))
            for start in range(0, len(data), step):
                handler.wfile.write(data[start:start + step])
                handler.wfile.flush()
                time.sleep(delay)
            return
        handler.wfile.write(data)
        handler.wfile.flush()
