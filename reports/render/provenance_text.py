"""The methods paragraph about imported rows, in English and Chinese.

The methods text (methods_text.py) describes how this agent measures: a schedule, kernel receive
timestamps, the lag behind the schedule. None of that is true of rows brought in with
``slaproof import``: report building appends this paragraph to the methods whenever a reported
target has imported rows in the period, naming them and saying their method is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from reports.render.model import TargetReport
from reports.render.numbers import cut

_UNKNOWN_ZH = {"unknown": "未知"}


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def imported_paragraph(targets: Sequence[TargetReport], lang: str) -> str | None:
    """The paragraph, or None when every reported row was measured by this agent."""
    with_rows = [t for t in targets if t.imported is not None]
    if not with_rows:
        return None
    total = sum(t.rows for t in targets)
    n = sum(t.imported.rows for t in with_rows if t.imported is not None)
    share = cut(100 * n / total, 2) if total else "0"
    if lang == "zh":
        items = [f"目标 {t.name}：{s.rows} 条，来自文件 {s.file}（SHA-256 {s.sha256 or '未记录'}，测量工具：{_UNKNOWN_ZH.get(s.tool, s.tool)}，"
                 f"{_utc(s.first)} 至 {_utc(s.last)}）"
                 for t in with_rows if t.imported is not None for s in t.imported.sources]
        return ("导入的记录。以上各段说明的是本代理的测量方法。本报告的 {total} 条记录中有 {n} 条（{share} %）并非由本代理测量，"
                "而是用 slaproof import 导入的：{items}。这些记录的测量方法未知：它们没有内核接收时间戳，也没有相对计划时间的延迟，"
                "时间与数值均按文件所给；它们与实测记录按同样的规则计算。").format(
                    total=total, n=n, share=share, items="；".join(items))
    items = [f"{s.rows} rows of {t.name} from the file {s.file} (SHA-256 {s.sha256 or 'not recorded'}; measured with: "
             f"{s.tool}; {_utc(s.first)} to {_utc(s.last)})"
             for t in with_rows if t.imported is not None for s in t.imported.sources]
    return (f"Imported rows. The paragraphs above describe how this agent measures. {n} of the {total} rows of this "
            f"report ({share} %) were not measured by it but brought in with slaproof import: {'; '.join(items)}. "
            "How they were measured is unknown: they carry no kernel receive timestamps and no lag behind a schedule, "
            "their times and figures are as the file gave them, and they are counted by the same rules as measured rows.")
