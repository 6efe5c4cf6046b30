"""What both languages of the complaint letter are written from: the report model's target and SLA
section, the parties, and the figures in words (reports/render/letter.py explains the letter).

Every number goes through the one rounding rule (reports/render/numbers.py); terms are named in
words (sla_format.term_label), never by their keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from reports.render.model import IncidentEntry, Report, SlaSection, TargetReport
from reports.render.numbers import cut_short
from reports.render.sla_format import fmt_hms, term_label

PLACEHOLDERS = {
    "en": {
        "name": "[your name]",
        "account_id": "[account id]",
        "contract_id": "[contract no.]",
        "email": "[e-mail]",
        "phone": "[phone]",
        "service_name": "[service]",
        "service_id": "[service id]",
        "address": "[server address]",
    },
    "zh": {
        "name": "[您的姓名/公司名称]",
        "account_id": "[账号ID]",
        "contract_id": "[合同编号]",
        "email": "[电子邮箱]",
        "phone": "[电话]",
        "service_name": "[服务名称]",
        "service_id": "[实例/服务ID]",
        "address": "[服务器地址]",
    },
}

KIND = {
    "en": {"outage": "outage", "partial": "partial outage", "degraded": "degraded service"},
    "zh": {"outage": "服务中断", "partial": "部分中断", "degraded": "服务质量下降"},
}
CHECK = {
    "en": {"icmp": "ping (ICMP)", "tcp": "TCP connection", "http": "web service (HTTP)"},
    "zh": {"icmp": "ping（ICMP）", "tcp": "TCP 连接", "http": "网站服务（HTTP）"},
}
PERIOD_WORD = {
    "en": {"calendar_month": "calendar month", "billing_month": "billing month", "per_outage": "outage"},
    "zh": {"calendar_month": "自然月", "billing_month": "计费月", "per_outage": "次中断"},
}


@dataclass(frozen=True)
class Letter:
    """What both languages' letters are written from: the target, its SLA section, the parties."""

    report: Report
    t: TargetReport
    s: SlaSection
    lang: str
    zone: ZoneInfo
    customer: Mapping[str, str | None]
    service: Mapping[str, str | None]
    attachments: Sequence[tuple[str, str]]
    today: date
    reply_by: date

    def get(self, source: Mapping[str, str | None], key: str, alias: str | None = None) -> str:
        v = source.get(key)
        return str(v) if v not in (None, "") else PLACEHOLDERS[self.lang][alias or key]

    @property
    def provider(self) -> str:
        return str(self.service.get("provider") or self.t.provider or self.s.provider)

    @property
    def svc_name(self) -> str:
        return self.get(self.service, "name", "service_name")

    @property
    def svc_id(self) -> str:
        return self.get(self.service, "service_id")

    @property
    def period(self) -> tuple[str, str]:
        """First and last day of the SLA period, in its zone."""
        last = self.s.period_end.astimezone(self.zone) - timedelta(microseconds=1)
        return self.s.period_start.astimezone(self.zone).strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d")

    @property
    def interim(self) -> bool:
        return self.report.period.interim or not self.s.period_complete

    @property
    def incidents(self) -> list[IncidentEntry]:
        """The provider's incidents (not the agent's own network outages)."""
        return [i for i in self.t.incidents if i.kind != "local"]

    def times(self, moment: datetime) -> tuple[str, str]:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S"), moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


# -- figures in words, shared ------------------------------------------------------------------
def pct(v: float, places: int = 4) -> str:
    """A percentage by the one rule, trailing zeros dropped: 100.0 → 100, 0.0078 at 2 → 0.007."""
    return cut_short(v, places)


def dur(seconds: float, lang: str) -> str:
    """Words, with the exact seconds beside them when the words round: "47 min 10 s (2830 s)", "45 s"."""
    words = fmt_hms(seconds, lang)
    unit = "秒" if lang == "zh" else "s"
    exact = f"{cut_short(seconds, 3)} {unit}"
    if words == exact:
        return words
    return f"{words}（{exact}）" if lang == "zh" else f"{words} ({exact})"


def alone_failures(t: TargetReport) -> list[tuple[str, float, float | None]]:
    """Checks that failed longer than the target's outages (e.g. the web service while ping answered):
    (kind, its downtime, its availability)."""
    if len(t.checks) < 2:
        return []
    return [(c.kind, c.downtime_s, c.availability_pct) for c in t.checks if c.downtime_s > t.downtime_s]


def subject_kind(ctx: Letter) -> str:
    """breached | incidents | records | report: what the letter asks for, which its subject names."""
    if ctx.s.verdict == "breached":
        return "breached"
    if ctx.incidents or alone_failures(ctx.t):
        return "incidents"
    if ctx.s.verdict == "not enough data":
        return "records"
    return "report"


def incident_counts(ctx: Letter) -> str:
    """ "2 outages and 1 partial outage" / "2 次服务中断、1 次部分中断". """
    counts: dict[str, int] = {}
    for i in ctx.incidents:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    if ctx.lang == "zh":
        return "、".join(f"{n} 次{KIND['zh'][k]}" for k, n in counts.items())
    parts = [f"{n} {KIND['en'][k]}{'s' if n > 1 else ''}" for k, n in counts.items()]
    return " and ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + " and " + parts[-1]


def unconfirmed_terms(ctx: Letter) -> str:
    sep = "、" if ctx.lang == "zh" else "; "
    return sep.join(dict.fromkeys(term_label(p, ctx.lang) for p in ctx.s.unconfirmed_fields))
