"""Real servers on loopback for probe tests, each run in a thread.

Why real servers: the probes' error classes (refused, timeout, tls, protocol
…) come from what the kernel and the TLS stack actually do, which mocks would
only guess at. Everything binds to 127.0.0.1 or ::1 on an ephemeral port and
is stopped in ``finally`` (stalled handlers are released by a stop event).

- :func:`http_server` / :func:`https_server`: context managers yielding an
  :class:`HttpServer` whose replies are set per path (``server.routes``) or
  for every other path (``server.default``), see :class:`Reply`.
- :func:`self_signed_cert`: a certificate + key made at test time with a
  known validity (``openssl req -x509``, or ``cryptography`` when installed).
- :func:`tcp_listener`: accepts and closes connections, counting them.
- :func:`blackhole_port`: a listener whose accept queue is full, so further
  SYNs are dropped and connects time out (no packet leaves loopback).
- :func:`closed_port`: a port nothing listens on (connects are refused).
"""

from __future__ import annotations

import http.server
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

STALL_MAX_S = 30.0  # a stalled handler never outlives this, even if nobody stops it
FILL_TIMEOUT_S = 5.0  # loopback handshakes take µs; this only bounds a broken host
_CHUNK = 64 * 1024


@dataclass
class Reply:
    """What the server does for a request.

    ``mode``:
      - ``"ok"``: answer ``status`` with ``headers`` and ``body`` (any status, 5xx too);
      - ``"stall"``: read the request, then answer nothing until the server stops;
      - ``"close"``: read the request, then close without a byte of response;
      - ``"truncate"``: send headers announcing ``len(body) + 1000`` bytes, then
        ``body``, then close;
      - ``"big"``: answer 200 with a ``big_bytes`` body written in 64 KiB chunks,
        counting bytes actually sent (``HttpServer.sent``) until the client goes away.
    """

    mode: str = "ok"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"hello from slaproof test server\n"
    big_bytes: int = 0


@dataclass
class BigSend:
    """Outcome of one ``big`` reply: bytes handed to the kernel and whether all were."""

    sent: int
    completed: bool


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else Nagle + delayed ACK add 40 ms to replies

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass  # keep test output clean

    def _serve(self) -> None:
        srv = self.server.owner
        path = self.path.split("?", 1)[0]
        reply = srv.routes.get(path, srv.default)
        with srv.lock:
            srv.requests.append((self.command, self.path, dict(self.headers.items())))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if reply.mode == "stall":
            srv.stop.wait(STALL_MAX_S)
            self.close_connection = True
            return
        if reply.mode == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.mode == "big":
            self._send_big(reply)
            return
        body = reply.body if self.command != "HEAD" else b""
        self.send_response(reply.status)
        announced = len(reply.body) + (1000 if reply.mode == "truncate" else 0)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if "content-length" not in {k.lower() for k in reply.headers}:
            self.send_header("Content-Length", str(announced))
        if reply.mode == "truncate":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if reply.mode == "truncate":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send_big(self, reply: Reply) -> None:
        srv = self.server.owner
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(reply.big_bytes))
        self.end_headers()
        self.wfile.flush()
        sent = 0
        chunk = b"x" * _CHUNK
        completed = False
        try:
            while sent < reply.big_bytes and not srv.stop.is_set():
                n = min(_CHUNK, reply.big_bytes - sent)
                self.connection.sendall(chunk[:n])
                sent += n
            completed = sent >= reply.big_bytes
        except OSError:
            pass  # the client went away: exactly what the test wants to see
        finally:
            self.close_connection = True
            with srv.lock:
                srv.sent.append(BigSend(sent=sent, completed=completed))
            srv.big_done.set()

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = _serve

    def handle(self) -> None:
        try:
            super().handle()
        except (OSError, ssl.SSLError) as exc:
            # Clients that abort (verify failure, cap reached) are part of the tests.
            with self.server.owner.lock:
                self.server.owner.handler_errors.append(repr(exc))


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HttpServer
    ssl_context: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            # Handshake lazily in the handler thread, never in the accept loop.
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # recorded in handle(); tracebacks would only clutter test output


class _Server6(_Server):
    address_family = socket.AF_INET6


@dataclass
class HttpServer:
    """A running test HTTP(S) server; mutate ``routes``/``default`` to change replies."""

    host: str
    port: int
    scheme: str
    routes: dict[str, Reply] = field(default_factory=dict)
    default: Reply = field(default_factory=Reply)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    sent: list[BigSend] = field(default_factory=list)
    handler_errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    big_done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{path}"


@contextmanager
def http_server(
    host: str = "127.0.0.1", *, ssl_context: ssl.SSLContext | None = None
) -> Iterator[HttpServer]:
    """An HTTP server (HTTPS when ``ssl_context`` is given) on ``host``, ephemeral port."""
    cls = _Server6 if ":" in host else _Server
    srv = cls((host, 0), _Handler)
    srv.ssl_context = ssl_context
    state = HttpServer(host=host, port=srv.server_address[1], scheme="https" if ssl_context else "http")
    srv.owner = state
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class CertFiles:
    """A self-signed certificate for ``common_name`` and its key, with its notAfter."""

    cert: Path
    key: Path
    not_after: datetime


DEFAULT_SAN = ("DNS:localhost", "IP:127.0.0.1", "IP:::1")


