"""A chat-completions server on localhost whose answers are scripted, for the client and
stage tests: real HTTP, real sockets, answering as an OpenAI-compatible server would and
failing as real ones do (5xx, 429, garbage, slowness)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Server:
    """A chat-completions server whose next answers are scripted: ``plan`` holds (status,
    body, headers, delay) tuples used in order; when empty, it echoes the last message."""

    def __init__(self) -> None:
        self.plan: list[tuple[int, Any, dict[str, str], float]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                    step = server.plan.pop(0) if server.plan else None
                if step is None:
                    step = (200, server.echo(body), {}, 0.0)
                status, payload, headers, delay = step
                if delay:
                    threading.Event().wait(delay)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def echo(body: dict[str, Any]) -> dict[str, Any]:
        text = f"echo: {body['messages'][-1]['content']} (seed {body.get('seed')})"
        return {"model": body["model"], "choices": [{"message": {"role": "assistant",
                                                                 "content": text},
                                                     "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 7, "completion_tokens": 5}}
