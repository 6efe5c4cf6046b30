"""`slaproof verify --bundle DIR`: check a report bundle with no database and no config.

In order: every file against manifest.json; the key files; each checkpoint's
signature; each RFC 3161 token against its checkpoint and the trusted roots;
the hash chain recomputed over proof/chain.jsonl from the first checkpoint
(or the chain's start) to the second, which must end in its signed hash; and
measurements.csv against the chain: every row of it is a chain row of the
stated targets and period with the same values, and none is missing. Each
failure is one line naming the file and what differs; any failure is exit 1.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from agent.core.times import iso
from agent.core.units import loss_pct
from agent.proof.checkpoint import Checkpoint, origin_of, parse_iso_us
from agent.proof.dbverify import Findings
from agent.proof.note import NoteError, VerifierKey, parse_note, verify
from agent.proof.tsa import TsaError, verify_token
from agent.store import chain
from agent.store.exchange import CSV_FIELDS

MAX_ROW_LINES = 5  # row-level findings printed before "and N more"


@dataclass
class _Bundle:
    root: Path
    index: dict[str, Any]
    keys: dict[int, VerifierKey] = field(default_factory=dict)
    checkpoints: dict[str, Checkpoint] = field(default_factory=dict)  # file → valid, signed checkpoint


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_manifest(f: Findings, root: Path) -> None:
    path = root / "manifest.json"
    try:
        files = json.loads(path.read_text(encoding="utf-8")).get("files", {})
    except FileNotFoundError:
        f.fail(f"{path}: MISSING: without it no file of the bundle can be checked")
        return
    except (OSError, ValueError, AttributeError) as e:
        f.fail(f"{path}: cannot read the manifest: {e}")
        return
    changed = 0
    for name, info in sorted(files.items()):
        p = root / name
        if not p.is_file():
            f.fail(f"{name}: MISSING (listed in manifest.json)")
        elif _sha256(p) != info.get("sha256"):
            f.fail(f"{name}: CHANGED (its sha256 differs from manifest.json)")
            changed += 1
    if "proof/proof.json" not in files and (root / "proof" / "proof.json").exists():
        f.fail("proof/proof.json is not listed in manifest.json: the proof was added or replaced after the bundle was written")
    f.say(f"manifest.json: {len(files)} files listed, {changed} changed")


def _read(f: Findings, b: _Bundle, rel: str | None, what: str) -> bytes | None:
    if not rel:
        return None
    try:
        return (b.root / rel).read_bytes()
    except OSError:
        f.fail(f"{rel}: MISSING ({what} named in proof/proof.json)")
        return None


def check_keys(f: Findings, b: _Bundle, pins: Sequence[str]) -> None:
    for e in b.index.get("keys", []):
        raw = _read(f, b, e.get("vkey"), "a key")
        if raw is None:
            continue
        try:
            vk = VerifierKey.parse(raw.decode("utf-8"))
        except (NoteError, UnicodeDecodeError) as err:
            f.fail(f"{e.get('vkey')}: not a verifier key ({err})")
            continue
        pem = _read(f, b, e.get("pem"), "a key")
        if pem is not None and _pem_raw(pem) != vk.public:
            f.fail(f"{e.get('pem')}: not the same key as {e.get('vkey')}")
        if pins and vk.fingerprint not in pins:
            f.fail(f"key epoch {e.get('epoch')} (fingerprint {vk.fingerprint}) is none of the keys you trust (--key)")
        b.keys[int(e["epoch"])] = vk
        _announcement(f, b, e, vk)
    if b.keys:
        f.say("agent keys: " + "; ".join(f"epoch {n} fingerprint {k.fingerprint}" for n, k in sorted(b.keys.items()))
              + ("" if pins else " (compare with the fingerprint published in advance, or pass --key)"))


def _pem_raw(pem: bytes) -> bytes | None:
    try:
        return load_pem_public_key(pem).public_bytes(Encoding.Raw, PublicFormat.Raw)
    except (ValueError, TypeError):
        return None


def _announcement(f: Findings, b: _Bundle, e: dict[str, Any], vk: VerifierKey) -> None:
    raw = _read(f, b, e.get("announcement"), "a key announcement")
    if raw is None:
        return
    try:
        note = parse_note(raw.decode("utf-8"))
    except (NoteError, UnicodeDecodeError) as err:
        f.fail(f"{e['announcement']}: not a signed note ({err})")
        return
    if not verify(note, vk):
        f.fail(f"{e['announcement']}: not signed by the key it announces")
        return
    prev = b.keys.get(int(e["epoch"]) - 1)
    if int(e["epoch"]) > 1:
        vouched = prev is not None and verify(note, prev)
        f.say(f"key epoch {e['epoch']} started {e.get('started')} ({e.get('reason')}): "
              + ("the previous key vouched for it" if vouched else "NOT vouched for by the previous key (it was lost): "
                 "rows before and after are signed by different keys"))


def check_checkpoints(f: Findings, b: _Bundle) -> None:
    origin = origin_of(b.index.get("agent", ""))
    for c in b.index.get("checkpoints", []):
        rel = c.get("file")
        raw = _read(f, b, rel, "a checkpoint")
        if raw is None:
            continue
        try:
            note = parse_note(raw.decode("utf-8"))
            cp = Checkpoint.parse(note.text)
        except (NoteError, UnicodeDecodeError) as err:
            f.fail(f"{rel}: not a signed checkpoint ({err})")
            continue
        key = b.keys.get(cp.epoch)
        if key is None or not verify(note, key):
            f.fail(f"{rel}: its signature does not verify with the agent's key of epoch {cp.epoch}: the checkpoint was altered")
            continue
        if cp.origin != origin:
            f.fail(f"{rel}: signed for {cp.origin}, not this bundle's agent")
            continue
        b.checkpoints[rel] = cp
    f.say(f"checkpoints: {len(b.checkpoints)} of {len(b.index.get('checkpoints', []))} signed and valid")


def _roots(f: Findings, b: _Bundle, tsa_ca: Path | None) -> list[x509.Certificate] | None:
    where = tsa_ca or (b.root / b.index["tsa_roots"] if b.index.get("tsa_roots") else None)
    if where is None:
        return None
    try:
        return x509.load_pem_x509_certificates(where.read_bytes())
    except (OSError, ValueError) as e:
        f.fail(f"{where}: cannot read TSA root certificates ({e})")
        return None


def check_tokens(f: Findings, b: _Bundle, tsa_ca: Path | None) -> None:
    entries = [(c["file"], t) for c in b.index.get("checkpoints", []) for t in c.get("timestamps", [])]
    if not entries:
        f.say("timestamps: none in this bundle (no independent time for these rows)")
        return
    roots = _roots(f, b, tsa_ca)
    good = 0
    for cp_rel, t in entries:
        token, data = _read(f, b, t.get("file"), "a timestamp"), _read(f, b, cp_rel, "a checkpoint")
        if token is None or data is None:
            continue
        try:
            authority, gen_us = verify_token(token, data, roots or [])
        except TsaError as e:
            f.fail(f"{t['file']}: {e}")
            continue
        good += 1
        cp = b.checkpoints.get(cp_rel)
        late = f", {(gen_us - cp.time_us) / 60e6:.0f} min after it was signed" if cp else ""
        f.say(f"{t['file']}: valid token by {authority}: {cp_rel} existed at {iso(gen_us)}{late}")
    f.say(f"timestamps: {good} of {len(entries)} valid"
          + ("" if tsa_ca else " (trusting the roots in the bundle: pass --tsa-ca with the authority's published root to check independently)"))


def _chain_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        for line in fh:
            yield line.rstrip(b"\n")


def _scope(b: _Bundle) -> tuple[set[str], int, int]:
    s = b.index.get("scope", {})
    return set(s.get("targets", [])), parse_iso_us(s["from"]), parse_iso_us(s["to"])


def check_chain(f: Findings, b: _Bundle) -> dict[bytes, list[Any]] | None:
    """Recompute the chain from the start checkpoint to the end one; returns the in-scope rows by hash."""
    start, end = b.index.get("start") or {}, b.index.get("end")
    if not end or not b.index.get("chain"):
        f.fail("proof/proof.json: no signed checkpoint at or after the period's last row: these rows are covered by no signature yet")
        return None
    a_cp = b.checkpoints.get(start.get("checkpoint") or "")
    z_cp = b.checkpoints.get(end["checkpoint"])
    if z_cp is None or (start.get("checkpoint") and a_cp is None):
        f.fail("the checkpoints the chain runs between are missing or invalid (see above)")
        return None
    prev = a_cp.head if a_cp else chain.genesis(b.index["agent"])
    n = a_cp.size if a_cp else 0
    at = {cp.size: (rel, cp.head) for rel, cp in b.checkpoints.items()}
    targets, lo, hi = _scope(b)
    rel = b.index["chain"]["file"]
    scoped: dict[bytes, list[Any]] = {}
    try:
        for line in _chain_lines(b.root / rel):
            n += 1
            prev = hashlib.sha256(prev + line).digest()
            if n in at and at[n][1] != prev:
                f.fail(f"{rel}: the chain at row {n} differs from {at[n][0]}'s signed hash: a row at or before it was altered, "
                       "removed, added or reordered")
                return None
            values = json.loads(line)
            if values[2] in targets and lo <= values[1] < hi:
                scoped[prev] = values
    except OSError:
        f.fail(f"{rel}: MISSING (the chain links named in proof/proof.json)")
        return None
    if n != z_cp.size:
        f.fail(f"{rel}: reaches row {n}, but {end['checkpoint']} names {z_cp.size}: rows are "
               + ("missing" if n < z_cp.size else "added"))
        return None
    if prev != z_cp.head:
        f.fail(f"{rel}: does not end in {end['checkpoint']}'s signed hash: a row was altered or reordered")
        return None
    f.say(f"{rel}: {n - (a_cp.size if a_cp else 0)} rows recomputed from "
          f"{start.get('checkpoint') or 'the chain start'} to {end['checkpoint']}: the signed hash matches")
    return scoped


def _ms(ns: Any) -> str:
    return "" if ns is None else repr(ns / 1_000_000)


def csv_fields(v: Sequence[Any]) -> list[str]:
    """A chain row's canonical values as measurements.csv shows them (CSV_FIELDS order, row_id and hash left out)."""
    _, ts, target, kind, _sh, ok, lag, rtt, rmin, rmax, jit, sent, received, status, eclass, error, detail, imported = v
    loss = "" if (pct := loss_pct(sent, received)) is None else repr(pct)
    return [iso(ts), target, kind, "True" if ok else "False", _ms(rtt), loss, "" if sent is None else str(sent),
            "" if received is None else str(received), _ms(rmin), _ms(rmax), _ms(jit), "" if status is None else str(status),
            eclass or "", error or "", "" if lag is None else str(lag), "True" if imported else "", detail or ""]