def self_signed_cert(
    directory: Path,
    *,
    days: int = 30,
    common_name: str = "slaproof test server",  # not a host name: only the SAN may match
    san: Sequence[str] = DEFAULT_SAN,
) -> CertFiles:
    """Make a self-signed cert valid ``days`` from now for ``san`` (``DNS:…``/``IP:…``)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        return _cert_with_cryptography(cert, key, days, common_name, san)
    except ImportError:
        pass
    if shutil.which("openssl") is None:
        raise RuntimeError("neither the cryptography package nor the openssl binary is available")
    before = datetime.now(UTC).replace(microsecond=0)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", str(days),
            "-subj", f"/CN={common_name}",
            "-addext", "subjectAltName=" + ",".join(san),
        ],
        check=True, capture_output=True, timeout=30,
    )
    out = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-enddate"],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout.strip()
    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(out.split("=", 1)[1]), UTC)
    # Sanity: openssl counts from "now", which is within seconds of `before`.
    assert abs((not_after - before) - timedelta(days=days)) < timedelta(minutes=5)
    return CertFiles(cert=cert, key=key, not_after=not_after)


def _cert_with_cryptography(
    cert: Path, key: Path, days: int, common_name: str, san_entries: Sequence[str]
) -> CertFiles:
    import ipaddress

    from cryptography import x509  # type: ignore[import-not-found]
    from cryptography.hazmat.primitives import hashes, serialization  # type: ignore[import-not-found]
    from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found]
    from cryptography.x509.oid import NameOID  # type: ignore[import-not-found]

    pkey = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC).replace(microsecond=0)
    not_after = now + timedelta(days=days)
    san = x509.SubjectAlternativeName(
        [
            x509.IPAddress(ipaddress.ip_address(e[3:])) if e.startswith("IP:") else x509.DNSName(e[4:])
            for e in san_entries
        ]
    )
    crt = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(pkey.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(not_after)
        .add_extension(san, critical=False)
        .sign(pkey, hashes.SHA256())
    )
    cert.write_bytes(crt.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        pkey.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return CertFiles(cert=cert, key=key, not_after=not_after)


def server_ssl_context(certs: CertFiles) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(certs.cert), str(certs.key))
    return ctx


@contextmanager
def https_server(
    host: str = "127.0.0.1",
    *,
    days: int = 30,
    san: Sequence[str] = DEFAULT_SAN,
    directory: Path | None = None,
) -> Iterator[tuple[HttpServer, CertFiles]]:
    """An HTTPS server with a fresh self-signed cert valid ``days``; yields (server, certs)."""
    tmp = None
    if directory is None:
        tmp = tempfile.TemporaryDirectory(prefix="slaproof-cert-")
        directory = Path(tmp.name)
    try:
        certs = self_signed_cert(directory, days=days, san=san)
        with http_server(host, ssl_context=server_ssl_context(certs)) as srv:
            yield srv, certs
    finally:
        if tmp is not None:
            tmp.cleanup()


@dataclass
class TcpListener:
    """A running listener; ``accepted`` counts connections, :meth:`wait_accepted` awaits them."""

    host: str
    port: int
    accepted: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def wait_accepted(self, n: int, timeout_s: float = 5.0) -> bool:
        """Block until ``n`` connections were accepted (True) or ``timeout_s`` passed (False)."""
        with self.changed:
            return self.changed.wait_for(lambda: self.accepted >= n, timeout_s)


@contextmanager
def tcp_listener(host: str = "127.0.0.1") -> Iterator[TcpListener]:
    """A TCP listener that accepts every connection and closes it, counting them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(16)
    sock.settimeout(0.05)  # how often the accept loop looks at the stop flag
    state = TcpListener(host=host, port=sock.getsockname()[1])
    stop = threading.Event()

    def loop() -> None:
        deadline = time.monotonic() + 300  # a forgotten listener thread still ends
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.close()
            with state.changed:
                state.accepted += 1
                state.changed.notify_all()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


@contextmanager
def blackhole_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A port whose listener never accepts and whose accept queue is full.

    Linux drops a SYN to a listener with a full accept queue, so the client
    retransmits and a connect times out: a real "no answer" on loopback.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        lsock.bind((host, 0))
        lsock.listen(0)
        port = lsock.getsockname()[1]
        for _ in range(2):  # backlog 0 holds one; the second makes sure it is full
            c = socket.socket(family, socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect_ex((host, port))
            fillers.append(c)
        # The first filler's handshake done = it sits in the accept queue, which is now full.
        _, writable, _ = select.select([], fillers[:1], [], FILL_TIMEOUT_S)
        if not writable or fillers[0].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            raise RuntimeError(f"blackhole_port: the filler connection did not complete in {FILL_TIMEOUT_S} s")
        yield port
    finally:
        for c in fillers:
            c.close()
        lsock.close()


def closed_port(host: str = "127.0.0.1") -> int:
    """A port with no listener: bind an ephemeral port, then close it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_loopback_available() -> bool:
    """Whether ::1 can be bound here (containers sometimes disable IPv6)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


__all__ = [
    "BigSend",
    "CertFiles",
    "HttpServer",
    "Reply",
    "TcpListener",
    "blackhole_port",
    "closed_port",
    "http_server",
    "https_server",
    "ipv6_loopback_available",
    "self_signed_cert",
    "server_ssl_context",
    "tcp_listener",
]
