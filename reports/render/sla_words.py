"""The SLA evaluation's own sentences (its warnings and credit notes) as the report prints them, in
English or Chinese, with no stored key or value spelling left in them ("scope 'region'",
"billing.hourly_rate"). A sentence this module does not know goes to the preset notes' words
(preset_notes.note_text), which quote what they cannot translate.
"""

from __future__ import annotations

import re

from reports.render.preset_notes import note_text

_SCOPE = {"en": {"region": "region", "multi_zone": "multi-zone", "multi-zone": "multi-zone", "service": "service"},
          "zh": {"region": "区域", "multi_zone": "多可用区", "multi-zone": "多可用区", "service": "服务"}}
_NO_DATA = {"en": {"excluded from the period (neither up nor down)": "Time without data is left out of the period (neither up nor down).",
                   "counted as up, as the SLA definition says": "Time without data is counted as up, as the terms say.",
                   "counted as down, as the SLA definition says": "Time without data is counted as down, as the terms say."},
            "zh": {"excluded from the period (neither up nor down)": "无数据的时间从周期中排除（既不算正常也不算中断）。",
                   "counted as up, as the SLA definition says": "按条款，无数据的时间计为正常。",
                   "counted as down, as the SLA definition says": "按条款，无数据的时间计为中断。"}}


def _quoted(items: str) -> str:
    return "; ".join(f"\u201c{x.strip()}\u201d" for x in items.split(";") if x.strip())


# (pattern, English, Chinese): the templates take the pattern's groups as {1}, {2} …
_SENTENCES: list[tuple[re.Pattern[str], str, str]] = [(re.compile(a), b, c) for a, b, c in (
    (r"^clock-hour amount values each hour at the monthly fee / hours in the period \(set billing\.hourly_rate\)$",
     "Each clock-hour is valued at the monthly fee divided by the hours in the period (an hourly rate can be set in the configuration).",
     "每个整点小时按月费除以周期内的小时数计价（可在配置中设置小时费率）。"),
    (r"^the period is not over yet: figures are interim$", "The period is not over yet: the figures are interim.",
     "周期尚未结束：数据为临时值。"),
    (r"^the provider counts downtime only from the support ticket: counted downtime here is an upper bound$",
     "The provider counts downtime only from the support ticket: the downtime counted here is an upper bound.",
     "服务商只从提交工单起计算中断：此处计入的中断时长为上限。"),
    (r"^the provider uses its own measurements; externally measured downtime can exceed what it credits$",
     "The provider goes by its own measurements: the downtime measured here can exceed what it credits.",
     "服务商以自己的测量为准：此处测得的中断时长可能超过其认可的时长。"),
    (r"^time when the agent's own network was down is excluded: it is not the provider's fault$",
     "Time when the agent's own network was down is not counted: it is not the provider's fault.",
     "监测端自身网络中断的时间不计入：这不是服务商的责任。"),
    (r"^no counted incident: no incident-based claim deadline$",
     "No outage was counted, so there is no claim deadline that runs from an outage.",
     "没有计入的中断，因此没有从中断起算的索赔期限。"),
    (r"^the credit rule was not found: no credit is computed$", "The terms' credit rule was not found: no credit is computed.",
     "未找到条款的补偿规则：不计算补偿。"),
    (r"^no monthly fee configured: credit given as a percentage only$",
     "No monthly fee is configured: the credit is given as a percentage only.", "未配置月费：补偿仅以百分比给出。"),
    (r"^hourly rate derived as the monthly fee / hours in the period$",
     "The hourly rate is the monthly fee divided by the hours in the period.", "小时费率按月费除以周期内的小时数计算。"),
    (r"^service hours valued at the monthly fee / hours in the period$",
     "Hours of service are valued at the monthly fee divided by the hours in the period.", "服务小时按月费除以周期内的小时数计价。"),
    (r"^an outage of ([\d.]+) s falls between rows of the credit table: not covered$",
     "An outage of {1} s falls between the rows of the credit table: the table does not cover it.",
     "一次 {1} 秒的中断落在补偿表的两行之间：补偿表未涵盖。"),
    (r"^minimum credit is (\S+) (\S+); the fee is in (\S+): not checked$",
     "The smallest credit issued is {1} {2}; the fee is in {3}, so this was not checked.",
     "最低补偿为 {1} {2}；月费以 {3} 计，因此未核对。"),
    (r"^the provider issues credits only of more than (.+)$", "The provider issues credits only above {1}.",
     "服务商只发放高于 {1} 的补偿。"),
    (r"^the provider issues credits only of at least (.+)$", "The provider issues credits only of {1} or more.",
     "服务商只发放不低于 {1} 的补偿。"),
)]


def evaluation_text(text: str, lang: str) -> str:
    """One of the evaluation's sentences in the report's words."""
    words = "zh" if lang == "zh" else "en"
    for pattern, en, zh in _SENTENCES:
        m = pattern.match(text)
        if m:
            out = en if words == "en" else zh
            for i, g in enumerate(m.groups(), 1):
                out = out.replace(f"{{{i}}}", g)
            return out
    m = re.match(r"^scope '(\w+)': the spans must stand for the whole (.+) deployment$", text)
    if m:
        scope = _SCOPE[words].get(m.group(1), m.group(1))
        return (f"These terms cover a whole {scope} deployment: the measurements must stand for all of it." if words == "en"
                else f"这些条款针对整个{scope}部署：测量结果必须能代表整个部署。")
    m = re.match(r"^time without data is (.+)$", text)
    if m and m.group(1) in _NO_DATA[words]:
        return _NO_DATA[words][m.group(1)]
    m = re.match(r"^the provider also excludes \(not detectable here\): (.*)$", text)
    if m:
        head = "The provider also excludes (not detectable here): " if words == "en" else "服务商另有排除项（此处无法检测）："
        return head + _quoted(m.group(1))
    return note_text(text, lang)
