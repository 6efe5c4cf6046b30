"""The presets' notes (reports/presets/*.toml: ``notes``, ``credit.notes``, ``terms_date_note``) in Chinese.

The notes are ours, not the provider's, so a Chinese report prints them in Chinese; a test keeps
every note of every preset translated here. A note this table lacks (a preset changed) prints
quoted, marked as English, rather than not at all.
"""

from __future__ import annotations

ZH: dict[str, str] = {
    'Multi-zone: one agent watching one instance cannot show that all instances were unreachable; the spans given must stand for the whole deployment.':
        '多可用区：一个代理监测一台实例，无法证明所有实例都不可达；所提供的时段必须能代表整个部署。',
    'Credits are paid as vouchers of 10 / 25 / 100 % (secondary); the uptime bounds of those tiers were not found, so no credit percentage is computed.':
        '补偿以 10% / 25% / 100% 的代金券发放（二手来源）；未找到这些档位对应的可用率界限，因此不计算补偿比例。',
    'Claim: within 60 days (secondary); counted here from the end of the month, which was not confirmed.':
        '索赔：60 天内（二手来源）；此处从月末起算，起算点未经确认。',
    'The ECS SLA page itself was not among the stored copies read (2026-11); no version date was found.':
        '所读取的存档中没有 ECS SLA 页面本身（2026 年 11 月）；未找到版本日期。',
    'Credits are future credits only.':
        '补偿仅以抵扣今后费用的形式发放。',
    'Unavailable: the single instance has no external connectivity; the DOWN state (every check failed) is taken to mean that.':
        '不可用：单台实例失去外部连接；此处以“中断”状态（所有检测均失败）表示这一情况。',
    'The region-level terms issue credits only if greater than 1 USD; that the instance-level terms say the same was not confirmed (applied here).':
        '区域级条款只发放超过 1 美元的补偿；实例级条款是否同样规定未经确认（此处按此规定计算）。',
    "The current page was not among the stored copies read (2026-11); its /historical/ page lists the version 'Last Updated: May 5, 2022' as a prior version not currently in effect, so the version followed is later.":
        '所读取的存档中没有当前页面（2026 年 11 月）；其历史版本页面将“2022 年 5 月 5 日更新”的版本列为已不再生效的旧版本，因此所依据的版本晚于该日期。',
    'Region Unavailable: all running instances in two or more Availability Zones (or two Regions when the Region has one AZ) concurrently have no external connectivity. One agent watching one instance cannot show that; the spans given must stand for the whole Region.':
        '区域不可用：两个或以上可用区（区域只有一个可用区时为两个区域）中所有运行的实例同时失去外部连接。一个代理监测一台实例无法证明这一点；所提供的时段必须能代表整个区域。',
    'Applies to the whole deployment: one agent watching one VM cannot show that all VMs were unreachable; the spans given must stand for the whole set.':
        '适用于整个部署：一个代理监测一台虚拟机，无法证明所有虚拟机都不可达；所提供的时段必须能代表整组虚拟机。',
    'Uptime % = (Maximum Available Minutes - Downtime) / Maximum Available Minutes x 100.':
        '可用率（%）=（最大可用分钟数 − 中断分钟数）/ 最大可用分钟数 × 100。',
    "The current page was not among the stored copies read (2026-11). Stored prior versions (v1.8, 'Last updated: March 2018') give 99.99 / 99.95 / 99.9 % but no Standard SSD or HDD target, so the version followed is later.":
        '所读取的存档中没有当前页面（2026 年 11 月）。存档的旧版本（1.8 版，2018 年 3 月更新）给出 99.99% / 99.95% / 99.9%，但没有标准固态盘或机械盘的承诺，因此所依据的版本晚于该版本。',
    'Credit tiers for this target were not found (the common 10/25/100 % pattern below 99 % and 95 % does not fit a 95 % target).':
        '未找到该承诺对应的补偿档位（常见的低于 99% 与 95% 时补偿 10% / 25% / 100% 的模式不适用于 95% 的承诺）。',
    'These terms: unavailable when all requests to a resource fail for more than 5 minutes; counted in 5-minute intervals; 100 % of lost time is credited at the hourly rate incurred.':
        '这些条款：对某资源的所有请求失败超过 5 分钟即为不可用；以 5 分钟为间隔计算；损失的时间按所产生的小时费率 100% 补偿。',
    'If the Droplet existed for only part of the month, availability is calculated over that part.':
        '如果该 Droplet 只存在于当月的一部分时间，可用率按该部分时间计算。',
    "Read in an undated stored copy of the page (2026-11); another stored copy of the same page, 'Last Updated on June 3, 2025', holds the per-minute terms (preset digitalocean-droplet). No version date was shown for this text.":
        '取自该页面的一份无日期存档（2026 年 11 月）；同一页面的另一份存档（2025 年 6 月 3 日更新）载有按分钟计算的条款（预设 digitalocean-droplet）。此文本未标明版本日期。',
    "Credit: 100 % of the affected Droplet's charges for the billing month when below target.":
        '补偿：低于承诺时，补偿受影响 Droplet 当月费用的 100%。',
    'The claim deadline is from the undated text (within three months of the end of the billing cycle); none was found in the part of the June 3, 2025 text read.':
        '索赔期限取自无日期的文本（账单周期结束后三个月内）；在所读取的 2025 年 6 月 3 日文本中未找到。',
    'Monthly Uptime Percentage = (total minutes in the month - minutes of Unavailability) / total minutes in the month.':
        '月可用率 =（当月总分钟数 − 不可用分钟数）/ 当月总分钟数。',
    "'Last Updated on June 3, 2025'.":
        '“2025 年 6 月 3 日更新”。',
    'Multi-zone: the instances must be deployed across two or more zones; one agent watching one instance cannot show that all of them were down: the spans given must stand for the whole deployment.':
        '多可用区：实例必须部署在两个或以上可用区；一个代理监测一台实例无法证明所有实例都中断：所提供的时段必须能代表整个部署。',
    'Intermittent downtime shorter than one minute is not counted.':
        '短于一分钟的间歇性中断不计入。',
    'The page gives 99.95 % for instances in multiple zones in the Mexico and Stockholm regions, and 99.9 % under the Standard Tier network (override uptime_target_pct).':
        '该页面对墨西哥和斯德哥尔摩区域的多可用区实例给出 99.95%，对标准层级网络给出 99.9%（可在配置中覆盖可用性承诺）。',
    'Claim deadline: the claim form says 30 days after the month closes (used here); the SLA page reportedly says 60 days (secondary).':
        '索赔期限：索赔表单规定为月结后 30 天（此处采用）；据称 SLA 页面规定为 60 天（二手来源）。',
    "The stored copy of the page (read 2026-11) shows no 'Last modified' line; its Premium Tier targets and calendar month match this preset. The newest dated version seen is an archived copy marked 'Last modified: August 29, 2023'; that the current text is that version was not confirmed.":
        '该页面的存档（2026 年 11 月读取）没有“最后修改”一行；其高级层级的承诺和自然月与本预设一致。所见最新的带日期版本是一份标注“2023 年 8 月 29 日最后修改”的存档；当前文本是否即为该版本未经确认。',
    'Memory-optimized single instances have a 99.95 % target instead (override uptime_target_pct; their credit tiers were not found).':
        '内存优化型单实例的承诺为 99.95%（可在配置中覆盖可用性承诺；其补偿档位未找到）。',
    'Premium Tier network assumed: under the Standard Tier the page lists no target for a single instance.':
        '假定使用高级层级网络：在标准层级下，该页面未列出单实例的承诺。',
    'Example terms, not taken from any provider.':
        '示例条款，并非取自任何服务商。',
    "An example, not any provider's terms.":
        '示例，并非任何服务商的条款。',
    'Hetzner measures availability with its own host metrics (a server counts as available while its host runs and the instance shows CPU activity); downtime measured from outside can exceed what Hetzner credits.':
        'Hetzner 以其自身的宿主机指标衡量可用性（宿主机运行且实例有 CPU 活动即视为可用）；从外部测得的中断时长可能超过 Hetzner 认可的时长。',
    'Granularity not found: downtime is counted here in exact seconds.':
        '未找到计量粒度：此处按精确秒数计算中断时长。',
    'The time zone of the calendar month was not found (UTC used; override period.timezone, e.g. Europe/Berlin, if your contract says so).':
        '未找到自然月所用的时区（采用 UTC；如合同另有规定，可在配置中覆盖周期时区，例如 Europe/Berlin）。',
    'The stored copy of the page (read 2026-11) shows no version date.':
        '该页面的存档（2026 年 11 月读取）没有版本日期。',
    'Granularity, credits, claim deadline and evidence were not found: only the target is computed.':
        '未找到计量粒度、补偿、索赔期限和证据要求：只计算是否达到承诺。',
    'Scheduled maintenance announced at least 24 hours ahead is exempt: add it under exclusions.maintenance.':
        '提前至少 24 小时公告的计划维护不计入：请在配置的维护排除项中添加。',
    'Covered services: Dedicated, GPU, High Memory, Nanode and Standard Cloud Compute.':
        '涵盖的服务：Dedicated、GPU、High Memory、Nanode 与 Standard Cloud Compute。',
    "Version 1.1: 'Last Updated: 13 January 2021', 'Effective Date: 01 February 2021'.":
        '1.1 版：2021 年 1 月 13 日更新，2021 年 2 月 1 日生效。',
    'Granularity not found: per-minute windows are assumed.':
        '未找到计量粒度：假定按分钟窗口计算。',
    'Claim: a secondary page words the window as 30 calendar days from the occurrence of the issue, earlier than the month-end count used here (unconfirmed): claim within 30 days of the incident.':
        '索赔：某二手页面将期限表述为问题发生后 30 个日历日，早于此处采用的月末起算（未确认）：请在事件后 30 天内索赔。',
    "Oracle reissues the Pillar Document often (editions seen in copies on other sites run from May 2018 to January 2024); oracle.com's own copy was not among the pages read (2026-11), and the edition these figures come from is not known.":
        'Oracle 经常重新发布 Pillar Document（其他网站上所见版本从 2018 年 5 月至 2024 年 1 月不等）；所读取的页面中没有 oracle.com 自身的版本（2026 年 11 月），这些数字出自哪个版本不得而知。',
    'OVHcloud counts downtime only from the moment a support ticket is opened: the counted figure here (from the outage start) is an upper bound of what OVHcloud counts.':
        'OVHcloud 只从提交工单时起计算中断：此处计入的数字（从中断开始起算）是 OVHcloud 所计数字的上限。',
    'Credit: 10 % below 99.99 %, rising to 100 % (secondary); the intermediate tiers were not found, so at most the first tier is computed.':
        '补偿：低于 99.99% 时为 10%，最高至 100%（二手来源）；未找到中间档位，因此最多只计算第一档。',
    'At least 10 %: the higher tiers (up to 100 %) were not found.':
        '至少 10%：未找到更高的档位（最高 100%）。',
    "No stored copy of OVHcloud's SLA for Public Cloud instances was found among the pages read (2026-11); neither the version date nor this source address was confirmed.":
        '所读取的页面中未找到 OVHcloud 公有云实例 SLA 的存档（2026 年 11 月）；版本日期和此来源地址均未经确认。',
    'Vultr counts an outage only when confirmed from your ticket; the ticket must explicitly ask for credit.':
        'Vultr 只在根据您的工单确认后才计入中断；工单必须明确要求补偿。',
    "The credit table has no row for outages of 9 to 10 minutes (rows: 'Less than 9 minutes', '10 - 59 minutes'); such outages are reported as not covered by the table.":
        '补偿表中没有 9 至 10 分钟中断的一行（各行为“少于 9 分钟”“10 至 59 分钟”）；此类中断报告为补偿表未涵盖。',
    "Claim deadline not found in the part of Vultr's text read; a secondary summary gives 3 days from the incident (unconfirmed): open the ticket at once.":
        '在所读取的 Vultr 文本中未找到索赔期限；某二手摘要给出事件后 3 天（未确认）：请立即提交工单。',
    "The stored copy of the page (read 2026-11) showed no version date; its credit table was checked against a verbatim copy of the page's text kept on another site.":
        '该页面的存档（2026 年 11 月读取）没有版本日期；其补偿表已与另一网站保存的该页面原文核对。',
}


def note_text(text: str, lang: str) -> str:
    if lang != "zh":
        return text
    got = ZH.get(text)
    return got if got is not None else f"（英文原文）\u201c{text}\u201d"
