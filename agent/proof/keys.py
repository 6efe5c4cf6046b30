"""The agent's Ed25519 key: a PEM file (mode 0600) beside the database, and its epochs in the store.

The private key never leaves its file: not in a row, a report, a log or an
export. The store keeps each key's public half as a *key epoch*. Losing the
file is survivable but never silent: ``slaproof key new`` starts the next epoch,
and every report over that time says the key changed and why.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key

from agent.core.errors import ConfigError, UsageError
from agent.core.times import iso
from agent.proof.checkpoint import origin_of
from agent.proof.note import Note, NoteSigner, VerifierKey
from agent.store.proof import KeyEpoch, ProofRecords

KEY_FILENAME = "agent.key"
PRIVATE_MODE = 0o600
ANNOUNCEMENT_HEADER = "slaproof key announcement\n"


class KeyMissingError(ConfigError):
    """The key file does not exist (the first start creates it; later, it is an error)."""


def load_key_file(path: Path) -> Ed25519PrivateKey:
    """Read the private key; every failure names the file and the fix (exit 2)."""
    try:
        st = path.stat()
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyMissingError(f"the agent key {path} does not exist") from None
    except PermissionError:
        raise ConfigError(f"cannot read the agent key {path}: permission denied; run slaproof as the user that owns it "
                          f"(the agent's service user), or give that user the file: chown USER {path}; chmod 600 {path}") from None
    except OSError as e:
        raise ConfigError(f"cannot read the agent key {path}: {e.strerror}") from None
    if st.st_mode & 0o077:
        raise ConfigError(f"the agent key {path} can be read by other users (mode {stat.S_IMODE(st.st_mode):o}); "
                          f"make it private: chmod 600 {path}")
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an unencrypted Ed25519 private key (PEM); restore the agent key from a backup, "
                          "or start a new key epoch with 'slaproof key new --reason TEXT' (reports will say the key changed)")
    return key


def create_key_file(path: Path) -> Ed25519PrivateKey:
    """A new key, written 0600 under a temporary name and linked into place: never over an existing file."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)
    except FileExistsError:
        raise ConfigError(f"the agent key {path} appeared while a new one was being made; start again") from None
    except OSError as e:
        raise ConfigError(f"cannot write the agent key {path}: {e.strerror}; set agent.checkpoints.key_file "
                          "(or agent.state_dir) to a writable place") from None
    finally:
        try:
            tmp.unlink()
        except OSError:
            pass
    return key


@dataclass(frozen=True, slots=True)
class AgentKey:
    signer: NoteSigner
    epoch: KeyEpoch
    path: Path

    @property
    def verifier(self) -> VerifierKey:
        return self.signer.verifier


def _announcement(agent_uuid: str, epoch: int, vkey: str, now_us: int, reason: str, signers: list[NoteSigner]) -> str:
    one_line = " ".join(reason.split()) or "-"
    text = f"{ANNOUNCEMENT_HEADER}{origin_of(agent_uuid)}\nepoch {epoch}\nkey {vkey}\ntime {iso(now_us)}\nreason {one_line}\n"
    return Note(text, tuple(s.sign(text) for s in signers)).encode()


def _fix_hint(path: Path) -> str:
    return (f"restore {path} from a backup, or start a new key epoch with 'slaproof key new --reason TEXT' "
            "(reports will say the key changed and why)")


def open_agent_key(records: ProofRecords, agent_id: int, agent_uuid: str, path: Path, now_us: int, *, create: bool = True) -> AgentKey:
    """The agent's key, checked against the store's current epoch; the first start makes both."""
    epochs = records.key_epochs(agent_id)
    try:
        private = load_key_file(path)
    except KeyMissingError:
        if epochs:
            cur = epochs[-1]
            raise ConfigError(f"the agent key {path} is missing, but the database holds key epoch {cur.epoch} "
                              f"(fingerprint {cur.fingerprint}) for this agent: {_fix_hint(path)}") from None
        if not create:
            raise
        private = create_key_file(path)
    signer = NoteSigner(origin_of(agent_uuid), private)
    vkey = signer.verifier.encode()
    if not epochs:
        ep = records.add_key_epoch(agent_id, 1, vkey, signer.verifier.fingerprint, now_us, "first key",
                                   _announcement(agent_uuid, 1, vkey, now_us, "first key", [signer]))
        return AgentKey(signer, ep, path)
    cur = epochs[-1]
    if cur.vkey != vkey:
        raise ConfigError(f"the key in {path} (fingerprint {signer.verifier.fingerprint}) is not this agent's current key "
                          f"(epoch {cur.epoch}, fingerprint {cur.fingerprint}): {_fix_hint(path)}")
    return AgentKey(signer, cur, path)


def start_new_epoch(records: ProofRecords, agent_id: int, agent_uuid: str, path: Path, now_us: int, reason: str,
                    *, force: bool = False) -> tuple[AgentKey, bool]:
    """Make a new key and epoch. Returns (key, vouched): vouched when the old key was at hand and signed the announcement.

    The old file, if any, is kept beside the new one (renamed), never deleted."""
    epochs = records.key_epochs(agent_id)
    old: NoteSigner | None = None
    try:
        old = NoteSigner(origin_of(agent_uuid), load_key_file(path))
    except ConfigError:
        old = None
    if old is not None and epochs and epochs[-1].vkey == old.verifier.encode() and not force:
        raise UsageError(f"the agent key {path} is present and matches key epoch {epochs[-1].epoch}: nothing to replace. "
                         "A new epoch weakens the evidence (reports will mention it); pass --force to rotate anyway")
    if path.exists():
        path.rename(path.with_name(f"{path.name}.replaced-{iso(now_us).replace(':', '')}"))
    private = create_key_file(path)
    signer = NoteSigner(origin_of(agent_uuid), private)
    epoch = (epochs[-1].epoch if epochs else 0) + 1
    vouched = old is not None and bool(epochs) and epochs[-1].vkey == old.verifier.encode()
    signers = [signer, old] if vouched and old is not None else [signer]
    vkey = signer.verifier.encode()
    ep = records.add_key_epoch(agent_id, epoch, vkey, signer.verifier.fingerprint, now_us, reason,
                               _announcement(agent_uuid, epoch, vkey, now_us, reason, signers))
    return AgentKey(signer, ep, path), vouched
