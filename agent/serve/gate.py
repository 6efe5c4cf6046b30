"""The responder's gate: a connection gets a thread only after its headers arrived, in time,
with the right token.

One thread watches every new connection with a selector (an idle socket costs a file
descriptor and a small buffer, not a thread). It reads the request head with a deadline
(``header_timeout_s`` in all, however slowly the bytes trickle), refuses a client that already
holds ``per_client`` connections, checks the token, and only then hands the socket, with the
bytes already read, to a worker thread. So 200 sockets that never finish their headers, or a
flood of requests without the token, cannot take the slots of the agent's real test.

Refusals are logged as a summary at most once a minute (the first of each kind at once),
not one line each.
"""

from __future__ import annotations

import hmac
import logging
import selectors
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 5.0  # from accept to the end of the request head
MAX_HEAD_BYTES = 16 << 10
PER_CLIENT = 8  # connections one address may hold at once
MAX_PENDING = 1024  # connections still sending their head, all clients together
REFUSAL_LOG_EVERY_S = 60.0

UNAUTHORISED = b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 27\r\nConnection: close\r\n\r\n{\"error\": \"token required\"}"
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 5\r\nConnection: close\r\n\r\n"
TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def authorised(token: str | None, target: str, authorization: str) -> bool:
    """``Authorization: Bearer <token>`` or ``?token=<token>``, compared in constant time."""
    if token is None:
        return True
    given = ""
    if authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    else:
        values = parse_qs(urlsplit(target).query).get("token")
        given = values[0] if values else ""
    return hmac.compare_digest(given.encode(), token.encode())


def head_fields(head: bytes) -> tuple[str, str]:
    """(request target, Authorization value) of a request head; empty strings if absent."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    target = parts[1].decode("latin-1") if len(parts) >= 2 else ""
    auth = ""
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"authorization":
            auth = value.strip().decode("latin-1")
    return target, auth


class RefusalLog:
    """Counts refusals by reason and address; says so at once the first time, then once a minute."""

    def __init__(self, every_s: float = REFUSAL_LOG_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.clock = clock
        self.total: Counter[str] = Counter()
        self._window: Counter[tuple[str, str]] = Counter()
        self._seen: set[str] = set()
        self._last = clock()

    def note(self, reason: str, addr: str) -> None:
        self.total[reason] += 1
        if reason not in self._seen:
            self._seen.add(reason)
            log.warning("refused a connection from %s: %s (further refusals are summed up once a minute)", addr, reason)
            return
        self._window[(reason, addr)] += 1

    def flush(self, *, force: bool = False) -> None:
        now = self.clock()
        if not self._window or (not force and now - self._last < self.every_s):
            return
        by_reason: Counter[str] = Counter()
        for (reason, _), n in self._window.items():
            by_reason[reason] += n
        parts = []
        for reason, n in by_reason.most_common():
            top = sorted(((k, v) for k, v in self._window.items() if k[0] == reason), key=lambda kv: -kv[1])[:3]
            parts.append(f"{n} {reason} (" + ", ".join(f"{a} ×{v}" for (_, a), v in top) + ")")
        log.warning("refused %d connections in the last %.0f s: %s", sum(by_reason.values()), now - self._last, "; ".join(parts))
        self._window.clear()
        self._last = now


@dataclass
class _Pending:
    sock: socket.socket
    addr: str
    deadline: float
    buf: bytearray = field(default_factory=bytearray)


class Gate:
    """Holds connections until their head is complete; ``admit(sock, addr, head)`` runs the rest."""

    def __init__(self, token: str | None, admit: Callable[[socket.socket, str, bytes], bool], *,
                 header_timeout_s: float = HEADER_TIMEOUT_S, per_client: int = PER_CLIENT, max_pending: int = MAX_PENDING,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.token = token
        self.admit = admit
        self.header_timeout_s = header_timeout_s
        self.per_client = per_client
        self.max_pending = max_pending
        self.clock = clock
        self.refusals = RefusalLog(clock=clock)
        self._sel = selectors.DefaultSelector()
        self._pending: dict[int, _Pending] = {}
        self._active: Counter[str] = Counter()  # connections per address: at the gate and in workers
        self._lock = threading.Lock()
        self._incoming: list[tuple[socket.socket, str]] = []
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="responder-gate", daemon=True)
        self._thread.start()

    # -- from the accept loop and the workers ------------------------------------
    def offer(self, sock: socket.socket, addr: str) -> None:
        """A new connection: refused at once if its address holds too many, else watched."""
        with self._lock:
            if self._active[addr] >= self.per_client:
                self.refusals.note("over the per-client connection limit", addr)
                _close(sock)
                return
            if len(self._pending) + len(self._incoming) >= self.max_pending:
                self.refusals.note("too many connections still sending their headers", addr)
                _close(sock)
                return
            self._active[addr] += 1
            self._incoming.append((sock, addr))
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    def release(self, addr: str) -> None:
        """A worker is done with a connection of ``addr``."""
        with self._lock:
            self._active[addr] -= 1
            if self._active[addr] <= 0:
                del self._active[addr]

    def close(self) -> None:
        """Stop watching; close every connection still at the gate (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass
        self._thread.join(5)
        for p in list(self._pending.values()):
            _close(p.sock)
        self._pending.clear()
        self._sel.close()
        self._wake_r.close()
        self._wake_w.close()
        self.refusals.flush(force=True)

    # -- the gate thread ------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._sel.select(0.25):
                if key.fileobj is self._wake_r:
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                    continue
                self._read(self._pending[key.fd])
            self._take_incoming()
            self._expire()
            self.refusals.flush()

    def _take_incoming(self) -> None:
        with self._lock:
            incoming, self._incoming = self._incoming, []
        for sock, addr in incoming:
            sock.setblocking(False)
            p = _Pending(sock, addr, self.clock() + self.header_timeout_s)
            self._pending[sock.fileno()] = p
            self._sel.register(sock, selectors.EVENT_READ)

    def _drop(self, p: _Pending, reply: bytes | None = None, reason: str | None = None) -> None:
        self._sel.unregister(p.sock)
        del self._pending[p.sock.fileno()]
        if reason:
            self.refusals.note(reason, p.addr)
        if reply:
            try:
                p.sock.send(reply)  # small: fits the socket buffer; a client that does not read loses it
            except OSError:
                pass
        _close(p.sock)
        self.release(p.addr)

    def _expire(self) -> None:
        now = self.clock()
        for p in [p for p in self._pending.values() if p.deadline <= now]:
            self._drop(p, reason=f"request headers not complete within {self.header_timeout_s:g} s")

    def _read(self, p: _Pending) -> None:
        try:
            chunk = p.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(p)
            return
        p.buf += chunk
        end = p.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(p.buf) > MAX_HEAD_BYTES:
                self._drop(p, TOO_LARGE, "request headers too large")
            return
        target, auth = head_fields(bytes(p.buf[:end]))
        if not authorised(self.token, target, auth):
            self._drop(p, UNAUTHORISED, "no valid token")
            return
        self._sel.unregister(p.sock)
        del self._pending[p.sock.fileno()]
        p.sock.setblocking(True)
        if not self.admit(p.sock, p.addr, bytes(p.buf)):
            self.refusals.note("all transfer slots busy", p.addr)
            try:
                p.sock.send(BUSY)
            except OSError:
                pass
            _close(p.sock)
            self.release(p.addr)


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
