"""Signed notes (c2sp.org/signed-note): text, a blank line, then one signature line per key.

Chosen over a home-made format because transparency logs (Certificate
Transparency, the Go checksum database, Sigstore) use it for their checkpoints:
it is specified, short enough to read by eye, and checkable with a few lines of
any language. Two signature types are used here:

* ``0x01`` Ed25519 over the note text: the agent's own signature.
* ``0x04`` timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature): a
  witness's statement that, at its time, this was the largest checkpoint it had
  seen from this origin.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIG_ED25519 = 0x01
SIG_COSIGNATURE = 0x04
DASH = "\u2014"  # em dash: the first character of every signature line
ED25519_PUBLIC_BYTES = 32
ED25519_SIGNATURE_BYTES = 64
COSIGNATURE_HEADER = "cosignature/v1\n"
MAX_SIGNATURES = 16  # the spec's minimum a verifier must accept; more is refused as malformed


class NoteError(ValueError):
    """A note, a signature line or a verifier key that does not follow the format."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise NoteError(f"not base64: {text[:40]!r}") from None


def key_id(name: str, sig_type: int, public: bytes) -> bytes:
    """SHA-256(name || 0x0A || type || public key)[:4], as the spec recommends."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A public key with its name and type: the 'vkey' string ``name+keyid+base64(type||key)``."""

    name: str
    sig_type: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the 32 raw public-key bytes, hex: what `sha256sum` prints for them."""
        return hashlib.sha256(self.public).hexdigest()

    def encode(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([self.sig_type]) + self.public)}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # base64 may hold "+" too
        if len(parts) != 3:
            raise NoteError(f"verifier key {text.strip()[:60]!r}: expected name+keyid+base64key")
        name, kid, blob = parts
        raw = unb64(blob)
        if len(raw) != 1 + ED25519_PUBLIC_BYTES or raw[0] not in (SIG_ED25519, SIG_COSIGNATURE):
            raise NoteError(f"verifier key {name!r}: not an Ed25519 key of type 0x01 or 0x04")
        key = cls(_check_name(name), raw[0], raw[1:])
        if key.key_id.hex() != kid.lower():
            raise NoteError(f"verifier key {name!r}: key id {kid} does not match the key")
        return key

    def ed25519(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public)


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    key_id: bytes
    data: bytes  # what follows the key id: the signature (0x01) or timestamp || signature (0x04)

    def line(self) -> str:
        return f"{DASH} {self.name} {b64(self.key_id + self.data)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    text: str  # ends with a newline; what the signatures cover
    signatures: tuple[Signature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signature(self, sig: Signature) -> Note:
        if any(s.key_id == sig.key_id and s.name == sig.name for s in self.signatures):
            return self
        return Note(self.text, (*self.signatures, sig))

    def signature_by(self, key: VerifierKey) -> Signature | None:
        """The signature line of this key (same name and key id), if any: others are ignored."""
        return next((s for s in self.signatures if s.name == key.name and s.key_id == key.key_id), None)


def check_text(text: str) -> str:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text must not contain control characters other than newline")
    return text


def parse_note(data: str) -> Note:
    """Split a signed note into its text and signature lines (no signature is checked here)."""
    if not data.endswith("\n"):
        raise NoteError("a signed note ends with a newline")
    cut = data.rfind("\n\n")
    if cut < 0:
        raise NoteError("no blank line between the note text and its signatures")
    text = check_text(data[: cut + 1])
    sigs: list[Signature] = []
    for line in data[cut + 2:].splitlines():
        if not line.startswith(DASH + " "):
            raise NoteError(f"signature line {line[:40]!r} does not start with '{DASH} '")
        try:
            name, blob = line[2:].split(" ")
        except ValueError:
            raise NoteError(f"signature line {line[:40]!r}: expected '{DASH} name signature'") from None
        raw = unb64(blob)
        if len(raw) < 5:
            raise NoteError(f"signature of {name!r} is too short")
        sigs.append(Signature(_check_name(name), raw[:4], raw[4:]))
    if not sigs or len(sigs) > MAX_SIGNATURES:
        raise NoteError(f"a note needs 1 to {MAX_SIGNATURES} signatures (found {len(sigs)})")
    return Note(text, tuple(sigs))


class NoteSigner:
    """Signs note texts with an Ed25519 key under a name (type 0x01)."""

    def __init__(self, name: str, private: Ed25519PrivateKey, sig_type: int = SIG_ED25519) -> None:
        self.name = _check_name(name)
        self.private = private
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = VerifierKey(name, sig_type, raw)

    def sign(self, text: str) -> Signature:
        check_text(text)
        return Signature(self.name, self.verifier.key_id, self.private.sign(text.encode("utf-8")))

    def cosign(self, text: str, timestamp: int) -> Signature:
        """A tlog-cosignature/v1 over a checkpoint's text at ``timestamp`` (POSIX seconds)."""
        check_text(text)
        msg = f"{COSIGNATURE_HEADER}time {timestamp}\n{text}".encode()
        return Signature(self.name, self.verifier.key_id, struct.pack(">Q", timestamp) + self.private.sign(msg))


def sign_note(text: str, signer: NoteSigner) -> Note:
    return Note(check_text(text), (signer.sign(text),))


def verify(note: Note, key: VerifierKey) -> bool:
    """True if the note carries a valid type-0x01 signature of ``key``; False if it carries
    one that does not verify or none at all."""
    sig = note.signature_by(key)
    if sig is None or key.sig_type != SIG_ED25519 or len(sig.data) != ED25519_SIGNATURE_BYTES:
        return False
    try:
        key.ed25519().verify(sig.data, note.text.encode("utf-8"))
    except InvalidSignature:
        return False
    return True


def verify_cosignature(note: Note, key: VerifierKey) -> int | None:
    """The cosignature's POSIX time if ``key`` cosigned the note validly, else None."""
    sig = note.signature_by(key)
    if sig is None or key.sig_type != SIG_COSIGNATURE or len(sig.data) != 8 + ED25519_SIGNATURE_BYTES:
        return None
    (ts,) = struct.unpack(">Q", sig.data[:8])
    msg = f"{COSIGNATURE_HEADER}time {ts}\n{note.text}".encode()
    try:
        key.ed25519().verify(sig.data[8:], msg)
    except InvalidSignature:
        return None
    return int(ts)
