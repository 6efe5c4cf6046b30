"""`slaproof verify`: walk every agent's hash chain, and check a report bundle's manifest."""

from __future__ import annotations

import hashlib
import json
from contextlib import closing
from pathlib import Path

from agent.core.times import iso
from agent.store import Store, iter_verify


def verify_chain(store: Store, agent_uuid: str, upto_id: int | None = None) -> tuple[bool, str]:
    n = 0
    with closing(iter_verify(store, agent_uuid, upto_id=upto_id)) as walk:
        for n, row, good in walk:
            if good:
                continue
            return False, (f"agent {agent_uuid}: BROKEN at row {row['id']} (the {n}th of the chain; "
                           f"{row['target']}/{row['kind']} at {iso(row['ts_us'])}): its hash does not match its content "
                           "and the row before it. That row, or one before it, was altered, deleted or reordered.")
    return True, f"agent {agent_uuid}: {n} rows, chain intact"


def verify_manifest(store: Store, manifest: Path) -> tuple[bool, list[str]]:
    lines: list[str] = []
    ok = True
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return False, [f"{manifest}: cannot read the manifest: {e}"]
    for name, info in sorted(data.get("files", {}).items()):
        p = manifest.parent / name
        if not p.exists():
            ok = False
            lines.append(f"{name}: MISSING")
            continue
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        good = digest == info.get("sha256")
        ok &= good
        lines.append(f"{name}: {'ok' if good else 'CHANGED (sha256 differs from the manifest)'}")
    head = data.get("chain_head") or {}
    if head.get("row_id") is not None:
        h = store.row_hash(int(head["row_id"]))
        good = h is not None and h.hex() == head.get("hash")
        ok &= good
        lines.append(f"chain head row {head['row_id']}: {'matches the database' if good else 'DOES NOT MATCH the database'}")
        if good and head.get("agent"):
            cgood, line = verify_chain(store, head["agent"], upto_id=int(head["row_id"]))
            ok &= cgood
            lines.append(line)
    return ok, lines


def verify_all(store: Store, manifest: Path | None) -> tuple[bool, list[str]]:
    ok = True
    lines: list[str] = []
    uuids = store.agent_uuids()
    if not uuids:
        lines.append("no measurements yet: nothing to verify")
    for u in uuids:
        good, line = verify_chain(store, u)
        ok &= good
        lines.append(line)
    if manifest is not None:
        good, more = verify_manifest(store, manifest)
        ok &= good
        lines.extend(more)
    return ok, lines
