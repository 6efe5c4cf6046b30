"""The presets' notes (reports/presets/*.toml: ``notes``, ``credit.notes``, ``terms_date_note``) in Chinese.

The notes are ours, not the provider's, so a Chinese report prints them in Chinese; a test keeps
every note of every preset translated here. A note this table lacks (a preset changed) prints
quoted, marked as English, rather than not at all.
"""

from __future__ import annotations

ZH: dict[str, str] = {}


def note_text(text: str, lang: str) -> str:
    if lang != "zh":
        return text
    got = ZH.get(text)
    return got if got is not None else f"（英文原文）\u201c{text}\u201d"
