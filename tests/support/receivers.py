"""Loopback receivers for alerts: a webhook (apprise json://) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Webhook:
    """Received JSON bodies; answers 500 to the first ``fail_first`` requests."""

    port: int = 0
    fail_first: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def wait_for(self, n: int, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.received) >= n, timeout_s):
                raise AssertionError(f"webhook got {len(self.received)} of {n} messages in {timeout_s} s: {self.received}")
            return list(self.received)


@contextmanager
def webhook(fail_first: int = 0) -> Iterator[Webhook]:
    hook = Webhook(fail_first=fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with hook.cond:
                if hook.refused < hook.fail_first:
                    hook.refused += 1
                    code = 500
                else:
                    hook.received.append(json.loads(body))
                    code = 200
                hook.cond.notify_all()
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.port = server.server_address[1]
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)


@dataclass
class Mailbox:
    port: int = 0
    messages: list[Any] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?to=ops@example.com&from=agent@example.com&mode=insecure"

    def wait_for(self, n: int, timeout_s: float = 30.0) -> list[Any]:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.messages) >= n, timeout_s):
                raise AssertionError(f"mailbox got {len(self.messages)} of {n} mails in {timeout_s} s")
            return list(self.messages)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """aiosmtpd on a free loopback port; each mail parsed into an email.message.EmailMessage."""
    from aiosmtpd.controller import Controller

    box = Mailbox()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with box.cond:
                box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                box.cond.notify_all()
            return "250 OK"

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    box.port = port
    try:
        yield box
    finally:
        ctl.stop()
