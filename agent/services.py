"""The two ways a part of the agent joins the running daemon, without touching its loop.

* A :class:`Service` runs beside the probes (a checkpoint signer, a forwarder, an
  alert sender, a metrics server): started after the writer and the scheduler,
  stopped before the writer is flushed, in reverse order.
* A :class:`RoundObserver` is told of every finished round, on the event loop,
  right after its rows were queued. It must return at once; slow work (a
  traceroute, a network call) goes into a task it spawns or a queue it owns.
* A :data:`HeartbeatHook` is called at every heartbeat, on the event loop, under
  the same rule (the clock record samples the kernel's NTP state there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from agent.config import Target
    from agent.core.result import ProbeResult


HeartbeatHook = Callable[[], None]


class Service(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class RoundObserver(Protocol):
    def observe(self, target: Target, scheduled: datetime, results: Sequence[ProbeResult]) -> None: ...
