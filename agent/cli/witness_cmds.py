"""The options and start of `slaproof serve --witness` (agent/serve/witness.py)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from agent.core.errors import UsageError

if TYPE_CHECKING:
    from agent.serve.witness import WitnessServer


def witness_options(f: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--witness", is_flag=True, help="countersign checkpoints of the agents named by --trust"),
        click.option("--witness-listen", default="127.0.0.1:8089", show_default=True, help="ADDR:PORT of the witness"),
        click.option("--witness-key", type=click.Path(dir_okay=False, path_type=Path), default=Path("witness.key"), show_default=True,
                     help="the witness's Ed25519 key (made if missing, mode 600)"),
        click.option("--witness-state", type=click.Path(dir_okay=False, path_type=Path), default=Path("witness-state.json"),
                     show_default=True, help="the largest checkpoint seen per agent"),
        click.option("--witness-name", default=None, help="the witness's key name (default slaproof.witness/HOSTNAME)"),
        click.option("--trust", multiple=True, metavar="KEY", help="an agent's verifier key (`slaproof key show`), repeatable"),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def start_witness(*, witness: bool, witness_listen: str, witness_key: Path, witness_state: Path, witness_name: str | None,
                  trust: tuple[str, ...]) -> WitnessServer:
    from agent.serve.witness import make_witness

    if not trust:
        raise UsageError("--witness needs --trust KEY: the verifier key of each agent whose checkpoints it countersigns")
    try:
        server = make_witness(witness_listen, witness_key, trust, witness_state, witness_name or f"slaproof.witness/{socket.gethostname()}")
    except ValueError as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"--witness-listen {witness_listen}: {e.strerror}") from None
    click.echo(f"witness on {server.url}; its key for agent.checkpoints.witnesses: {server.signer.verifier.encode()}", err=True)
    return server


def wait_witness(server: WitnessServer | None) -> None:
    stop = threading.Event()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.close()
