"""Labels of the report's host section (readings from inside the rented machine), English and Chinese.

Kept apart from i18n.py, which merges them into its table, so that file stays one screenful of
the network report's words.
"""

from __future__ import annotations

HOST_LABELS: dict[str, tuple[str, str]] = {
    "host.heading": ("Inside the machine: CPU, disk and memory", "机器内部：CPU、磁盘与内存"),
    "host.counts": (
        "{readings} readings taken by the machine itself ({first} to {last}); {failed} polls brought no reading "
        "(not outages of the target).",
        "机器自身采集了 {readings} 个读数（{first} 至 {last}）；{failed} 次轮询未取得读数（不算作目标的中断）。",
    ),
    "host.poll_errors": ("Polls without a reading, by cause", "未取得读数的轮询（按原因）"),
    "host.plan": ("Plan as advertised", "宣传的套餐"),
    "host.measured": ("Measured", "实测"),
    "host.vcpus": ("vCPUs", "vCPU 数"),
    "host.cpu_kind": ("CPU", "CPU 类型"),
    "host.memory": ("Memory (lowest total seen)", "内存（最低总量）"),
    "host.memory_pct": ("{pct} of the plan", "为套餐的 {pct}"),
    "host.disk": ("Disk", "磁盘"),
    "host.disk_mb_s": ("Disk throughput promised", "承诺的磁盘吞吐"),
    "host.disk_iops": ("Disk IOPS promised (not measured)", "承诺的磁盘 IOPS（未测量）"),
    "host.source": ("Plan source", "套餐出处"),
    "host.none": ("not stated", "未注明"),
    "host.dedicated": ("dedicated", "独享"),
    "host.shared": ("shared", "共享"),
    "host.figure": ("Figure", "指标"),
    "host.count": ("Readings", "读数"),
    "host.mean": ("Mean", "平均"),
    "host.min": ("Min", "最低"),
    "host.p5": ("p5", "p5"),
    "host.p50": ("p50", "p50"),
    "host.p95": ("p95", "p95"),
    "host.max": ("Max", "最高"),
    "host.steal": ("CPU steal (% of CPU time)", "CPU 窃取（占 CPU 时间 %）"),
    "host.iowait": ("I/O wait (% of CPU time)", "I/O 等待（占 CPU 时间 %）"),
    "host.busy": ("Busy (% of CPU time)", "繁忙（占 CPU 时间 %）"),
    "host.speed_pct": ("CPU speed (% of the first week)", "CPU 速度（相对第一周 %）"),
    "host.fsync_p50": ("fsync latency p50 (ms)", "fsync 延迟 p50（毫秒）"),
    "host.fsync_p99": ("fsync latency p99 (ms)", "fsync 延迟 p99（毫秒）"),
    "host.write": ("Sequential write (MB/s)", "顺序写入（MB/s）"),
    "host.read": ("Sequential read (MB/s)", "顺序读取（MB/s）"),
    "host.available": ("Memory available (MiB)", "可用内存（MiB）"),
    "host.baseline": (
        "CPU speed baseline: {units} units/s, the median of {n} uncontended readings from {start} to {end}.",
        "CPU 速度基线：每秒 {units} 个单元，取 {start} 至 {end} 期间 {n} 个无争用读数的中位数。",
    ),
    "host.no_baseline": (
        "No CPU speed baseline yet: {n} uncontended readings in the first week, {min} needed.",
        "尚无 CPU 速度基线：第一周只有 {n} 个无争用读数，至少需要 {min} 个。",
    ),
    "host.contended": (
        "{n} CPU speed readings were taken while the machine's own processes kept its vCPUs busy; they are counted "
        "apart, never against the provider.",
        "有 {n} 个 CPU 速度读数是在机器自身进程占用 vCPU 时采集的；它们单独计数，不计入服务商的责任。",
    ),
    "host.quota": ("A CPU quota of {cores} cores applies (cgroup); {n} readings were throttled.",
                   "存在 {cores} 个核心的 CPU 配额（cgroup）；{n} 个读数期间发生了限流。"),
    "host.write_below_plan": ("{n} of {total} throughput tests wrote slower than the promised {mb_s} MB/s.",
                              "{total} 次吞吐测试中有 {n} 次写入速度低于承诺的 {mb_s} MB/s。"),
    "host.disk_note": ("Disk tests on {fs}{direct}.", "磁盘测试所在文件系统：{fs}{direct}。"),
    "host.direct": (", past the page cache (O_DIRECT)", "，绕过页缓存（O_DIRECT）"),
    "host.buffered": (", through the page cache", "，经过页缓存"),
    "host.disk_errors": ("Disk test failures", "磁盘测试失败"),
    "host.clock": (
        "{n} readings were taken while the host's clock was not synchronised; the largest offset between the host's "
        "and the agent's clocks was {offset} ms (readings are timed on the agent's clock).",
        "有 {n} 个读数采集时主机时钟未同步；主机与代理时钟之间的最大偏差为 {offset} 毫秒（读数按代理时钟计时）。",
    ),
    "host.days": ("Day by day", "逐日"),
    "host.day": ("Day", "日期"),
    "host.day_steal": ("Steal mean / max %", "窃取 平均/最高 %"),
    "host.day_speed": ("Speed median / min %", "速度 中位/最低 %"),
    "host.day_fsync": ("fsync p99 max ms", "fsync p99 最高 毫秒"),
    "host.day_write": ("Write min MB/s", "写入最低 MB/s"),
    "host.terms": ("Host terms of the SLA", "SLA 中的主机条款"),
    "host.term_line": ("{metric} {statistic} {comparator} {threshold}: measured {measured}, {state}",
                       "{metric} {statistic} {comparator} {threshold}：实测 {measured}，{state}"),
    "host.term_met": ("met", "达标"),
    "host.term_breached": ("breached", "违约"),
    "host.term_unknown": ("not decided (no samples, or too close to call)", "无法判定（无样本或过于接近阈值）"),
    "chart.host": ("Inside the machine: steal, CPU speed, disk", "机器内部：窃取、CPU 速度、磁盘"),
    "ax.steal": ("Steal %", "窃取 %"),
    "ax.speed": ("Speed %", "速度 %"),
    "ax.fsync": ("fsync p99 ms", "fsync p99 毫秒"),
    "ax.write": ("Write MB/s", "写入 MB/s"),
    "leg.steal": ("CPU steal", "CPU 窃取"),
    "leg.speed": ("CPU speed, % of the first week", "CPU 速度（相对第一周 %）"),
    "leg.fsync": ("fsync p99", "fsync p99"),
    "leg.write": ("sequential write", "顺序写入"),
}
