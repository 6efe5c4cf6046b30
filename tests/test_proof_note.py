"""Signed notes, verifier keys, cosignatures and the checkpoint text: the formats a third party re-implements."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from agent.proof.checkpoint import Checkpoint, ClockState, origin_of
from agent.proof.note import (
    SIG_COSIGNATURE,
    NoteError,
    NoteSigner,
    VerifierKey,
    parse_note,
    sign_note,
    verify,
    verify_cosignature,
)

UUID = "6f1c1f3e-0000-4000-8000-000000000001"


def test_a_note_verifies_and_any_changed_byte_does_not() -> None:
    signer = NoteSigner(origin_of(UUID), Ed25519PrivateKey.generate())
    text = Checkpoint(origin_of(UUID), 42, bytes(range(32)), 1_800_000_000_000_000, 1, ClockState(True, 12, 3)).text()
    encoded = sign_note(text, signer).encode()
    note = parse_note(encoded)
    assert note.text == text and verify(note, signer.verifier)
    # The signature line is the spec's: em dash, name, base64(4-byte key id || 64-byte signature).
    line = encoded.splitlines()[-1]
    assert line.startswith("\u2014 " + origin_of(UUID) + " ")
    raw = base64.b64decode(line.split(" ")[2])
    assert raw[:4] == hashlib.sha256(origin_of(UUID).encode() + b"\n\x01" + signer.verifier.public).digest()[:4]
    assert len(raw) == 68
    tampered = parse_note(encoded.replace("\n42\n", "\n43\n"))
    assert not verify(tampered, signer.verifier)
    other = NoteSigner(origin_of(UUID), Ed25519PrivateKey.generate())
    assert not verify(note, other.verifier)  # a key that did not sign: no signature of it, not valid


def test_verifier_keys_round_trip_and_bad_ones_are_named() -> None:
    signer = NoteSigner("slaproof.witness/host-a", Ed25519PrivateKey.generate(), SIG_COSIGNATURE)
    vk = VerifierKey.parse(signer.verifier.encode())
    assert vk == signer.verifier and vk.fingerprint == hashlib.sha256(vk.public).hexdigest()
    name, _kid, blob = signer.verifier.encode().split("+", 2)
    with pytest.raises(NoteError, match="key id"):
        VerifierKey.parse(f"{name}+00000000+{blob}")
    with pytest.raises(NoteError, match="name\\+keyid"):
        VerifierKey.parse("just-a-name")


def test_cosignature_is_tlog_cosignature_v1() -> None:
    agent = NoteSigner(origin_of(UUID), Ed25519PrivateKey.generate())
    witness = NoteSigner("slaproof.witness/w1", Ed25519PrivateKey.generate(), SIG_COSIGNATURE)
    text = Checkpoint(origin_of(UUID), 7, bytes(32), 1_800_000_000_000_000, 1, ClockState(None)).text()
    note = sign_note(text, agent)
    cos = witness.cosign(text, 1_800_000_123)
    both = parse_note(note.with_signature(cos).encode())
    assert verify(both, agent.verifier) and verify_cosignature(both, witness.verifier) == 1_800_000_123
    # The signed message is "cosignature/v1\ntime <t>\n" + the checkpoint text.
    witness.verifier.ed25519().verify(cos.data[8:], f"cosignature/v1\ntime 1800000123\n{text}".encode())
    forged = parse_note(note.with_signature(witness.cosign(text.replace("\n7\n", "\n8\n"), 1_800_000_123)).encode())
    assert verify_cosignature(forged, witness.verifier) is None


@pytest.mark.parametrize("bad", ["no signature\n", "text\n\nnot a signature line\n", "text\n\n\u2014 name !!!\n", "text"])
def test_malformed_notes_are_refused(bad: str) -> None:
    with pytest.raises(NoteError):
        parse_note(bad)


@given(size=st.integers(0, 2**62), head=st.binary(min_size=32, max_size=32), t=st.integers(0, 4_000_000_000_000_000),
       epoch=st.integers(1, 10_000), synced=st.sampled_from([None, True, False]),
       err=st.integers(0, 16_000_000))
def test_checkpoint_text_round_trips(size: int, head: bytes, t: int, epoch: int, synced: bool | None, err: int) -> None:
    clock = ClockState(synced) if synced is None else ClockState(synced, err, err // 2)
    cp = Checkpoint(origin_of(UUID), size, head, t, epoch, clock)
    assert Checkpoint.parse(cp.text()) == cp
    assert cp.text().count("\n") == 6 and cp.text().startswith(f"{origin_of(UUID)}\n{size}\n")


def test_checkpoint_parse_names_what_is_wrong() -> None:
    good = Checkpoint(origin_of(UUID), 1, bytes(32), 0, 1, ClockState(None)).text()
    with pytest.raises(NoteError, match="origin"):
        Checkpoint.parse(good.replace("slaproof.agent/", "example.com/"))
    with pytest.raises(NoteError, match="size"):
        Checkpoint.parse(good.replace("\n1\n", "\n01\n", 1))
    with pytest.raises(NoteError, match="six lines"):
        Checkpoint.parse(good + "extra\n")
