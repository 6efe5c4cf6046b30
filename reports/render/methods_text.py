"""The report's methods prose, in English and Chinese: how every figure was obtained.

It lives with the renderers because all report prose does; report building copies the texts into
the report model (Methods.text_en / text_zh, clock, gap_rule), so summary.json states the method
its figures were made with, and a report rendered from it prints that same text.
"""

from __future__ import annotations

# How SLA performance samples are taken, in words (reports/build/samples.py takes them and states the
# same with the metrics' keys in samples.PERF_METHOD, which summary.json's readers see; a test keeps the
# two naming the same metrics).
PERF_METHOD = (
    "Performance samples: round-trip time is each successful round's RTT of the target's latency check (ICMP, "
    "else TCP connect, else HTTP); packet loss is each ICMP round's lost share of its echo requests, "
    "outages included; jitter is the round's RTT standard deviation when it sent several requests, "
    "else the absolute difference between consecutive rounds' RTTs (IPDV, RFC 3393); bandwidth "
    "is each successful bandwidth test's mean after warm-up. Samples taken while the control targets were also "
    "failing (local) are left out; agent-side failures and budget-skipped tests are never samples."
)

METHODS_EN = (
    "Each target is probed on a fixed schedule: round k is due at a phase derived from the target's name plus k "
    "intervals from the Unix epoch; every stored row carries its start time (UTC, microseconds, from the system "
    "clock) and its lag behind the scheduled time. ICMP round-trip times come from kernel receive timestamps on "
    "one shared socket; TCP is the connect time; HTTP(S) is the time to the end of the capped body read.\n\n"
    "A round is down when every check failed, partial when some did, degraded when all answered but latency or "
    "loss stayed past the thresholds for the sustain window. An incident opens after the stated number of "
    "consecutive failed rounds and is dated to the first failed round; its minimum and maximum durations come "
    "from the last good round before and the first good round after. Incidents closer than the merge gap are one "
    "incident.\n\n"
    "Time when the agent was not running, or when rounds are missing for more than twice the interval, is "
    "'no data': neither up nor down, and excluded from availability. When the control targets failed in the same "
    "rounds, the time is 'local' (the agent's own network) and is not counted against the provider. Failures on "
    "the agent's side (a probe error, a missing permission, a check skipped by the traffic budget) are recorded "
    "but never counted for or against the provider.\n\n"
    "Availability = (observed time − outage time) / observed time, where observed time is the period less no-data "
    "and local time. Latency percentiles are nearest-rank over the successful checks of the target's first latency "
    "check kind (ICMP, else TCP, else HTTP), from a 1 µs histogram. Loss is lost replies / sent requests over all "
    "ICMP checks. Every row is SHA-256 hash-chained; manifest.json names the chain head at the end of the period.\n\n"
    "Bandwidth tests run on their own long interval and never decide availability: each moves data over N parallel "
    "TCP streams (or runs iperf3), discards a warm-up, and reports the mean throughput of the rest; the report gives "
    "per-direction statistics of those means, and lists failed tests. " + PERF_METHOD
)
METHODS_ZH = (
    "每个目标按固定时间表探测：第 k 轮的计划时间为由目标名称导出的相位加上自 Unix 纪元起的 k 个间隔；每条记录都保存开始时间"
    "（UTC，精确到微秒，取自系统时钟）及其相对计划时间的延迟。ICMP 往返时间取自同一共享套接字上的内核接收时间戳；TCP 为建立连接的时间；"
    "HTTP(S) 为读取（有上限的）响应体结束时的时间。\n\n"
    "一轮中所有检查都失败即为中断，部分失败即为部分故障，全部应答但延迟或丢包在持续窗口内超过阈值即为性能下降。连续失败达到规定轮数后"
    "开启事件，事件起点记为第一轮失败的时间；最短与最长持续时间由失败前最后一次成功和恢复后第一次成功的轮次确定。间隔小于合并间隙的事件"
    "合并为一个。\n\n"
    "代理未运行或缺失轮次超过两个间隔的时间记为“无数据”：既不算正常也不算中断，不计入可用率。控制目标在同一轮次也失败时，该时间记为"
    "“本地故障”（代理自身网络），不计入服务商的停机时间。代理自身的故障（探测程序错误、缺少权限、因流量预算跳过的检查）会被记录，"
    "但不计入服务商的责任。\n\n"
    "可用率 =（观测时间 − 中断时间）/ 观测时间，观测时间为周期减去无数据和本地故障时间。延迟百分位数按最近秩法，取目标第一种延迟检查"
    "（ICMP，否则 TCP，否则 HTTP）的成功检查，基于 1 微秒直方图。丢包率为全部 ICMP 检查中丢失的应答数除以发送的请求数。每条记录都以"
    " SHA-256 串成哈希链；manifest.json 写明周期结束时的链头。\n\n"
    "带宽测试按各自较长的间隔运行，不参与可用率判定：每次通过 N 条并行 TCP 流传输数据（或运行 iperf3），丢弃预热阶段，报告其余部分的"
    "平均吞吐量；报告按方向给出这些平均值的统计，并列出失败的测试。SLA 性能条款的样本：延迟为目标延迟检查每轮成功的 RTT；丢包为每轮"
    " ICMP 请求的丢失比例（含中断）；抖动为多请求轮次的 RTT 标准差，单请求轮次则为相邻成功轮次 RTT 之差的绝对值（IPDV，RFC 3393）；"
    "带宽为每次成功测试的平均值。控制目标同时失败（本地故障）期间的样本及代理自身的故障不计为样本。"
)


