"""A local OpenAI-compatible chat-completions server with deterministic token counts.

The demo's support assistant and the LLM end-to-end tests talk to it through the real ``openai``
client (``base_url=stub.base_url``), so the real upstream instrumentations trace real HTTP
calls without any network. Token counts are a pure function of the request, so a test can
recompute every cost by hand:

* ``prompt_tokens`` = whitespace-separated words over all message contents;
* ``completion_tokens`` = ``10 + prompt_tokens // 2`` (the reply is that many words);
* ``cached_tokens`` = 0.

A user message containing ``[fail]`` gets HTTP 500 (an error span). Every served response is
recorded in :attr:`LlmStub.served` (response id, model, tokens). Binds 127.0.0.1 only.

>>> with LlmStub() as stub:
...     stub.base_url.startswith("http://127.0.0.1:")
True
>>> usage({"messages": [{"role": "user", "content": "two words"}]})
(2, 11)
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAIL_MARKER = "[fail]"
RESPONSE_MODEL_SUFFIX = "-2024-07-18"  # the response names a dated snapshot of the requested model
_MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Served:
    """One answered request."""

    response_id: str
    model: str  # the response model
    prompt_tokens: int
    completion_tokens: int


def usage(body: dict[str, Any]) -> tuple[int, int]:
    """(prompt_tokens, completion_tokens) the stub answers ``body`` with."""
    words = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            words += len(content.split())
    return words, 10 + words // 2


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= _MAX_BODY or not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                return
            body = json.loads(self.rfile.read(length))
            if not isinstance(body, dict) or not isinstance(body.get("model"), str):
                self._send(400, {"error": {"message": "model is required", "type": "invalid_request_error"}})
                return
        except (ValueError, OSError):
            self._send(400, {"error": {"message": "bad request", "type": "invalid_request_error"}})
            return
        messages = body.get("messages") or []
        if any(isinstance(m, dict) and FAIL_MARKER in str(m.get("content", "")) for m in messages):
            self._send(500, {"error": {"message": "upstream failure", "type": "server_error"}})
            return
        prompt_tokens, completion_tokens = usage(body)
        served = self.server.stub.record(
            body["model"] + RESPONSE_MODEL_SUFFIX, prompt_tokens, completion_tokens
        )
        self._send(
            200,
            {
                "id": served.response_id,
                "object": "chat.completion",
                "created": 0,
                "model": served.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": " ".join(["ok"] * completion_tokens)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                    "prompt_tokens_details": {"cached_tokens": 0},
                },
            },
        )

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stub: LlmStub


class LlmStub:
    """The stub server; a context manager that serves on 127.0.0.1 (``port=0``: a free port)."""

    def __init__(self, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.stub = self
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.served: list[Served] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def record(self, model: str, prompt_tokens: int, completion_tokens: int) -> Served:
        with self._lock:
            served = Served(f"chatcmpl-{len(self.served) + 1:06d}", model, prompt_tokens, completion_tokens)
            self.served.append(served)
        return served

    def start(self) -> LlmStub:
        self._thread = threading.Thread(target=self._server.serve_forever, name="llm-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LlmStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["FAIL_MARKER", "RESPONSE_MODEL_SUFFIX", "LlmStub", "Served", "usage"]
