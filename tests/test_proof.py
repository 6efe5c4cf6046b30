"""Checkpoints, timestamps and bundles against real tampering: a loopback TSA (`openssl ts -reply`), real SQLite
files, the real writer and chain; `openssl ts -verify` as a third party would run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from agent.proof.checkpoint import Checkpoint, origin_of
from agent.proof.dbverify import verify_proofs
from agent.proof.keys import load_key_file
from agent.proof.note import NoteSigner, parse_note, sign_note
from agent.proof.offline import verify_bundle
from agent.proof.tsa import load_roots
from agent.store.proof import ProofRecords
from agent.store.verify import verify_all
from reports.build.bundle import write_bundle
from tests.support.proofs import T0, ProofAgent, make_agent, measurement_ids, rewrite_chain, swap_rows
from tests.support.tsa import LocalTsa, local_tsa, make_tsa_files, openssl_verify

EXE = [sys.executable, "-m", "agent.cli"]
END = T0 + timedelta(hours=1)


@pytest.fixture(scope="module")
def tsa() -> Iterator[LocalTsa]:
    with local_tsa() as t:
        yield t


def stamped_agent(folder: Path, tsa: LocalTsa) -> ProofAgent:
    """Three checkpoints, each stamped, over 50 rounds of two targets (100 rows)."""
    a = make_agent(folder, timestamp={"urls": [tsa.url], "ca_file": str(tsa.files.ca_pem)})
    for n in (20, 20, 10):
        a.rows(n)
        a.checkpoint()
        assert a.proof.stamp_now().stamped
    return a


def db_verify(a: ProofAgent, tsa: LocalTsa) -> tuple[bool, list[str]]:
    ok, lines = verify_all(a.store, None)
    pok, more = verify_proofs(a.store, load_roots(str(tsa.files.ca_pem)))
    return ok and pok, lines + more


def bundle(a: ProofAgent, out: Path) -> Path:
    write_bundle(a.settings, a.store, T0, END, None, ["csv", "json"], "en", out, now=END)
    return out


def test_an_honest_history_verifies_here_and_in_its_bundle(tmp_path: Path, tsa: LocalTsa) -> None:
    a = stamped_agent(tmp_path, tsa)
    ok, lines = db_verify(a, tsa)
    assert ok, lines
    assert any("3 signed checkpoints match the chain (newest: 100 rows" in x and "3 timestamps valid" in x for x in lines)
    out = bundle(a, tmp_path / "b")
    ok, lines = verify_bundle(out, pins=[a.proof.key.verifier.fingerprint], tsa_ca=tsa.files.ca_pem)
    assert ok, lines
    assert any("measurements.csv: 100 rows, each one a row of the signed chain" in x for x in lines)
    assert any("proof/chain.jsonl: 100 rows recomputed" in x for x in lines)
    # summary.json says the same: three checkpoints signed, one authority's three tokens dating the rows up to the last.
    proof = json.loads((out / "summary.json").read_text())["proof"]
    assert proof["checkpoints"] == 3 and proof["key_fingerprints"] == [a.proof.key.verifier.fingerprint]
    assert [(s["tokens"], s["covered_from"]) for s in proof["stamps"]] == [(3, "2026-11-03T02:00:00.000000Z")]
    assert proof["stamped_until"] == proof["stamps"][0]["covered_to"] == proof["signed_until"]
    # A third party's own tools agree: openssl checks every token against its checkpoint file.
    index = json.loads((out / "proof" / "proof.json").read_text())
    tokens = [(c["file"], t["file"]) for c in index["checkpoints"] for t in c["timestamps"]]
    assert len(tokens) >= 1
    for cp, tok in tokens:
        r = openssl_verify(out / tok, out / cp, tsa.files.ca_pem)
        assert r.returncode == 0 and "Verification: OK" in r.stdout, r.stderr
    a.close()


def _truncate(a: ProofAgent) -> None:
    ids = measurement_ids(a.store)
    with a.store.engine.begin() as c:
        c.execute(text("DELETE FROM measurements WHERE id >= :i"), {"i": ids[-3]})


def _delete_middle(a: ProofAgent) -> None:
    with a.store.engine.begin() as c:
        c.execute(text("DELETE FROM measurements WHERE id = :i"), {"i": measurement_ids(a.store)[50]})


def _reorder(a: ProofAgent) -> None:
    ids = measurement_ids(a.store)
    swap_rows(a.store, ids[50], ids[52])


def _edit(a: ProofAgent) -> None:
    with a.store.engine.begin() as c:  # an outage row becomes "up"
        c.execute(text("UPDATE measurements SET ok = NOT ok WHERE id = :i"), {"i": measurement_ids(a.store)[50]})


def _rewrite(a: ProofAgent) -> None:
    _edit(a)
    rewrite_chain(a.store, a.daemon.agent_uuid)


TAMPER = {
    # what is done: (how, what `verify` says, what `verify --bundle` says)
    "tail truncation": (_truncate, "rows were removed", "rows are missing"),
    "middle deletion": (_delete_middle, "BROKEN at row", "differs from"),
    "reorder": (_reorder, "BROKEN at row", "differs from"),
    "single edit": (_edit, "BROKEN at row", "differs from"),
    "full rewrite": (_rewrite, "the chain was rewritten", "differs from"),
}


@pytest.mark.parametrize("case", list(TAMPER))
def test_tampering_fails_verify_and_verify_bundle(case: str, tmp_path: Path, tsa: LocalTsa) -> None:
    how, said, bundle_said = TAMPER[case]
    a = stamped_agent(tmp_path, tsa)
    how(a)
    ok, lines = db_verify(a, tsa)
    assert not ok and any(said in x for x in lines), lines
    ok, lines = verify_bundle(bundle(a, tmp_path / "b"), tsa_ca=tsa.files.ca_pem)
    assert not ok and any(bundle_said in x for x in lines), lines
    a.close()


def test_a_forger_holding_the_key_is_caught_by_the_timestamps(tmp_path: Path, tsa: LocalTsa) -> None:
    """Rows edited, every hash recomputed, every checkpoint signed again with the agent's own key:
    only the authority's tokens, over the original checkpoints, still say what was there."""
    a = stamped_agent(tmp_path, tsa)
    _rewrite(a)
    signer = NoteSigner(origin_of(a.daemon.agent_uuid), load_key_file(a.proof.key.path))
    records = ProofRecords(a.store)
    with a.store.engine.begin() as c:
        for cp in records.checkpoints(a.daemon.agent_id):
            old = Checkpoint.parse(parse_note(cp.note).text)
            head = a.store.row_hash(cp.head_row_id) if cp.head_row_id else old.head
            new = Checkpoint(old.origin, old.size, head or old.head, old.time_us, old.epoch, old.clock)
            c.execute(text("UPDATE checkpoints SET note = :n WHERE id = :i"), {"n": sign_note(new.text(), signer).encode(), "i": cp.id})
    ok, lines = db_verify(a, tsa)
    assert not ok and any("does not match this checkpoint" in x for x in lines), lines
    ok, lines = verify_bundle(bundle(a, tmp_path / "b"), tsa_ca=tsa.files.ca_pem)
    assert not ok and any("does not match this checkpoint" in x for x in lines), lines
    a.close()


