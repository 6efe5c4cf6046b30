"""`slaproof verify`, second half: the signed checkpoints and their timestamps against the database.

The chain walk (agent/store/verify.py) proves every row links to the one
before it; that alone cannot see a cut tail or a chain rewritten with fresh
hashes. Each checkpoint's signed size and head must name a row the database
still holds at that position, with that hash; each token must be a valid
authority's signature over its checkpoint's exact text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509

from agent.core.times import iso
from agent.proof.checkpoint import Checkpoint, origin_of
from agent.proof.note import NoteError, VerifierKey, parse_note, verify
from agent.proof.tsa import TsaError, verify_token
from agent.store import Store, chain
from agent.store.proof import CheckpointRow, ProofRecords


@dataclass(frozen=True, slots=True)
class Signed:
    row: CheckpointRow
    cp: Checkpoint


@dataclass
class Findings:
    """What a check found: every failure is a line, and any failure makes the whole check fail."""

    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def fail(self, line: str) -> None:
        self.ok = False
        self.lines.append(line)

    def say(self, line: str) -> None:
        self.lines.append(line)


def _signed(f: Findings, uuid: str, rows: Sequence[CheckpointRow], keys: dict[int, VerifierKey]) -> list[Signed]:
    good: list[Signed] = []
    for row in rows:
        where = f"agent {uuid}: checkpoint #{row.id} (written {iso(row.ts_us)})"
        key = keys.get(row.epoch)
        if key is None:
            f.fail(f"{where}: signed with key epoch {row.epoch}, which the database does not list")
            continue
        try:
            note = parse_note(row.note)
            cp = Checkpoint.parse(note.text)
        except NoteError as e:
            f.fail(f"{where}: not a valid signed checkpoint ({e})")
            continue
        if not verify(note, key):
            f.fail(f"{where}: its signature does not verify with key epoch {row.epoch} (fingerprint {key.fingerprint}): "
                   "the checkpoint's text was altered after it was signed")
            continue
        if cp.origin != origin_of(uuid) or cp.epoch != row.epoch:
            f.fail(f"{where}: signed for {cp.origin} epoch {cp.epoch}, stored for this agent's epoch {row.epoch}")
            continue
        good.append(Signed(row, cp))
    return sorted(good, key=lambda s: (s.cp.size, s.row.id))


def _positions(f: Findings, store: Store, records: ProofRecords, uuid: str, agent_id: int, signed: list[Signed]) -> None:
    """Each signed (size, head) must be the database's row at that position, with that hash."""
    counted, prev_id = 0, None
    for s in signed:
        cp, row = s.cp, s.row
        where = f"agent {uuid}: checkpoint #{row.id} signed {iso(cp.time_us)} names {cp.size} rows"
        if cp.size == 0:
            if cp.head != chain.genesis(uuid):
                f.fail(f"{where} but its hash is not the chain's start")
            continue
        rid = row.head_row_id
        held = store.row_hash(rid) if rid is not None else None
        if rid is None or held is None:
            head_id, _ = store.chain_head(agent_id)
            have = records.count_chain_rows(agent_id, None, head_id) if head_id is not None else 0
            f.fail(f"{where} ending at row {rid}; that row is gone and the database's chain has {have} rows: "
                   "rows were removed (from the end of the chain if the count is short)")
            continue
        if held != cp.head:
            f.fail(f"{where} ending in hash {cp.head.hex()[:16]}…; the database's row {rid} has hash {held.hex()[:16]}…: "
                   "the chain was rewritten at or before that row (every hash recomputed)")
            continue
        if prev_id is not None and rid < prev_id:
            f.fail(f"{where}: its last row {rid} comes before an earlier checkpoint's ({prev_id})")
            continue
        counted += records.count_chain_rows(agent_id, prev_id, rid)
        prev_id = rid
        if counted != cp.size:
            f.fail(f"{where} up to row {rid}; the database holds {counted}: rows were deleted or inserted before it")
            counted = cp.size  # judge later checkpoints on their own span


def _tokens(f: Findings, records: ProofRecords, uuid: str, agent_id: int, by_id: dict[int, Signed],
            roots: list[x509.Certificate] | None) -> int:
    toks = records.timestamps(agent_id)
    if toks and roots is None:
        f.fail(f"agent {uuid}: {len(toks)} timestamps cannot be checked: no trusted roots (set agent.timestamp.ca_file)")
        return 0
    good = 0
    for t in toks:
        s = by_id.get(t.checkpoint_id)
        where = f"agent {uuid}: timestamp #{t.id} from {t.tsa_url} on checkpoint #{t.checkpoint_id}"
        if s is None:
            f.fail(f"{where}: its checkpoint is missing or invalid")
            continue
        try:
            verify_token(t.token, s.row.note.encode("utf-8"), roots or [])
        except TsaError as e:
            f.fail(f"{where}: {e}")
            continue
        good += 1
    return good


def verify_agent(store: Store, uuid: str, roots: list[x509.Certificate] | None) -> tuple[bool, list[str]]:
    records = ProofRecords(store)
    f = Findings()
    agent_id = records.agent_id(uuid)
    if agent_id is None:
        return True, []
    rows = records.checkpoints(agent_id)
    if not rows:
        f.say(f"agent {uuid}: no signed checkpoints: the chain above is checked only against itself")
        return f.ok, f.lines
    keys: dict[int, VerifierKey] = {}
    for e in records.key_epochs(agent_id):
        try:
            keys[e.epoch] = VerifierKey.parse(e.vkey)
        except NoteError as err:
            f.fail(f"agent {uuid}: key epoch {e.epoch} is not a valid key ({err})")
    signed = _signed(f, uuid, rows, keys)
    _positions(f, store, records, uuid, agent_id, signed)
    stamped = _tokens(f, records, uuid, agent_id, {s.row.id: s for s in signed}, roots)
    if f.ok:
        newest = signed[-1].cp
        epochs = ", ".join(f"epoch {n} fingerprint {k.fingerprint}" for n, k in sorted(keys.items()))
        f.say(f"agent {uuid}: {len(signed)} signed checkpoints match the chain (newest: {newest.size} rows, signed {iso(newest.time_us)}); "
              f"{stamped} timestamps valid; keys: {epochs}")
    return f.ok, f.lines


def verify_proofs(store: Store, roots: list[x509.Certificate] | None) -> tuple[bool, list[str]]:
    ok, lines = True, []
    for uuid in store.agent_uuids():
        good, more = verify_agent(store, uuid, roots)
        ok &= good
        lines += more
    return ok, lines
