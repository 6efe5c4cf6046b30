"""The per-target metric families, kept in plain values and written straight to the Prometheus
text format (version 0.0.4).

prometheus-client's own exposition builds a sample object per line and formats each value
through several calls: about 190 ms for the ~19,000 lines of 1,000 targets on the
benchmark's machine, which at one scrape every 15 s is over a point of a core. These
families are written here by joining pre-escaped label strings with the values, a few
milliseconds for the same lines; the agent's own health stays with prometheus-client.
Values are written by the event loop and read by the server thread without a lock: a scrape
may see a round half-applied (a histogram count one ahead of its sum), never a torn value.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field


def escape_label(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def fmt(v: float) -> str:
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


@dataclass
class CheckValues:
    labels: str  # 'target="web",check="icmp"', escaped once
    up: float = math.nan
    loss: float | None = None  # None: not an ICMP check (no loss line)
    last_ok: float = 0.0
    counts: list[int] = field(default_factory=list)  # per bucket, not cumulative (+Inf last)
    total: float = 0.0
    n: int = 0


class TargetFamilies:
    """slaproof_up, slaproof_loss_ratio, slaproof_last_success_timestamp_seconds, slaproof_rtt_seconds, slaproof_incident_open."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self._les = [fmt(b) for b in buckets] + ["+Inf"]
        self.checks: dict[tuple[str, str], CheckValues] = {}
        self.incidents: dict[str, tuple[str, float]] = {}  # target → (escaped name, value)

    def check(self, target: str, label: str, icmp: bool) -> CheckValues:
        c = self.checks.get((target, label))
        if c is None:
            c = CheckValues(f'target="{escape_label(target)}",check="{escape_label(label)}"', loss=math.nan if icmp else None,
                            counts=[0] * (len(self.buckets) + 1))
            self.checks[(target, label)] = c
        return c

    def observe_rtt(self, c: CheckValues, seconds: float) -> None:
        c.counts[bisect_left(self.buckets, seconds)] += 1
        c.total += seconds
        c.n += 1

    def set_incident(self, target: str, open_: bool) -> None:
        cur = self.incidents.get(target)
        self.incidents[target] = (cur[0] if cur else escape_label(target), 1.0 if open_ else 0.0)

    def text(self) -> str:
        checks = list(self.checks.values())
        out = ["# HELP slaproof_up 1 if the check's last round succeeded, 0 if it failed, NaN if the agent could not tell",
               "# TYPE slaproof_up gauge"]
        out += [f"slaproof_up{{{c.labels}}} {fmt(c.up)}" for c in checks]
        out += ["# HELP slaproof_loss_ratio ICMP packets lost in the last round, 0..1", "# TYPE slaproof_loss_ratio gauge"]
        out += [f"slaproof_loss_ratio{{{c.labels}}} {fmt(c.loss)}" for c in checks if c.loss is not None]
        out += ["# HELP slaproof_last_success_timestamp_seconds When the check last succeeded (Unix time; 0: not in this run)",
                "# TYPE slaproof_last_success_timestamp_seconds gauge"]
        out += [f"slaproof_last_success_timestamp_seconds{{{c.labels}}} {fmt(c.last_ok)}" for c in checks]
        out += ["# HELP slaproof_rtt_seconds Round-trip (ICMP), connect (TCP) or total (HTTP) time of successful checks",
                "# TYPE slaproof_rtt_seconds histogram"]
        les = self._les
        for c in checks:
            acc = 0
            for le, k in zip(les, list(c.counts)):
                acc += k
                out.append(f'slaproof_rtt_seconds_bucket{{{c.labels},le="{le}"}} {acc}')
            out.append(f"slaproof_rtt_seconds_sum{{{c.labels}}} {fmt(c.total)}")
            out.append(f"slaproof_rtt_seconds_count{{{c.labels}}} {acc}")
        out += ["# HELP slaproof_incident_open 1 while a confirmed incident of the target is open", "# TYPE slaproof_incident_open gauge"]
        out += [f'slaproof_incident_open{{target="{name}"}} {fmt(v)}' for name, v in list(self.incidents.values())]
        return "\n".join(out) + "\n"
