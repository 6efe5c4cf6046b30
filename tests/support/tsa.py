"""A real RFC 3161 Time-Stamp Authority on loopback: `openssl ts -reply` behind a small HTTP handler.

Why real: the agent's client and verifier, and a third party's `openssl ts
-verify`, must agree on tokens an independent implementation made. The test CA
(root → TSA certificate with the critical timeStamping purpose) is made with
``cryptography`` at test time; each request is answered by running
``openssl ts -reply`` on it. :meth:`LocalTsa.down` closes the listening socket
(connections are refused), :meth:`LocalTsa.up` binds the same port again.
"""

from __future__ import annotations

import http.server
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TSA_CONF = """\
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1
other_policies = 1.3.6.1.4.1.55555.2
digests = sha256, sha384, sha512
accuracy = secs:1
clock_precision_digits = 0
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass(frozen=True)
class TsaFiles:
    dir: Path
    ca_pem: Path  # the root a verifier trusts
    tsa_pem: Path  # the TSA's own certificate (also embedded in each token)
    tsa_key: Path
    conf: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "slaproof tests"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_tsa_files(folder: Path, label: str = "Test") -> TsaFiles:
    """A root CA and a TSA certificate it issued (EC P-256, valid from a day ago for ten years)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name(f"{label} Root CA")).issuer_name(_name(f"{label} Root CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (x509.CertificateBuilder().subject_name(_name(f"{label} TSA")).issuer_name(ca.subject)
           .public_key(tsa_key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(now).not_valid_after(now + timedelta(days=3650))
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
           .sign(ca_key, hashes.SHA256()))
    files = TsaFiles(folder, folder / "ca.pem", folder / "tsa.pem", folder / "tsa.key", folder / "tsa.cnf")
    files.ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.tsa_pem.write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
    files.tsa_key.write_bytes(tsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    (folder / "serial").write_text("01\n")
    files.conf.write_text(TSA_CONF.format(dir=folder))
    return files


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _TsaServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        tsa = self.server.tsa
        with tsa.lock:  # openssl ts -reply keeps a serial file: one reply at a time
            tsa.requests += 1
            q = tsa.files.dir / "q.tsq"
            r = tsa.files.dir / "r.tsr"
            q.write_bytes(body)
            p = subprocess.run(["openssl", "ts", "-reply", "-config", str(tsa.files.conf), "-queryfile", str(q), "-out", str(r)],
                               capture_output=True, timeout=30)
            reply = r.read_bytes() if p.returncode == 0 else b""
        if not reply:
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


class _TsaServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, tsa: LocalTsa) -> None:
        self.tsa = tsa
        super().__init__(("127.0.0.1", port), _Handler)


class LocalTsa:
    def __init__(self, files: TsaFiles) -> None:
        self.files = files
        self.lock = threading.Lock()
        self.requests = 0
        self.port = 0
        self._server: _TsaServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsa"

    def up(self) -> None:
        if self._server is not None:
            return
        self._server = _TsaServer(self.port, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def down(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None


@contextmanager
def local_tsa(folder: Path | None = None, label: str = "Test") -> Iterator[LocalTsa]:
    with tempfile.TemporaryDirectory(prefix="slaproof-tsa-") as tmp:
        tsa = LocalTsa(make_tsa_files(folder or Path(tmp), label))
        tsa.up()
        try:
            yield tsa
        finally:
            tsa.down()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def openssl_verify(token: Path, data: Path, ca: Path) -> subprocess.CompletedProcess[str]:
    """What a third party runs: `openssl ts -verify -in TOKEN -data FILE -CAfile ROOT`."""
    return subprocess.run(["openssl", "ts", "-verify", "-in", str(token), "-data", str(data), "-CAfile", str(ca)],
                          capture_output=True, text=True, timeout=30)