def check_csv(f: Findings, b: _Bundle, scoped: dict[bytes, list[Any]]) -> None:
    name = b.index.get("scope", {}).get("csv")
    if not name:
        f.say("measurements.csv: not in this bundle; the chain alone was checked")
        return
    try:
        fh = (b.root / name).open(encoding="utf-8", newline="")
    except OSError:
        f.fail(f"{name}: MISSING")
        return
    bad, seen = 0, set()
    with fh:
        rows = csv.reader(fh)
        if next(rows, None) != CSV_FIELDS:
            f.fail(f"{name}: its header is not slaproof's ({', '.join(CSV_FIELDS[:4])}, …)")
            return
        hi = CSV_FIELDS.index("hash")
        for lineno, row in enumerate(rows, 2):
            problem = _csv_row_problem(row, hi, scoped)
            if problem is None:
                seen.add(bytes.fromhex(row[hi]))
                continue
            bad += 1
            if bad <= MAX_ROW_LINES:
                f.fail(f"{name} line {lineno}: {problem}")
    if bad > MAX_ROW_LINES:
        f.fail(f"{name}: and {bad - MAX_ROW_LINES} more rows like these")
    missing = [v for h, v in scoped.items() if h not in seen]
    if missing:
        v = missing[0]
        f.fail(f"{name}: lacks {len(missing)} rows the signed chain holds for these targets and period (first: {v[2]}/{v[3]} at {iso(v[1])})")
    elif not bad:
        f.say(f"{name}: {len(seen)} rows, each one a row of the signed chain with the same values; none missing")


