"""A real HTTP receiver for the webhook tests: an integrator's endpoint on 127.0.0.1
(http.server in a thread) that answers the status codes it is given, records every request,
and checks signatures with the code docs/webhooks.md gives integrators."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from django.conf import settings


def documented_verifier() -> Callable[..., bool]:
    """``verify_signature`` exactly as docs/webhooks.md gives it to integrators, so the tests
    fail when the documentation and the signing drift apart."""
    text = (Path(settings.BASE_DIR) / "docs" / "webhooks.md").read_text()
    after_marker = text.split("<!-- verify-snippet", 1)[1]
    code = after_marker.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)  # noqa: S102  # our own documentation
    return namespace["verify_signature"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int
    verified: bool | None  # None: the receiver was given no secret to check with


class Receiver:
    """An integrator's endpoint: answers the status codes in ``answers`` in turn (the last one
    from then on) with a 800-character JSON body, and records every request. Given a
    ``secret``, it checks each signature with the documented code and answers 401 to a bad
    one, as an integrator should. ``delay`` makes it answer that many seconds late."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [200])
        self.received: list[Received] = []
        self.location = "http://127.0.0.1:1/elsewhere"
        self.secret: str | None = None
        self.delay = 0.0
        self._lock = threading.Lock()
        self._verify = documented_verifier()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                verified = None
                if receiver.secret is not None:
                    verified = receiver._verify(receiver.secret, self.headers.get("X-OMS-Signature", ""), body)
                with receiver._lock:
                    status = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                    if verified is False:
                        status = 401
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body, status, verified))
                time.sleep(receiver.delay)
                answer = json.dumps({"status": status, "note": "x" * 800}).encode()
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the OMS stopped waiting (the timeout test): nobody reads the answer

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/oms"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accepted(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.answered < 300]
