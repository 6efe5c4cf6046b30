"""Waiting for a condition in tests: bounded, and loud when it never comes.

Why: a fixed ``sleep`` before an assertion is either too short on a busy
machine (a flaky test) or too long everywhere (a slow one). Where no event can
be waited on (another process's socket, state inside the code under test),
poll the condition itself with a deadline, and fail naming what was awaited
instead of carrying on as if it had happened.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

POLL_S = 0.005


def wait_until(cond: Callable[[], object], what: str, timeout_s: float = 5.0, poll_s: float = POLL_S) -> None:
    """Return as soon as ``cond()`` is true; AssertionError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not so after {timeout_s:g} s")
        time.sleep(poll_s)


async def async_wait_until(
    cond: Callable[[], object], what: str, timeout_s: float = 5.0, poll_s: float = POLL_S
) -> None:
    """:func:`wait_until` inside an event loop: the loop keeps running between polls."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not so after {timeout_s:g} s")
        await asyncio.sleep(poll_s)