def _csv_row_problem(row: list[str], hi: int, scoped: dict[bytes, list[Any]]) -> str | None:
    if len(row) != len(CSV_FIELDS):
        return f"has {len(row)} columns, not {len(CSV_FIELDS)}"
    try:
        values = scoped.get(bytes.fromhex(row[hi]))
    except ValueError:
        values = None
    if values is None:
        return f"row_id {row[CSV_FIELDS.index('row_id')]}: its hash is not a row of the signed chain in this period"
    want = csv_fields(values)
    got = [c for i, c in enumerate(row) if CSV_FIELDS[i] not in ("row_id", "hash")]
    for col, w, g in zip([c for c in CSV_FIELDS if c not in ("row_id", "hash")], want, got):
        if w != g:
            return f"row_id {row[CSV_FIELDS.index('row_id')]}: {col} is {g!r}, the signed chain says {w!r}"
    return None


def statement_lines(b: _Bundle) -> list[str]:
    """What proof/statement.json says about keys, timestamps and the clock (it is stated, not proven)."""
    try:
        st = json.loads((b.root / b.index.get("statement", "proof/statement.json")).read_text(encoding="utf-8"))
        clock = st["clock"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    out = []
    if st.get("key_changed"):
        out.append("stated: the agent key changed during the period (key epochs " + ", ".join(str(k["epoch"]) for k in st["keys"]) + ")")
    if st.get("stamped_until_us"):
        late = max((s["stamped_us"] - s["to_us"] for s in st["stamps"]), default=0) / 60e6
        out.append(f"stated: rows up to {iso(st['stamped_until_us'])} are covered by RFC 3161 timestamps (latest came {late:.0f} min after its rows)")
    total = clock["recorded_s"] + clock["unknown_s"]
    err = clock.get("max_error_synced_us")
    out.append(f"stated: clock synchronised {100 * clock['synced_s'] / total if total else 0:.1f}% of the period"
               + (f", error bound at most {err / 1000:.1f} ms while synchronised" if err is not None else "")
               + f"; {len(clock['unsynced'])} unsynchronised span(s), {len(clock['steps'])} step(s) of the wall clock")
    out += [f"stated: wall clock stepped {step / 1e6:+.3f} s at {iso(at)}" for at, step in clock["steps"]]
    return out


def verify_bundle(root: Path, *, pins: Sequence[str] = (), tsa_ca: Path | None = None) -> tuple[bool, list[str]]:
    f = Findings()
    check_manifest(f, root)
    try:
        index = json.loads((root / "proof" / "proof.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        f.fail("proof/proof.json: MISSING: this bundle carries no signed checkpoints to check its rows against")
        return f.ok, f.lines
    except (OSError, ValueError) as e:
        f.fail(f"proof/proof.json: cannot read it ({e})")
        return f.ok, f.lines
    b = _Bundle(root, index)
    check_keys(f, b, [p.lower() for p in pins])
    check_checkpoints(f, b)
    check_tokens(f, b, tsa_ca)
    scoped = check_chain(f, b)
    if scoped is not None:
        check_csv(f, b, scoped)
    f.lines += statement_lines(b)
    return f.ok, f.lines