@pytest.fixture
def good_bundle(tmp_path: Path, tsa: LocalTsa) -> Iterator[tuple[ProofAgent, Path]]:
    a = stamped_agent(tmp_path, tsa)
    out = bundle(a, tmp_path / "b")
    yield a, out
    a.close()


def _rehash_manifest(out: Path) -> None:
    """What someone altering a bundle does next: make manifest.json agree with the altered files."""
    import hashlib

    m = json.loads((out / "manifest.json").read_text())
    for name, info in m["files"].items():
        info["sha256"] = hashlib.sha256((out / name).read_bytes()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(m))


def _index(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "proof" / "proof.json").read_text()))


def test_bundle_faults_are_named(good_bundle: tuple[ProofAgent, Path], tmp_path: Path, tsa: LocalTsa) -> None:
    _a, out = good_bundle
    idx = _index(out)
    cp_file, tok_file = next((c["file"], c["timestamps"][0]["file"]) for c in idx["checkpoints"] if c["timestamps"])

    def copy() -> Path:
        dst = tmp_path / f"c{len(list(tmp_path.glob('c*')))}"
        shutil.copytree(out, dst)
        return dst

    def fails(b: Path, expect: str, **kw: Any) -> None:
        ok, lines = verify_bundle(b, **kw)
        assert not ok and any(expect in x for x in lines), (expect, lines)

    b = copy()
    (b / "measurements.csv").unlink()
    fails(b, "measurements.csv: MISSING")
    b = copy()
    (b / "summary.json").write_text("{}")
    fails(b, "summary.json: CHANGED")
    b = copy()  # a tampered checkpoint: one more row claimed
    lines = (b / cp_file).read_text().split("\n")
    lines[1] = str(int(lines[1]) + 1)
    (b / cp_file).write_text("\n".join(lines))
    _rehash_manifest(b)
    fails(b, "its signature does not verify")
    b = copy()  # a token that belongs to another checkpoint
    others = [t["file"] for c in idx["checkpoints"] for t in c["timestamps"] if t["file"] != tok_file]
    shutil.copy(b / others[0], b / tok_file)
    _rehash_manifest(b)
    fails(b, "does not match this checkpoint")
    other_ca = make_tsa_files(tmp_path / "other-ca", "Other")
    fails(copy(), "unknown authority", tsa_ca=other_ca.ca_pem)
    b = copy()  # a row of the CSV "improved", manifest redone
    rows = (b / "measurements.csv").read_text().splitlines()
    k = next(i for i, r in enumerate(rows) if ",False," in r)
    rows[k] = rows[k].replace(",False,", ",True,", 1)
    (b / "measurements.csv").write_text("\r\n".join(rows) + "\r\n")
    _rehash_manifest(b)
    fails(b, "ok is 'True', the signed chain says 'False'")
    b = copy()  # a row dropped from the CSV
    rows = (b / "measurements.csv").read_text().splitlines()
    (b / "measurements.csv").write_text("\r\n".join(rows[:5] + rows[6:]) + "\r\n")
    _rehash_manifest(b)
    fails(b, "lacks 1 rows the signed chain holds")
    b = copy()  # the chain links edited to agree with an edited CSV
    chain_lines = (b / "proof" / "chain.jsonl").read_text().splitlines()
    chain_lines[10] = chain_lines[10].replace("false", "true", 1) if "false" in chain_lines[10] else chain_lines[10].replace("true", "false", 1)
    (b / "proof" / "chain.jsonl").write_text("\n".join(chain_lines) + "\n")
    _rehash_manifest(b)
    fails(b, "differs from")
    fails(copy(), "none of the keys you trust", pins=["00" * 32])