GAP_RULE = ("rounds missing for more than 2 intervals, and time outside the agent's runs, are 'no data'; "
            "time when every control target failed is 'local' and not the provider's downtime")
GAP_RULE_ZH = "缺失超过 2 个间隔的轮次以及代理运行之外的时间记为“无数据”；所有对照目标都失败的时间记为“本地故障”，不算服务商的中断。"
CLOCK_SYNCED = "systemd-timesyncd reports it synchronised"
CLOCK_UNKNOWN = "NTP synchronisation state not recorded by the agent; check chrony/timesyncd on the host"
CLOCK_RECORDED = "the kernel's synchronisation state and error bound recorded with every heartbeat (see the proof section)"
CLOCK_HEAD = "system clock (CLOCK_REALTIME), stored as UTC; "
CLOCK_ZH = {CLOCK_HEAD + CLOCK_SYNCED: "系统时钟（CLOCK_REALTIME），以 UTC 保存；systemd-timesyncd 报告其已同步",
            CLOCK_HEAD + CLOCK_RECORDED: "系统时钟（CLOCK_REALTIME），以 UTC 保存；每次心跳都记录内核的同步状态与误差界（见完整性与时间证明一节）",
            CLOCK_HEAD + CLOCK_UNKNOWN: "系统时钟（CLOCK_REALTIME），以 UTC 保存；代理未记录 NTP 同步状态，请在主机上检查 chrony 或 timesyncd"}


def clock_text(synced: bool, *, recorded: bool = False) -> str:
    """The clock line of the methods: ``recorded`` when the agent's heartbeats recorded the kernel's clock
    state in the period (the proof section states it); else ``synced`` when systemd-timesyncd reported it."""
    return CLOCK_HEAD + (CLOCK_RECORDED if recorded else CLOCK_SYNCED if synced else CLOCK_UNKNOWN)


def clock_words(text: str, lang: str) -> str:
    """The clock line (summary.json keeps it in English) in the report's language."""
    if lang != "zh":
        return text
    return CLOCK_ZH.get(text, f"（英文原文）\u201c{text}\u201d")


def gap_rule_words(text: str, lang: str) -> str:
    if lang != "zh":
        return text
    return GAP_RULE_ZH if text == GAP_RULE else f"（英文原文）\u201c{text}\u201d"


# Added to the methods when a target has a host check (docs/host.md).
HOST_METHOD_EN = (
    "\n\nHost readings come from inside the rented machine: `slaproof serve --host` takes one on its own schedule and "
    "the agent fetches every reading since the last it stored, timed on the agent's clock (the moment it received "
    "them less their age by the host's clock; the host's own time, its clock's sync state and the offset between "
    "the two clocks are kept with each row). CPU steal, iowait and busy are shares of all CPU time since the "
    "previous reading (/proc/stat). CPU speed is a fixed single-threaded workload (zlib level 6 of the same 256 KiB) "
    "run back to back for half a second after a 0.1 s warm-up, as units per second of wall time; it is compared "
    "with the median of the machine's own first week of readings, and a reading during which the machine's own "
    "processes left the workload less than 0.9 of a core is counted apart (contended), never against the provider. "
    "Disk: write + fsync of 4 KiB, 20 times (p50 and p99 nearest rank), and a sequential write then read of a "
    "scratch file within a byte budget, with O_DIRECT where the file system allows. Memory total and available are "
    "the kernel's, cut to a cgroup limit where one applies. A poll that brings no reading (no answer, a wrong "
    "token, a malformed answer) is recorded as such and is never an outage of the target. SLA host terms are "
    "measured on one sample per reading: CPU steal, CPU speed (% of the baseline) and the fsync time's p99, and "
    "one sample of write or read throughput per throughput test."
)
HOST_METHOD_ZH = (
    "\n\n主机读数来自所租机器内部：`slaproof serve --host` 按自己的时间表采集读数，代理取回自上次保存以来的全部读数，并按代理时钟"
    "计时（收到的时刻减去按主机时钟计的读数年龄；主机自身的时间、其时钟同步状态以及两个时钟之间的偏差随每条记录保存）。CPU 窃取"
    "（steal）、I/O 等待和繁忙时间是自上一次读数以来全部 CPU 时间中的占比（/proc/stat）。CPU 速度为一个固定的单线程工作负载（对同样的"
    " 256 KiB 数据做 zlib 6 级压缩），在 0.1 秒预热后连续运行半秒，以每秒墙钟时间完成的单元数表示；它与机器自己第一周读数的中位数比较。"
    "机器自身的进程使该负载可用的 CPU 少于 0.9 个核心时，该读数单独计为“争用”，不计入服务商的责任。磁盘：写入 4 KiB 并 fsync，"
    "重复 20 次（按最近秩法取 p50 和 p99），并在字节预算内对临时文件顺序写入再读出，文件系统允许时使用 O_DIRECT。内存总量和可用量"
    "取自内核，如有 cgroup 限制则以其为上限。未取得读数的轮询（无应答、令牌错误、应答格式错误）会如实记录，但绝不算作目标的中断。"
    "SLA 主机条款按每个读数一个样本计算：CPU 窃取、CPU 速度（相对基线的百分比）和 fsync 时间的 p99，每次吞吐测试"
    "另计一个写入或读取吞吐量样本。"
)
