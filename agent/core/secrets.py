"""Secrets never leave the config: the one place that hides them in what is stored or shown."""

from __future__ import annotations

from typing import Any

SET = "(set)"  # what a stored or printed secret reads as
SECRET_KEYS = frozenset({"token"})


def mask_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A copy of a check's settings with every secret value replaced by ``(set)``."""
    return {k: (SET if k in SECRET_KEYS and v else v) for k, v in settings.items()}
