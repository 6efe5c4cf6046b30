"""`slaproof key show|new` and the bundle half of `slaproof verify`: the agent's key and third-party checks."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from agent.cli.common import config_option, load_settings, main, open_store
from agent.core.errors import UsageError

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.store import Store
    from agent.store.proof import ProofRecords


@main.group()
def key() -> None:
    """The agent's signing key (Ed25519): publish its fingerprint before you need the evidence."""


def _agent(config_path: str | None) -> tuple[Settings, Store, ProofRecords, int, str]:
    from agent import identity
    from agent.core.times import to_us
    from agent.store.proof import ProofRecords

    settings, _ = load_settings(config_path)
    store = open_store(settings)
    uuid = identity.load_or_create(settings.state_dir())
    agent_id = store.ensure_agent(uuid, to_us(datetime.now(UTC)))
    return settings, store, ProofRecords(store), agent_id, uuid


@key.command()
@config_option
def show(config_path: str | None) -> None:
    """Print the public key, its fingerprint and its epoch (never the private key)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from agent.core.times import iso, to_us
    from agent.proof.keys import open_agent_key
    from agent.proof.service import key_path

    settings, _store, records, agent_id, uuid = _agent(config_path)
    path = key_path(settings)
    k = open_agent_key(records, agent_id, uuid, path, to_us(datetime.now(UTC)), create=False)
    click.echo(f"agent:        {uuid}")
    click.echo(f"key file:     {path} (private; mode 600; keep a backup)")
    click.echo(f"key epoch:    {k.epoch.epoch}, since {iso(k.epoch.created_us)} ({k.epoch.reason})")
    click.echo(f"fingerprint:  {k.verifier.fingerprint}  (SHA-256 of the 32-byte public key)")
    click.echo(f"verifier key: {k.verifier.encode()}")
    click.echo(k.verifier.ed25519().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode().rstrip())
    earlier = [e for e in records.key_epochs(agent_id) if e.epoch != k.epoch.epoch]
    for e in earlier:
        click.echo(f"earlier epoch {e.epoch}: fingerprint {e.fingerprint}, since {iso(e.created_us)} ({e.reason})")


@key.command()
@config_option
@click.option("--reason", required=True, help="why: printed in every report that spans the change (e.g. 'disk replaced, key lost')")
@click.option("--force", is_flag=True, help="replace a key that is still present and valid")
def new(config_path: str | None, reason: str, force: bool) -> None:
    """Start a new key epoch after the key was lost (the old file, if any, is kept, renamed)."""
    from agent.core.times import to_us
    from agent.proof.keys import start_new_epoch
    from agent.proof.service import key_path

    if not reason.strip():
        raise UsageError("--reason must say why the key changes")
    settings, _store, records, agent_id, uuid = _agent(config_path)
    k, vouched = start_new_epoch(records, agent_id, uuid, key_path(settings), to_us(datetime.now(UTC)), reason, force=force)
    click.echo(f"key epoch {k.epoch.epoch} started: fingerprint {k.verifier.fingerprint}")
    click.echo("the previous key signed the announcement" if vouched else
               "the previous key was not available: reports will say the key changed without its vouching")
    click.echo("publish the new fingerprint to the provider as you did the first (slaproof key show)")


def ensure_key_at_init(path: Path) -> str:
    """`slaproof init`: make the agent key where the new config puts it (kept if it exists)."""
    from agent.core.errors import ConfigError
    from agent.proof.keys import KeyMissingError, create_key_file, load_key_file
    from agent.proof.note import NoteSigner

    try:
        private = load_key_file(path)
        made = False
    except KeyMissingError:
        try:
            private = create_key_file(path)
        except ConfigError as e:
            return f"agent key not created ({e}); the first start creates it"
        made = True
    except ConfigError as e:
        return f"agent key: {e}"
    fp = NoteSigner("k", private).verifier.fingerprint
    return f"{'created' if made else 'kept'} the agent key {path} (fingerprint {fp}; publish it with 'slaproof key show')"


def verify_bundle_cmd(folder: Path, pins: tuple[str, ...], tsa_ca: Path | None) -> None:
    from agent.proof.offline import verify_bundle

    if not folder.is_dir():
        raise UsageError(f"--bundle {folder}: not a folder; give the folder `slaproof report --out` wrote")
    ok, lines = verify_bundle(folder, pins=pins, tsa_ca=tsa_ca)
    for line in lines:
        click.echo(line)
    click.echo("bundle verified" if ok else "BUNDLE DOES NOT VERIFY: see the lines above")
    if not ok:
        sys.exit(1)


def verify_db_proofs(settings: Settings, store: Store) -> tuple[bool, list[str]]:
    """The checkpoint and timestamp half of `slaproof verify` on the database."""
    from agent.core.errors import ConfigError
    from agent.proof.dbverify import verify_proofs
    from agent.proof.tsa import load_roots

    try:
        roots = load_roots(settings.agent.timestamp.ca_file)
    except ConfigError:
        roots = None
    return verify_proofs(store, roots)
