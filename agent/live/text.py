"""Text that leaves the agent (a log line, an alert): one line, bounded, secrets masked."""

from __future__ import annotations

import re

_SPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = 300) -> str:
    """Whitespace folded to single spaces (journald: one record per event), cut at ``limit``, secrets masked."""
    flat = _SPACE.sub(" ", mask(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@]+@")
_SECRET_QUERY = re.compile(r"(?i)(?P<name>[?&](?:[\w.\-]*(?:token|key|secret|password|pass|sig|auth)[\w.\-]*))=[^&\s]+")
MIN_SECRET_LEN = 4  # shorter values would mask ordinary words
_values: tuple[str, ...] = ()


def register(values: list[str]) -> None:
    """Secret values (alert URLs and their parts) that must never be printed, in addition to the configuration's."""
    global _values
    _values = tuple(sorted({v for v in (*_values, *values) if len(v) >= MIN_SECRET_LEN}, key=len, reverse=True))


def mask(text: str) -> str:
    """URL credentials, secret-named query values and every registered secret value hidden."""
    text = _SECRET_QUERY.sub(lambda m: f"{m['name']}=***", _USERINFO.sub(lambda m: f"{m['scheme']}***@", text))
    for v in _values:
        text = text.replace(v, "***")
    return text
