"""The forwarder's last word on its progress, in a small file in the state directory.

Written by agent/forwarder.py after every batch and every failure; read by ``slaproof status``
(which must not wait on the network to say how far behind the agent is). Not evidence: the
central database's cursor is the truth the forwarder resumes from.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

FILENAME = "upstream.json"


@dataclass(frozen=True, slots=True)
class ForwardState:
    acked_seq: int  # the local row id the central database has taken up to
    acked_us: int | None  # when it last took rows (or confirmed it had them all)
    error: str | None  # the last failure, masked; None after a success
    error_since_us: int | None  # when the current run of failures began
    refused_seq: int | None  # a row the central database refused (it stops there)
    updated_us: int


def write(state_dir: Path, st: ForwardState) -> None:
    """Replace the file at once (a reader sees the old state or the new one, never half)."""
    path = state_dir / FILENAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(st)), encoding="utf-8")
    os.replace(tmp, path)


def read(state_dir: Path) -> ForwardState | None:
    try:
        data = json.loads((state_dir / FILENAME).read_text(encoding="utf-8"))
        return ForwardState(**data)
    except (OSError, ValueError, TypeError):
        return None
