"""`slaproof serve --witness`: countersign an agent's checkpoints with a second, independent key.

Run by another party (the provider on the rented machine, a second agent, a
colleague), a witness makes a rewritten or forked history visible: it keeps
the largest checkpoint it has seen per agent and refuses a smaller one or an
equal-sized one with another hash, so the agent cannot show two histories.
Its answer is a c2sp.org/tlog-cosignature/v1 line the agent appends to the
checkpoint: "at this time, this was the largest checkpoint I had seen".
It cannot check that a larger checkpoint extends a smaller one (the chain is
not a Merkle tree; docs/checkpoints.md), only that none goes back.

POST /checkpoint  body: the agent's signed checkpoint → 200 and the cosignature line
GET  /key         the witness's verifier key (for agent.checkpoints.witnesses[].key)
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from agent.proof.checkpoint import Checkpoint
from agent.proof.keys import KeyMissingError, create_key_file, load_key_file
from agent.proof.note import SIG_COSIGNATURE, NoteError, NoteSigner, VerifierKey, b64, parse_note, verify
from agent.serve.responder import parse_listen

log = logging.getLogger(__name__)

MAX_NOTE_BYTES = 64 * 1024
DEFAULT_WITNESS_LISTEN = "127.0.0.1:8089"


class WitnessState:
    """The largest checkpoint seen per origin, kept in a JSON file (written whole, then renamed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        try:
            self.seen: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.seen = {}

    def accept(self, cp: Checkpoint) -> str | None:
        """None if ``cp`` is consistent with what was seen (and remember it), else why not."""
        with self.lock:
            last = self.seen.get(cp.origin)
            if last is not None:
                if cp.size < last["size"]:
                    return f"size {cp.size} is smaller than the {last['size']} already seen: a truncated or forked chain"
                if cp.size == last["size"] and b64(cp.head) != last["head"]:
                    return f"size {cp.size} was already seen with another hash: a forked or rewritten chain"
            self.seen[cp.origin] = {"size": cp.size, "head": b64(cp.head), "time": int(time.time())}
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.seen, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)
            return None


def witness_signer(key_path: Path, name: str) -> NoteSigner:
    try:
        private = load_key_file(key_path)
    except KeyMissingError:
        private = create_key_file(key_path)
    return NoteSigner(name, private, SIG_COSIGNATURE)


class _Handler(BaseHTTPRequestHandler):
    server: WitnessServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        log.debug("%s %s", self.address_string(), format % args)

    def _reply(self, status: HTTPStatus, text: str) -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/key":
            self._reply(HTTPStatus.OK, self.server.signer.verifier.encode() + "\n")
        else:
            self._reply(HTTPStatus.NOT_FOUND, "GET /key or POST /checkpoint\n")

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        if self.path != "/checkpoint" or not length.isdigit() or int(length) > MAX_NOTE_BYTES:
            self.close_connection = True
            self._reply(HTTPStatus.BAD_REQUEST, f"POST /checkpoint with a signed checkpoint of at most {MAX_NOTE_BYTES} bytes\n")
            return
        status, text = self.server.cosign(self.rfile.read(int(length)))
        self._reply(status, text)


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, listen: str, signer: NoteSigner, trusted: Sequence[VerifierKey], state: WitnessState) -> None:
        self.signer = signer
        self.trusted = list(trusted)
        self.state = state
        self._thread: threading.Thread | None = None
        super().__init__(parse_listen(listen), _Handler)

    def cosign(self, body: bytes) -> tuple[HTTPStatus, str]:
        try:
            note = parse_note(body.decode("utf-8"))
            cp = Checkpoint.parse(note.text)
        except (NoteError, UnicodeDecodeError) as e:
            return HTTPStatus.BAD_REQUEST, f"not a slaproof checkpoint: {e}\n"
        if not any(k.name == cp.origin and verify(note, k) for k in self.trusted):
            return HTTPStatus.FORBIDDEN, f"no trusted key of {cp.origin} signed this checkpoint (start the witness with --trust KEY)\n"
        why = self.state.accept(cp)
        if why is not None:
            log.warning("refused a checkpoint of %s: %s", cp.origin, why)
            return HTTPStatus.CONFLICT, why + "\n"
        return HTTPStatus.OK, self.signer.cosign(note.text, int(time.time())).line()

    @property
    def url(self) -> str:
        host, port = (str(x) for x in self.server_address[:2])
        return f"http://{host}:{port}"

    def start(self) -> WitnessServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, name="witness", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(5)
            self._thread = None
        self.server_close()


def make_witness(listen: str, key_path: Path, trusted: Sequence[str], state_path: Path, name: str) -> WitnessServer:
    """A witness already serving in a background thread; ValueError naming a bad --trust key."""
    keys = []
    for t in trusted:
        try:
            keys.append(VerifierKey.parse(t))
        except NoteError as e:
            raise ValueError(f"--trust {t[:60]!r}: {e}; use the 'verifier key' line of `slaproof key show`") from None
    return WitnessServer(listen, witness_signer(key_path, name), keys, WitnessState(state_path)).start()
