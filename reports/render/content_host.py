"""The host section of a target's page: what the machine measured of itself, against its plan.

Read from the report model's HostSection only; the PDF and HTML renderers print these blocks.
"""

from __future__ import annotations

from datetime import tzinfo

from reports.render.blocks import Block, Heading, KeyValues, Para, Table
from reports.render.content_cards import errors_text
from reports.render.content_terms import term_sentence
from reports.render.i18n import fmt_pct, fmt_time, label
from reports.render.model import HostPlan, HostSection, HostStats, SlaTerm

DASH = "\u2013"
MIB = 1 << 20
DAYS_SHOWN = 62  # a two-month period day by day; longer periods keep the table in summary.json
STAT_KEYS = ("host.count", "host.mean", "host.min", "host.p5", "host.p50", "host.p95", "host.max")


def _num(v: float | None, places: int = 2) -> str:
    return DASH if v is None else f"{float(v):,.{places}f}"


def _mib(v: float | None) -> str:
    return DASH if v is None else f"{float(v) / MIB:,.0f}"


def _row(name: str, s: HostStats, fmt: str = "num") -> list[str]:
    cells = [s.mean, s.min, s.p5, s.p50, s.p95, s.max]
    shown = [_mib(v) for v in cells] if fmt == "mib" else [_num(v) for v in cells]
    return [name, str(s.count), *shown]


def _plan_rows(h: HostSection, lang: str) -> list[list[str]]:
    p = h.plan or HostPlan(vcpus=None, cpu=None, memory_mb=None, disk_type=None, disk_gb=None, disk_iops=None,
                           disk_mb_s=None, source=None)
    none = label("host.none", lang)
    online = DASH if h.vcpus_online_min is None else (
        str(h.vcpus_online_min) if h.vcpus_online_min == h.vcpus_online_max else f"{h.vcpus_online_min}–{h.vcpus_online_max}")
    mem = h.memory
    measured_mem = DASH if mem.total_bytes_min is None else f"{_mib(mem.total_bytes_min)} MiB"
    if mem.total_pct_of_plan_min is not None:
        measured_mem += " (" + label("host.memory_pct", lang, pct=fmt_pct(mem.total_pct_of_plan_min, lang, places=1)) + ")"
    cpu_kind = label(f"host.{p.cpu}", lang) if p.cpu in ("dedicated", "shared") else none
    rows = [
        [label("host.vcpus", lang), str(p.vcpus) if p.vcpus else none, online],
        [label("host.cpu_kind", lang), cpu_kind, DASH],
        [label("host.memory", lang), f"{p.memory_mb:,.0f} MiB" if p.memory_mb else none, measured_mem],
        [label("host.disk", lang), " ".join(x for x in (p.disk_type, f"{p.disk_gb:g} GB" if p.disk_gb else "") if x) or none,
         h.disk.fs_type or DASH],
        [label("host.disk_mb_s", lang), f"{p.disk_mb_s:g} MB/s" if p.disk_mb_s else none, _num(h.disk.write_mb_s.p50, 1)],
    ]
    if p.disk_iops:
        rows.append([label("host.disk_iops", lang), str(p.disk_iops), DASH])
    if p.source:
        rows.append([label("host.source", lang), p.source, ""])
    return rows


def _notes(h: HostSection, lang: str) -> list[Block]:
    sp = h.cpu_speed
    out: list[Block] = []
    if sp.baseline_units_per_s is not None and sp.baseline_from is not None and sp.baseline_to is not None:
        out.append(Para(label("host.baseline", lang, units=_num(sp.baseline_units_per_s, 1), n=sp.baseline_readings,
                              start=sp.baseline_from.date().isoformat(), end=sp.baseline_to.date().isoformat()), "small"))
    else:
        from reports.analysis.host import BASELINE_MIN_READINGS

        out.append(Para(label("host.no_baseline", lang, n=sp.baseline_readings, min=BASELINE_MIN_READINGS), "small"))
    if sp.contended:
        out.append(Para(label("host.contended", lang, n=sp.contended), "small"))
    if sp.quota_cores is not None:
        out.append(Para(label("host.quota", lang, cores=f"{sp.quota_cores:g}", n=sp.throttled_readings), "small"))
    d = h.disk
    if d.fs_type:
        direct = "" if d.direct is None else label("host.direct" if d.direct else "host.buffered", lang)
        out.append(Para(label("host.disk_note", lang, fs=d.fs_type, direct=direct), "small"))
    if d.write_below_plan and h.plan is not None and h.plan.disk_mb_s:
        out.append(Para(label("host.write_below_plan", lang, n=d.write_below_plan, total=d.write_mb_s.count,
                              mb_s=f"{h.plan.disk_mb_s:g}"), "small"))
    if h.host_clock_unsynced or (h.host_offset_ms_max is not None and abs(h.host_offset_ms_max) >= 1000):
        out.append(Para(label("host.clock", lang, n=h.host_clock_unsynced, offset=_num(h.host_offset_ms_max, 0)), "small"))
    return out


