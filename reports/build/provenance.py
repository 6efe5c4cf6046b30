"""Where a target's rows came from: measured by this agent, or brought in with ``slaproof import``.

Imported rows are filed under check rows whose settings say ``"imported": true`` with the file's
name, its SHA-256 and the tool (agent/store/exchange.source_of). The report names them (share of
rows, period, source file and tool), and its methods text says their method is unknown: the
kernel timestamps and the schedule described there are this agent's, not theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from agent.core.times import from_us
from reports.build.rounds import TargetChecks
from reports.render.model import ImportedRows, ImportedSource, Methods, TargetReport
from reports.render.numbers import exact
from reports.render.provenance_text import imported_paragraph

Row = tuple[Any, ...]
UNKNOWN = "unknown"


def imported_ids(tc: TargetChecks) -> frozenset[int]:
    return frozenset(i for i, s in zip(tc.ids, tc.settings) if s.get("imported"))


class ImportedCounter:
    """Rows of imported checks in [p0, p1): check id → [rows, first µs, last µs], counted in the pass
    that reads every row anyway (no cost for a target without imported checks)."""

    def __init__(self, tc: TargetChecks, p0: int, p1: int) -> None:
        self.ids = imported_ids(tc)
        self.p0, self.p1 = p0, p1
        self.seen: dict[int, list[int]] = {}

    def wrap(self, add: Callable[[Row], None]) -> Callable[[Row], None]:
        if not self.ids:
            return add
        ids, seen, p0, p1 = self.ids, self.seen, self.p0, self.p1

        def add_counting(row: Row) -> None:
            add(row)
            ts, cid = row[1], row[3]
            if cid in ids and p0 <= ts < p1:
                got = seen.get(cid)
                if got is None:
                    seen[cid] = [1, ts, ts]
                else:
                    got[0] += 1
                    got[2] = ts

        return add_counting


def imported_rows(tc: TargetChecks, seen: dict[int, list[int]], total_rows: int) -> ImportedRows | None:
    """The model's account of a target's imported rows, or None when every row was measured here."""
    if not seen or not total_rows:
        return None
    settings = dict(zip(tc.ids, tc.settings))
    by_source: dict[tuple[str, str | None, str], list[Any]] = {}
    for cid, (n, first, last) in sorted(seen.items()):
        s = settings[cid]
        key = (str(s.get("source_file") or UNKNOWN), s.get("source_sha256"), str(s.get("tool") or UNKNOWN))
        acc = by_source.setdefault(key, [set(), 0, first, last])
        acc[0].add(tc.kind_of[cid])
        acc[1] += n
        acc[2], acc[3] = min(acc[2], first), max(acc[3], last)
    sources = tuple(ImportedSource(file=f, sha256=h, tool=tool, kinds=tuple(sorted(k)), rows=n, first=from_us(a),
                                   last=from_us(b)) for (f, h, tool), (k, n, a, b) in sorted(by_source.items(), key=lambda kv: kv[1][2]))
    rows = sum(s.rows for s in sources)
    return ImportedRows(rows=rows, share_pct=float(exact(rows) * 100 / total_rows),
                        first=min(s.first for s in sources), last=max(s.last for s in sources), sources=sources)


def with_imported(methods: Methods, targets: Sequence[TargetReport]) -> Methods:
    """The methods, with the paragraph on imported rows appended when a target has any."""
    en, zh = imported_paragraph(targets, "en"), imported_paragraph(targets, "zh")
    if en is None or zh is None:
        return methods
    return replace(methods, text_en=f"{methods.text_en}\n\n{en}", text_zh=f"{methods.text_zh}\n\n{zh}")
