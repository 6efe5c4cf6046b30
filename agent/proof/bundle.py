"""The proof files of a report bundle: enough to check measurements.csv with no database and no config.

``proof/`` holds the agent's public key(s), a signed checkpoint before the
period's first row (or none: the chain's start) and one at or after its last
row, the signed checkpoints in between that carry RFC 3161 tokens, the tokens,
the TSA root certificates the agent trusted, and ``chain.jsonl``: the canonical
content of every chain row from the first checkpoint to the second, one per
line, so that SHA-256(previous hash || line) recomputed line by line must end
in the second checkpoint's signed hash. ``proof.json`` indexes it all;
``statement.json`` is the period's :class:`ProofStatement`. docs/verify.md
shows the same checks done with openssl and a short script.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from rfc3161_client import decode_timestamp_response

from agent.config import Settings
from agent.core.errors import ConfigError
from agent.core.times import iso
from agent.proof.checkpoint import Checkpoint, origin_of
from agent.proof.clock import read_kernel_clock
from agent.proof.keys import open_agent_key
from agent.proof.note import NoteError, VerifierKey, parse_note
from agent.proof.service import key_path, make_checkpoint
from agent.proof.statement import build_statement
from agent.proof.tsa import load_roots
from agent.store import Store, chain
from agent.store.proof import CheckpointRow, ProofRecords, TokenRow

log = logging.getLogger(__name__)

PROOF_DIR = "proof"
SCHEMA = "slaproof.proof/1"


@dataclass(frozen=True, slots=True)
class _Signed:
    row: CheckpointRow
    cp: Checkpoint


def _valid(rows: Sequence[CheckpointRow]) -> list[_Signed]:
    out = []
    for r in rows:
        try:
            out.append(_Signed(r, Checkpoint.parse(parse_note(r.note).text)))
        except NoteError:
            continue
    return sorted(out, key=lambda s: (s.cp.size, s.row.id))


def _sign_now(settings: Settings, store: Store, records: ProofRecords, agent_id: int, agent_uuid: str, now_us: int) -> bool:
    """A checkpoint made by the report itself when none covers the period's end yet (needs the key file)."""
    if not records.key_epochs(agent_id):
        return False  # this agent never signed: nothing to continue
    try:
        key = open_agent_key(records, agent_id, agent_uuid, key_path(settings), now_us, create=False)
    except ConfigError as e:
        log.warning("no checkpoint covers the end of the period and the agent key is not usable here (%s)", e)
        return False
    make_checkpoint(records, store, key, agent_id, agent_uuid, now_us, read_kernel_clock(), "report")
    return True


def _choose(signed: list[_Signed], stamped: set[int], first_id: int, last_id: int) -> tuple[_Signed | None, _Signed | None]:
    before = [s for s in signed if s.row.head_row_id is not None and s.row.head_row_id < first_id]
    start = before[-1] if before else None
    after = [s for s in signed if s.row.head_row_id is not None and s.row.head_row_id >= last_id]
    end = next((s for s in after if s.row.id in stamped), after[0] if after else None)
    return start, end