def _term(t: SlaTerm, lang: str) -> str:
    """A host term in words ("CPU steal, mean over the period: at most 5 %: measured 1.20, met")."""
    state = label("host.term_unknown" if t.met is None else ("host.term_met" if t.met else "host.term_breached"), lang)
    sentence, _ = term_sentence(t.metric, t.statistic, t.comparator, t.threshold, t.share_min_pct, t.window_s, lang)
    return label("host.term_words", lang, term=sentence, measured=_num(t.measured), state=state)


def host_blocks(h: HostSection | None, lang: str, zone: tzinfo) -> list[Block]:
    """The section's blocks, or none when the target has no host check."""
    if h is None:
        return []
    first = fmt_time(h.first_reading, zone) if h.first_reading else DASH
    last = fmt_time(h.last_reading, zone) if h.last_reading else DASH
    blocks: list[Block] = [
        Heading(label("host.heading", lang), 2),
        Para(label("host.counts", lang, readings=h.readings, first=first, last=last, failed=h.polls_failed), "small"),
        Table([label(k, lang) for k in ("host.figure", "host.plan", "host.measured")], _plan_rows(h, lang), [0.34, 0.33, 0.33]),
        Table([label(k, lang) for k in ("host.figure", *STAT_KEYS)], [
            _row(label("host.steal", lang), h.steal_pct), _row(label("host.iowait", lang), h.iowait_pct),
            _row(label("host.busy", lang), h.busy_pct), _row(label("host.speed_pct", lang), h.cpu_speed.pct_of_baseline),
            _row(label("host.fsync_p50", lang), h.disk.fsync_p50_ms), _row(label("host.fsync_p99", lang), h.disk.fsync_p99_ms),
            _row(label("host.write", lang), h.disk.write_mb_s), _row(label("host.read", lang), h.disk.read_mb_s),
            _row(label("host.available", lang), h.memory.available_bytes, "mib"),
        ], [0.28, 0.09, 0.105, 0.105, 0.105, 0.105, 0.105, 0.105], frozenset(range(1, 8))),
        *_notes(h, lang),
    ]
    if h.poll_errors:
        blocks.append(KeyValues([(label("host.poll_errors", lang), errors_text(h.poll_errors, lang))]))
    if h.disk.errors:
        blocks.append(KeyValues([(label("host.disk_errors", lang), "\n".join(f"\u201c{k}\u201d \u00d7 {v}" for k, v in h.disk.errors.items()))]))
    if h.terms:
        blocks.append(Heading(label("host.terms", lang), 2))
        blocks.extend(Para(_term(t, lang), "small") for t in h.terms)
    if h.days and len(h.days) <= DAYS_SHOWN:
        blocks.append(Heading(label("host.days", lang), 2))
        blocks.append(Table(
            [label(k, lang) for k in ("host.day", "host.count", "host.day_steal", "host.day_speed", "host.day_fsync", "host.day_write")],
            [[d.day.isoformat(), str(d.readings), f"{_num(d.steal_mean_pct)} / {_num(d.steal_max_pct)}",
              f"{_num(d.speed_pct_median, 1)} / {_num(d.speed_pct_min, 1)}", _num(d.fsync_p99_ms_max), _num(d.write_mb_s_min, 1)]
             for d in h.days],
            [0.16, 0.1, 0.2, 0.2, 0.17, 0.17], frozenset(range(1, 6))))
    return blocks
