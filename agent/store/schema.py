"""Tables. Times are BIGINT microseconds since the Unix epoch, UTC: exact, compact, and
the same on SQLite and PostgreSQL. Latencies are integer nanoseconds for the same reasons.

The measurements table is the evidence; it is append-only. Each row carries a
SHA-256 chained to the previous row of the same agent (see agent/store/chain.py).
Kind-specific figures that have no column go into ``detail`` (JSON text).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

agents = Table(
    "agents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", Text, nullable=False, unique=True),
    Column("created_us", BigInteger, nullable=False),
    Column("hostname", Text, nullable=False),
)

targets = Table(
    "targets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("provider", Text),
    Column("control", Boolean, nullable=False, default=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("agent_id", "name", name="uq_targets_agent_name"),
)

# A check row is one (target, kind, settings) combination. When settings change, a
# new row is made, so every measurement stays tied to the settings that produced it.
checks = Table(
    "checks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target_id", Integer, ForeignKey("targets.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("settings", Text, nullable=False),
    Column("settings_hash", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("target_id", "kind", "settings_hash", name="uq_checks_identity"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("ended_us", BigInteger),
    Column("last_seen_us", BigInteger),
    Column("stop", Text),  # NULL running, 'clean', 'unclean'
    Column("version", Text, nullable=False),
    Column("hostname", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("config_hash", Text),
    Column("note", Text),
)

measurements = Table(
    "measurements",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("ts_us", BigInteger, nullable=False),  # when the check started (UTC µs)
    Column("check_id", Integer, ForeignKey("checks.id"), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("lag_us", Integer),  # start minus scheduled time; scheduled = ts - lag
    Column("rtt_ns", BigInteger),
    Column("rtt_min_ns", BigInteger),
    Column("rtt_max_ns", BigInteger),
    Column("jitter_ns", BigInteger),
    Column("sent", SmallInteger),
    Column("received", SmallInteger),
    Column("status", SmallInteger),
    Column("error_class", Text),
    Column("error", Text),
    Column("detail", Text),
    Column("imported", Boolean, nullable=False, default=False),
    Column("hash", LargeBinary, nullable=False),
)
# Covering index: a report's pass over one target reads only this index, in time order,
# never the table (whose pages interleave every target). Its key is (check, time); the
# rest are the figures the analysis needs.
Index("ix_measurements_check_ts", measurements.c.check_id, measurements.c.ts_us, measurements.c.lag_us, measurements.c.ok,
      measurements.c.rtt_ns, measurements.c.sent, measurements.c.received, measurements.c.status, measurements.c.error_class)

# Evidence taken when an incident opens (traceroutes, failing HTTP responses).
evidence = Table(
    "evidence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ts_us", BigInteger, nullable=False),
    Column("target_id", Integer, ForeignKey("targets.id"), nullable=False),
    Column("about_target_id", Integer, ForeignKey("targets.id")),
    Column("kind", Text, nullable=False),
    Column("measurement_id", BigInteger),
    Column("content", Text, nullable=False),
    Column("sha256", Text, nullable=False),
)
Index("ix_evidence_target_ts", evidence.c.target_id, evidence.c.ts_us)

# -- proof (docs/checkpoints.md): keys, signed checkpoints, RFC 3161 tokens, clock state ----------
# The agent's public keys, one row per key epoch: a lost key starts a new epoch, and reports say so.
agent_keys = Table(
    "agent_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("vkey", Text, nullable=False),  # signed-note verifier key: name+keyid+base64(0x01||key)
    Column("fingerprint", Text, nullable=False),  # SHA-256 of the raw public key, hex
    Column("created_us", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("announcement", Text),  # signed note naming the key (signed by the old key too when it was at hand)
    UniqueConstraint("agent_id", "epoch", name="uq_agent_keys_epoch"),
)

# Signed checkpoints: the note is the evidence; size and head_row_id are unsigned hints for finding rows.
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("ts_us", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("head_row_id", BigInteger),
    Column("note", Text, nullable=False),
    Column("reason", Text, nullable=False),  # periodic, stop, report
)
Index("ix_checkpoints_agent_size", checkpoints.c.agent_id, checkpoints.c.size)

# RFC 3161 tokens, each over one checkpoint's note (and so over every row before it).
timestamps = Table(
    "timestamps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("checkpoint_id", Integer, ForeignKey("checkpoints.id"), nullable=False),
    Column("tsa_url", Text, nullable=False),  # without credentials
    Column("authority", Text, nullable=False),  # the signing certificate's subject
    Column("gen_time_us", BigInteger, nullable=False),
    Column("received_us", BigInteger, nullable=False),
    Column("token", LargeBinary, nullable=False),  # the TimeStampResp DER (`openssl ts -verify -in`)
)
Index("ix_timestamps_checkpoint", timestamps.c.checkpoint_id)

# The kernel's clock state, summed over spans of heartbeats (one row per change or checkpoint interval).
clock_spans = Table(
    "clock_spans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    Column("synced", Boolean),  # NULL: unknown
    Column("maxerror_us", BigInteger),  # the largest of the span
    Column("esterror_us", BigInteger),
    Column("samples", Integer, nullable=False),
)
Index("ix_clock_spans_agent_start", clock_spans.c.agent_id, clock_spans.c.start_us)

# Steps of the wall clock against the monotonic clock, seen between two heartbeats.
clock_steps = Table(
    "clock_steps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("ts_us", BigInteger, nullable=False),  # wall clock after the step
    Column("step_us", BigInteger, nullable=False),  # positive: jumped forward
)
Index("ix_clock_steps_agent_ts", clock_steps.c.agent_id, clock_steps.c.ts_us)

# -- alerts (docs/alerts.md): every alert delivered or given up on, so a report can show when the user was told ----------
alert_log = Table(
    "alert_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("event_us", BigInteger, nullable=False),  # when what the alert is about happened
    Column("queued_us", BigInteger, nullable=False),
    Column("done_us", BigInteger, nullable=False),  # delivered, or given up
    Column("kind", Text, nullable=False),  # incident_confirmed, recovered, …
    Column("target_id", Integer, ForeignKey("targets.id")),
    Column("dedup_key", Text, nullable=False),
    Column("destination", Text, nullable=False),  # the route's name or its masked URL: never a secret
    Column("language", Text, nullable=False),
    Column("status", Text, nullable=False),  # sent | failed | dropped
    Column("attempts", Integer, nullable=False),
    Column("error", Text),  # masked
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
)
Index("ix_alert_log_target_event", alert_log.c.target_id, alert_log.c.event_us)

# -- fleet ingest (docs/fleet.md): in a central database, each forwarding agent's place in its chain ----------
upstream_agents = Table(
    "upstream_agents",
    metadata,
    Column("agent_id", Integer, ForeignKey("agents.id"), primary_key=True),
    Column("name", Text, nullable=False),  # the agent's name (agent.vantage, else its host name); unique among agents
    Column("last_seq", BigInteger, nullable=False),  # the agent's local row id of the last row taken (0: none)
    Column("last_hash", LargeBinary),  # that row's chain hash: the next row must link to it
    Column("head_seq", BigInteger, nullable=False),  # the agent's newest local row at its last contact (backlog)
    Column("rows_received", BigInteger, nullable=False),
    Column("first_contact_us", BigInteger, nullable=False),
    Column("last_contact_us", BigInteger, nullable=False),
    Column("clock_offset_us", BigInteger),  # central clock minus the agent's, at the last contact (rough: one way)
    Column("clock_synced", Boolean),  # the agent's kernel said its clock was synchronised; NULL unknown
)

# Every row or batch the central database refused: a row that does not link, an agent id used by two hosts.
upstream_refusals = Table(
    "upstream_refusals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_uuid", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("seq", BigInteger),  # the refused row's local id; NULL for a refused batch
    Column("received_us", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("row", Text),  # the refused row as sent (JSON), for whoever investigates
)
Index("ix_upstream_refusals_agent", upstream_refusals.c.agent_uuid, upstream_refusals.c.received_us)