def test_verify_exit_codes_from_the_command_line(good_bundle: tuple[ProofAgent, Path], tmp_path: Path) -> None:
    a, out = good_bundle
    r = subprocess.run([*EXE, "verify", "--bundle", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.rstrip().endswith("bundle verified"), r.stdout + r.stderr
    r = subprocess.run([*EXE, "verify", "-c", str(a.cfg)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "signed checkpoints match the chain" in r.stdout, r.stdout + r.stderr
    _rewrite(a)
    r = subprocess.run([*EXE, "verify", "-c", str(a.cfg)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "the chain was rewritten" in r.stdout
    (out / "proof" / "proof.json").unlink()
    r = subprocess.run([*EXE, "verify", "--bundle", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "proof/proof.json: MISSING" in r.stdout


def test_key_missing_or_readable_by_others_is_a_clear_error(tmp_path: Path) -> None:
    a = make_agent(tmp_path)
    a.rows(3)
    a.checkpoint()
    a.close()
    key = a.proof.key.path
    assert key == tmp_path / "state" / "agent.key" and (key.stat().st_mode & 0o777) == 0o600
    assert "PRIVATE KEY" not in json.dumps(list(ProofRecords(a.store).key_epochs(a.daemon.agent_id)), default=str)
    os.chmod(key, 0o644)
    r = subprocess.run([*EXE, "run", "-c", str(a.cfg), "--duration", "1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and f"chmod 600 {key}" in r.stderr and "Traceback" not in r.stderr
    key.unlink()
    r = subprocess.run([*EXE, "run", "-c", str(a.cfg), "--duration", "1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and f"the agent key {key} is missing" in r.stderr and "slaproof key new" in r.stderr
    r = subprocess.run([*EXE, "key", "new", "-c", str(a.cfg), "--reason", "disk replaced, key lost"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "key epoch 2 started" in r.stdout and "not available" in r.stdout, r.stderr
    r = subprocess.run([*EXE, "key", "show", "-c", str(a.cfg)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "key epoch:    2" in r.stdout and "earlier epoch 1" in r.stdout and "BEGIN PUBLIC KEY" in r.stdout
    assert "PRIVATE" not in r.stdout
    # The old checkpoints still verify with epoch 1's key; the statement says the key changed.
    ok, lines = verify_proofs(a.store, None)
    assert ok, lines


def test_the_script_in_docs_verify_md_checks_a_bundle(good_bundle: tuple[ProofAgent, Path], tmp_path: Path) -> None:
    """docs/verify.md's script, run as a third party would, agrees with verify --bundle (keeps the page true)."""
    a, out = good_bundle
    doc = (Path(__file__).parents[1] / "docs" / "verify.md").read_text()
    script = tmp_path / "check_bundle.py"
    script.write_text(doc.split("```python\n", 1)[1].split("```", 1)[0])
    r = subprocess.run([sys.executable, str(script), str(out), a.proof.key.verifier.fingerprint], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("OK: 100 rows"), r.stdout + r.stderr
    rows = (out / "measurements.csv").read_text().splitlines()
    (out / "measurements.csv").write_text("\r\n".join(rows[:3] + rows[4:]) + "\r\n")
    r = subprocess.run([sys.executable, str(script), str(out), a.proof.key.verifier.fingerprint], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "missing from measurements.csv" in r.stderr
