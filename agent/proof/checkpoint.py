"""A checkpoint: the agent's signed statement of its chain's length and head at a time.

The text follows c2sp.org/tlog-checkpoint: origin, size, base64 hash, then
extension lines. The one difference (docs/checkpoints.md): the hash is the head of
the measurement hash chain (agent/store/chain.py), not a Merkle tree root; a
later checkpoint is checked against an earlier one by recomputing the chain
links between them, which a report bundle carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from agent.core.times import iso, to_us
from agent.proof.note import NoteError, b64, unb64

ORIGIN_PREFIX = "slaproof.agent/"
HASH_BYTES = 32


@dataclass(frozen=True, slots=True)
class ClockState:
    """The kernel's view of the wall clock (adjtimex): synchronised or not, and its error bounds."""

    synced: bool | None  # None: unknown (not Linux, or the call failed)
    maxerror_us: int | None = None
    esterror_us: int | None = None

    def line(self) -> str:
        if self.synced is None:
            return "clock unknown"
        word = "synced" if self.synced else "unsynchronised"
        return f"clock {word} maxerror_us={self.maxerror_us or 0} esterror_us={self.esterror_us or 0}"

    @classmethod
    def parse(cls, line: str) -> ClockState:
        parts = line.split(" ")
        if parts == ["clock", "unknown"]:
            return cls(None)
        if len(parts) != 4 or parts[0] != "clock" or parts[1] not in ("synced", "unsynchronised"):
            raise NoteError(f"clock line {line!r}: expected 'clock synced|unsynchronised maxerror_us=N esterror_us=N' or 'clock unknown'")
        try:
            values = dict(p.split("=", 1) for p in parts[2:])
            return cls(parts[1] == "synced", int(values["maxerror_us"]), int(values["esterror_us"]))
        except (KeyError, ValueError):
            raise NoteError(f"clock line {line!r}: bad error figures") from None


def origin_of(agent_uuid: str) -> str:
    return ORIGIN_PREFIX + agent_uuid


def parse_iso_us(text: str) -> int:
    try:
        return to_us(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC))
    except ValueError:
        raise NoteError(f"time {text!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ") from None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int  # rows in the agent's chain
    head: bytes  # hash of the size-th row (the chain's genesis value when size is 0)
    time_us: int  # the agent's wall clock when it signed
    epoch: int  # the key epoch whose key signs it
    clock: ClockState

    @property
    def agent_uuid(self) -> str:
        return self.origin.removeprefix(ORIGIN_PREFIX)

    def text(self) -> str:
        return (f"{self.origin}\n{self.size}\n{b64(self.head)}\n"
                f"time {iso(self.time_us)}\nepoch {self.epoch}\n{self.clock.line()}\n")

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) != 7 or lines[-1] != "":
            raise NoteError("a slaproof checkpoint has six lines: origin, size, hash, time, epoch, clock")
        origin, size, head, time_line, epoch_line, clock_line = lines[:6]
        if not origin.startswith(ORIGIN_PREFIX):
            raise NoteError(f"origin {origin!r} is not a slaproof agent ({ORIGIN_PREFIX}<agent id>)")
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(f"size {size!r} is not a decimal number")
        raw = unb64(head)
        if len(raw) != HASH_BYTES:
            raise NoteError("the hash line is not 32 bytes of base64")
        if not time_line.startswith("time ") or not epoch_line.startswith("epoch ") or not epoch_line[6:].isdigit():
            raise NoteError("expected 'time <ISO 8601>' and 'epoch <n>' lines")
        return cls(origin, int(size), raw, parse_iso_us(time_line[5:]), int(epoch_line[6:]), ClockState.parse(clock_line))
