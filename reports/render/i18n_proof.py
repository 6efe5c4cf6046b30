"""Labels of the report's proof section (signatures, independent time, the clock), English and Chinese.

Merged into i18n.py's table like the host section's labels.
"""

from __future__ import annotations

PROOF_LABELS: dict[str, tuple[str, str]] = {
    "proof.heading": ("Proof of integrity and time", "完整性与时间证明"),
    "proof.intro": (
        "What a third party can check without trusting whoever holds the database: the agent signs its hash chain "
        "at regular checkpoints with its own key, independent time-stamp authorities date the checkpoints "
        "(RFC 3161), and every heartbeat records the state of the kernel's clock. The folder proof/ of this bundle "
        "holds them; slaproof verify checks the bundle against them without the database, and docs/verify.md "
        "shows how to check them with openssl and a short script instead.",
        "以下内容可由不信任数据库持有人的第三方核验：代理以自己的密钥定期对哈希链签名（检查点），独立的时间戳机构为检查点"
        "加盖时间戳（RFC 3161），每次心跳都记录内核时钟的状态。本报告目录中的 proof/ 保存这些材料；slaproof verify "
        "无需数据库即可据此核验本报告的数据。",
    ),
    "proof.key": ("Agent key (SHA-256 of the public key)", "代理密钥（公钥的 SHA-256 指纹）"),
    "proof.key_none": ("no key recorded for this agent", "没有此代理的密钥记录"),
    "proof.key_changed": ("the key changed during the period: each key signed its own checkpoints",
                          "统计时段内更换过密钥：各密钥只签署其在用期间的检查点"),
    "proof.checkpoints": ("Signed checkpoints", "签名检查点"),
    "proof.signed_all": ("{n} signed in the period; every row of the period is under a signature (newest checkpoint {at})",
                         "统计时段内签署 {n} 个；本时段的每一行数据都受签名保护（最新检查点 {at}）"),
    "proof.signed_until": ("{n} signed in the period; rows measured before {at} are under a signature, later ones are not yet",
                           "统计时段内签署 {n} 个；{at} 之前测得的数据行受签名保护，之后的尚未签署"),
    "proof.signed_none": ("none: no row of this period is under a signed checkpoint",
                          "无：本时段没有任何数据行受签名检查点保护"),
    "proof.stamps": ("Independent time (RFC 3161)", "独立时间戳（RFC 3161）"),
    "proof.stamp_line": ("{authority}: {tokens} tokens dating the rows measured from {start} to {end}; the longest wait "
                         "between a row and its token was {delay}",
                         "{authority}：{tokens} 个时间戳，覆盖 {start} 至 {end} 测得的数据行；数据行与其时间戳之间最长相隔 {delay}"),
    "proof.stamps_none": ("none: no time-stamp authority has dated this period's rows",
                          "无：没有时间戳机构为本时段的数据行加盖时间戳"),
    "proof.clock": ("Clock", "时钟"),
    "proof.clock_state": ("synchronised for {synced} of the {recorded} with a record; largest error bound while "
                          "synchronised {error}; no record for {unknown}",
                          "有记录的 {recorded} 中 {synced} 处于同步状态；同步时最大误差界 {error}；{unknown} 无记录"),
    "proof.clock_readings": ("single readings only, no span of time with a record: each is listed below",
                             "只有零星读数，没有成段的记录：逐项列于下方"),
    "proof.clock_none": ("no record of the clock's state in this period", "本时段没有时钟状态的记录"),
    "proof.error_unknown": ("not reported", "未报告"),
    "proof.unsynced": ("Spans with the clock not synchronised", "时钟未同步的时段"),
    "proof.steps": ("Steps of the wall clock", "系统时钟的跳变"),
    "proof.col_from": ("From", "起"),
    "proof.col_to": ("To", "止"),
    "proof.col_error": ("Largest error bound", "最大误差界"),
    "proof.col_at": ("Seen at", "发现时间"),
    "proof.col_step": ("Step", "跳变"),
    "proof.steps_note": ("A step moves the wall clock; incident times are shown as recorded, with the step beside them.",
                         "跳变使系统时钟移动；事件时间按记录显示，跳变列于此处供对照。"),
    "proof.more": ("… and {n} more in proof/statement.json", "……另有 {n} 项，见 proof 文件夹中的 statement.json"),
}