def _roots_for(tokens: Sequence[TokenRow], roots: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """The trusted roots that issued a certificate embedded in one of the tokens."""
    issuers = set()
    for t in tokens:
        for der in decode_timestamp_response(t.token).signed_data.certificates:
            issuers.add(x509.load_der_x509_certificate(der).issuer)
    return [r for r in roots if r.subject in issuers]


class _Writer:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: list[str] = []

    def text(self, rel: str, data: str) -> None:
        self.bytes(rel, data.encode("utf-8"))

    def bytes(self, rel: str, data: bytes) -> None:
        p = self.out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        self.files.append(rel)


def _keys(w: _Writer, records: ProofRecords, agent_id: int, epochs_used: set[int]) -> list[dict[str, Any]]:
    all_epochs = records.key_epochs(agent_id)
    lo, hi = min(epochs_used, default=0), max(epochs_used, default=0)
    out = []
    for e in all_epochs:
        if not lo <= e.epoch <= hi:
            continue
        vk = VerifierKey.parse(e.vkey)
        base = f"{PROOF_DIR}/keys/epoch-{e.epoch}"
        w.text(base + ".vkey", e.vkey + "\n")
        w.bytes(base + ".pem", vk.ed25519().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
        entry: dict[str, Any] = {"epoch": e.epoch, "vkey": base + ".vkey", "pem": base + ".pem", "fingerprint": e.fingerprint,
                                 "started": iso(e.created_us), "reason": e.reason}
        if e.announcement:
            w.text(base + ".announcement.txt", e.announcement)
            entry["announcement"] = base + ".announcement.txt"
        out.append(entry)
    return out


def _chain_file(w: _Writer, records: ProofRecords, agent_id: int, after_id: int | None, upto_id: int) -> int:
    rel = f"{PROOF_DIR}/chain.jsonl"
    p = w.out / rel
    n = 0
    with p.open("wb") as fh:
        for row in records.iter_chain_range(agent_id, after_id, upto_id):
            fh.write(chain.canonical(row) + b"\n")
            n += 1
    w.files.append(rel)
    return n


def _cp_rel(s: _Signed) -> str:
    return f"{PROOF_DIR}/checkpoints/checkpoint-{s.row.id}.txt"


def _checkpoint_files(w: _Writer, included: Sequence[_Signed], tokens: Sequence[TokenRow]) -> tuple[list[dict[str, Any]], list[TokenRow]]:
    """Each included checkpoint's note and its tokens, as files; (their index entries, the tokens written)."""
    entries, used = [], []
    for s in included:
        w.text(_cp_rel(s), s.row.note)
        toks = []
        for k, t in enumerate([t for t in tokens if t.checkpoint_id == s.row.id], 1):
            rel = f"{PROOF_DIR}/timestamps/checkpoint-{s.row.id}.{k}.tsr"
            w.bytes(rel, t.token)
            toks.append({"file": rel, "tsa": t.tsa_url, "authority": t.authority, "gen_time": iso(t.gen_time_us)})
            used.append(t)
        entries.append({"file": _cp_rel(s), "size": s.cp.size, "time": iso(s.cp.time_us), "epoch": s.cp.epoch, "timestamps": toks})
    return entries, used


def _roots_file(w: _Writer, settings: Settings, used: Sequence[TokenRow]) -> str | None:
    if not used:
        return None
    try:
        roots = _roots_for(used, load_roots(settings.agent.timestamp.ca_file))
    except ConfigError as e:
        log.warning("TSA roots not included in the bundle: %s", e)
        return None
    if not roots:
        return None
    rel = f"{PROOF_DIR}/tsa-roots.pem"
    w.bytes(rel, b"".join(r.public_bytes(Encoding.PEM) for r in roots))
    return rel


def _ends(settings: Settings, store: Store, records: ProofRecords, agent_id: int, agent_uuid: str, scope: tuple[int, int],
          stamped: set[int], now_us: int) -> tuple[_Signed | None, _Signed | None, list[_Signed]]:
    """The checkpoints before and after the scope's rows (signing one now if none is after), and those to include."""
    start, end = _choose(_valid(records.checkpoints(agent_id)), stamped, *scope)
    if end is None and settings.agent.checkpoints.enabled and _sign_now(settings, store, records, agent_id, agent_uuid, now_us):
        start, end = _choose(_valid(records.checkpoints(agent_id)), stamped, *scope)
    keep = {s.row.id for s in (start, end) if s is not None}
    lo = start.cp.size if start else 0
    hi = end.cp.size if end else None
    included = [s for s in _valid(records.checkpoints(agent_id))
                if s.cp.size >= lo and (hi is None or s.cp.size <= hi) and (s.row.id in keep or s.row.id in stamped)]
    return start, end, included


def write_proof(settings: Settings, store: Store, agent_uuid: str | None, check_ids: Sequence[int], targets: Sequence[str],
                start_us: int, end_us: int, out: Path, *, csv: str | None, lang: str, now_us: int) -> list[str]:
    """Write ``proof/`` into the bundle folder; returns the files written (relative), for the manifest."""
    records = ProofRecords(store)
    agent_id = records.agent_id(agent_uuid) if agent_uuid else None
    if agent_uuid is None or agent_id is None:
        return []
    scope = records.scope_ids(sorted(set(check_ids) & records.agent_check_ids(agent_id)), start_us, end_us)
    if scope is None:
        return []
    tokens = records.timestamps(agent_id)
    start, end, included = _ends(settings, store, records, agent_id, agent_uuid, scope, {t.checkpoint_id for t in tokens}, now_us)
    w = _Writer(out)
    cps_json, used = _checkpoint_files(w, included, tokens)
    keys = _keys(w, records, agent_id, {s.cp.epoch for s in included})
    rows = _chain_file(w, records, agent_id, start.row.head_row_id if start else None, end.row.head_row_id or 0) if end else 0
    roots_rel = _roots_file(w, settings, used)
    stmt = build_statement(store, agent_uuid, start_us, end_us)
    w.text(f"{PROOF_DIR}/statement.json", json.dumps(stmt.to_json(), ensure_ascii=False, indent=2) + "\n")
    index = {
        "schema": SCHEMA,
        "agent": agent_uuid,
        "origin": origin_of(agent_uuid),
        "scope": {"targets": sorted(targets), "from": iso(start_us), "to": iso(end_us), "csv": csv},
        "start": ({"checkpoint": _cp_rel(start), "size": start.cp.size} if start
                  else {"checkpoint": None, "size": 0, "genesis": chain.genesis(agent_uuid).hex()}),
        "end": ({"checkpoint": _cp_rel(end), "size": end.cp.size} if end else None),
        "chain": {"file": f"{PROOF_DIR}/chain.jsonl", "rows": rows} if end else None,
        "checkpoints": cps_json,
        "keys": keys,
        "tsa_roots": roots_rel,
        "statement": f"{PROOF_DIR}/statement.json",
    }
    w.text(f"{PROOF_DIR}/README.txt", _readme(lang))
    w.text(f"{PROOF_DIR}/proof.json", json.dumps(index, ensure_ascii=False, indent=2) + "\n")
    return w.files


def _readme(lang: str) -> str:
    if lang == "zh":
        return ("本目录使第三方无需数据库即可核验 measurements.csv：\n"
                "  slaproof verify --bundle 本报告目录\n"
                "或不安装 slaproof：用 openssl ts -verify 核验 timestamps/ 中的 RFC 3161 时间戳（-data 为对应的 checkpoints/ 文件，"
                "-CAfile 为时间戳机构公布的根证书），再按 slaproof 文档 docs/verify.md 中的脚本重算 chain.jsonl 的哈希链，"
                "结果须等于签名检查点中的哈希。\n")
    return ("This folder lets anyone check measurements.csv without the database:\n"
            "  slaproof verify --bundle THIS_REPORT_FOLDER\n"
            "or, without slaproof: check the RFC 3161 tokens in timestamps/ with openssl ts -verify (-data the matching file in "
            "checkpoints/, -CAfile the authority's published root), then recompute the hash chain over chain.jsonl with the "
            "script in slaproof's docs/verify.md: it must end in the signed checkpoint's hash.\n")

