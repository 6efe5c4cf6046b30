"""The agent's identity: a UUID made at first start and kept in the state directory.

It names the hash chain and appears on every report, so a report can be tied to
the machine that measured. A fleet sharing one PostgreSQL database has one per host.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from agent.core.errors import ConfigError

FILENAME = "agent-id"


def load_or_create(state_dir: Path) -> str:
    path = state_dir / FILENAME
    try:
        text = path.read_text().strip()
        uuid.UUID(text)
        return text
    except FileNotFoundError:
        pass
    except ValueError:
        raise ConfigError(f"{path}: not a UUID ({text[:40]!r}); restore it from a backup, or delete it to start a new agent identity") from None
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        new = str(uuid.uuid4())
        tmp = path.with_suffix(".tmp")
        with tmp.open("w") as f:
            f.write(new + "\n")
            f.flush()
            os.fsync(f.fileno())  # an identity lost to a crash would orphan the chain it names
        os.replace(tmp, path)
        fsync_dir(state_dir)
        return new
    except OSError as e:
        raise ConfigError(f"cannot write the agent identity {path}: {e.strerror}; set agent.state_dir to a writable folder") from None


def fsync_dir(path: Path) -> None:
    """Make a folder's new entries durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
