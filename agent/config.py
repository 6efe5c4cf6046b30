"""The configuration: one TOML file, checked whole before anything starts.

Loaded with pydantic-settings: the file gives the values, environment variables
``SLAPROOF_<SECTION>__<KEY>`` override them (``SLAPROOF_AGENT__LOG_LEVEL=DEBUG``).
A bad file raises :class:`ConfigError` whose message names the file, the key
path and what is wrong, so the CLI can print it and exit 2.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agent.core import secrets
from agent.core.errors import ConfigError
from agent.upstream_settings import UpstreamSettings

ENV_CONFIG = "SLAPROOF_CONFIG"
DEFAULT_CONFIG_PATHS = (Path("/etc/slaproof/config.toml"),)



def http_url(v: str) -> str:
    """``v`` when it is an http(s) URL with a host (an HTTP check's, a host responder's); else a ValueError."""
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{v!r} is not an http:// or https:// URL with a host")
    return v

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IcmpCheck(_Strict):
    """Echo requests; RTT from kernel receive timestamps."""

    kind: Literal["icmp"] = "icmp"
    count: int = Field(3, ge=1, le=100, description="echo requests per round")
    spacing_s: float = Field(0.2, ge=0.0, le=10.0, description="gap between requests")
    timeout_s: float = Field(1.0, gt=0.0, le=30.0, description="wait for each reply")
    payload_size: int = Field(56, ge=0, le=65000, description="ICMP payload bytes")


class TcpCheck(_Strict):
    """Connect time to host:port."""

    kind: Literal["tcp"] = "tcp"
    port: int = Field(ge=1, le=65535)
    timeout_s: float = Field(5.0, gt=0.0, le=120.0)


class HttpCheck(_Strict):
    """One HTTP(S) request with timings, status and an optional body keyword."""

    kind: Literal["http"] = "http"
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    expect_status: list[int] = Field(default_factory=list, description="empty: 200-399")
    keyword: str | None = None
    timeout_s: float = Field(10.0, gt=0.0, le=300.0)
    verify_tls: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return http_url(v)


class BandwidthCheck(_Strict):
    """Throughput: HTTP download/upload or iperf3; long interval, traffic budget."""

    kind: Literal["bandwidth"] = "bandwidth"
    mode: Literal["http_download", "http_upload", "iperf3"] = "http_download"
    url: str | None = None
    host: str | None = None
    port: int = Field(5201, ge=1, le=65535)
    direction: Literal["download", "upload", "both"] = "download"
    streams: int = Field(4, ge=1, le=64)
    warmup_s: float = Field(1.0, ge=0.0, le=60.0)
    warmup_bytes: int | None = Field(None, gt=0, description="if set, warm-up ends after this many bytes instead")
    sample_interval_s: float = Field(0.25, gt=0.0, le=10.0)
    max_bytes: int = Field(100_000_000, gt=0)
    max_seconds: float = Field(10.0, gt=0.0, le=600.0)
    timeout_s: float = Field(5.0, gt=0.0, le=120.0, description="connect, and each read or write")
    verify_tls: bool = True
    token: str | None = None
    interval_s: float = Field(3600.0, ge=60.0, description="bandwidth runs on its own, long interval")
    jitter_s: float = Field(300.0, ge=0.0)

    @model_validator(mode="after")
    def _needs(self) -> BandwidthCheck:
        if self.mode in ("http_download", "http_upload") and not self.url:
            raise ValueError(f"mode {self.mode!r} needs url")
        if self.mode == "iperf3" and not self.host:
            raise ValueError("mode 'iperf3' needs host")
        return self


class HostCheck(_Strict):
    """The rented machine's own readings, fetched from `slaproof serve --host` (docs/host.md)."""

    kind: Literal["host"] = "host"
    url: str = Field(description="the responder's base URL, http(s)://HOST:PORT")
    token: str | None = None
    interval_s: float = Field(600.0, ge=60.0, le=86400.0, description="polls on its own interval; each brings every reading since the last")
    timeout_s: float = Field(10.0, gt=0.0, le=120.0, description="for the whole answer")
    verify_tls: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(http_url(v))
        if parts.query or parts.username or parts.password:
            raise ValueError("give the responder's base URL without a query or credentials; put the token in token")
        return v


# Checks that run on an interval of their own, apart from the target's rounds (never an outage by themselves).
OWN_SCHEDULE = (BandwidthCheck, HostCheck)

Check = Annotated[IcmpCheck | TcpCheck | HttpCheck | BandwidthCheck | HostCheck, Field(discriminator="kind")]


class Plan(_Strict):
    """The machine as advertised: what host readings are compared with (docs/host.md)."""

    vcpus: int | None = Field(None, ge=1, le=4096)
    cpu: Literal["dedicated", "shared"] | None = None
    memory_mb: float | None = Field(None, gt=0)
    disk_type: Literal["hdd", "ssd", "nvme", "network"] | None = None
    disk_gb: float | None = Field(None, gt=0)
    disk_iops: int | None = Field(None, gt=0, description="promised IOPS, if the plan names them")
    disk_mb_s: float | None = Field(None, gt=0, description="promised disk throughput in MB/s, if the plan names it")
    source: str | None = Field(None, description="where the plan is advertised: the order page or the product page")


class Thresholds(_Strict):
    """Past these for a sustained window, a target is 'degraded'."""

    rtt_ms_max: float | None = Field(None, gt=0)
    loss_pct_max: float | None = Field(None, ge=0, le=100)
    sustain_s: float = Field(300.0, gt=0)


class Budget(_Strict):
    """Traffic the bandwidth checks may use, so the agent never eats the quota."""

    day_mb: float | None = Field(None, gt=0)
    month_mb: float | None = Field(None, gt=0)


class Target(_Strict):
    name: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=1)
    provider: str | None = None
    interval_s: float | None = Field(None, ge=1.0, le=86400.0)
    control: bool = False
    checks: list[Check] = Field(min_length=1)
    thresholds: Thresholds = Thresholds()
    budget: Budget = Budget()
    sla: dict[str, Any] | None = None
    plan: Plan | None = None
    monthly_fee: float | None = Field(None, ge=0)
    currency: str | None = None
    service_name: str | None = Field(None, description="the provider's name for the service (letters)")
    service_id: str | None = Field(None, description="the provider's id of the service: instance id, order number (letters)")

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        if any(c.isspace() for c in v) or "/" in v:
            raise ValueError(f"{v!r} is not a host name or an IP address")
        return v.strip("[]")


class Customer(_Strict):
    """Who complains: printed in complaint letters (placeholders where unset)."""

    name: str | None = None
    account_id: str | None = None
    contract_id: str | None = None
    email: str | None = None
    phone: str | None = None


def _http_url(v: str) -> str:
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{v!r} is not an http:// or https:// URL with a host")
    return v


class Witness(_Strict):
    """A `slaproof serve --witness` that countersigns checkpoints (docs/checkpoints.md)."""

    url: str
    key: str = Field(description="the witness's verifier key, as `slaproof serve --witness` prints it")

    _url = field_validator("url")(_http_url)


class CheckpointSettings(_Strict):
    """Signed checkpoints of the hash chain (docs/checkpoints.md)."""

    enabled: bool = True
    every_minutes: float = Field(10.0, gt=0, le=1440)
    key_file: str | None = Field(None, description="the agent's Ed25519 private key; default state_dir/agent.key")
    witnesses: list[Witness] = Field(default_factory=list)
    witness_timeout_s: float = Field(5.0, gt=0, le=60)


class TimestampSettings(_Strict):
    """RFC 3161 Time-Stamp Authorities that stamp the checkpoints (docs/verify.md)."""

    urls: list[str] = Field(default_factory=list, description="empty: no trusted timestamps")
    every_minutes: float = Field(60.0, gt=0, le=1440)
    ca_file: str | None = Field(None, description="PEM file of the TSAs' root certificates; default the system's CA bundle")
    timeout_s: float = Field(10.0, gt=0, le=120)

    @field_validator("urls")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        return [_http_url(u) for u in v]


AlertEvent = Literal["incident_confirmed", "still_down", "recovered", "local_outage", "sla_tier", "claim_deadline",
                     "cert_expiry", "budget_reached"]
# The agent's own outage (local_outage) is off by default: it is not the provider's.
DEFAULT_ALERT_EVENTS: tuple[AlertEvent, ...] = ("incident_confirmed", "still_down", "recovered", "sla_tier", "claim_deadline",
                                                "cert_expiry", "budget_reached")


class AlertRoute(_Strict):
    """One `[[agent.alerts]]` destination: an apprise URL (mail, webhook, Telegram, DingTalk, …; docs/alerts.md).

    The URL usually holds a secret, so it may come from a file (``url_file``) or an
    environment variable (``url_env``) instead of the config; it is masked wherever it could show."""

    name: str | None = Field(None, max_length=60, description="shown in the alert log instead of the masked URL")
    url: str | None = None
    url_file: str | None = Field(None, description="a file whose first line is the URL (mode 600)")
    url_env: str | None = Field(None, description="an environment variable holding the URL")
    events: list[AlertEvent] = Field(default_factory=lambda: list(DEFAULT_ALERT_EVENTS))
    language: Literal["en", "zh"] = "en"
    max_per_hour: int = Field(30, ge=1, le=3600, description="rate limit of this destination; beyond it messages wait")

    @model_validator(mode="after")
    def _one_source(self) -> AlertRoute:
        given = [k for k in ("url", "url_file", "url_env") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of url, url_file, url_env" + (f" (got {', '.join(given)})" if given else ""))
        return self

    def resolve_url(self) -> str:
        """The URL itself: from the config, the file or the environment (ConfigError naming the source if missing)."""
        if self.url:
            return self.url.strip()
        if self.url_file:
            try:
                lines = Path(self.url_file).expanduser().read_text(encoding="utf-8").strip().splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise ConfigError(f"url_file {self.url_file}: cannot read: {getattr(e, 'strerror', None) or e}") from None
            if not lines or not lines[0].strip():
                raise ConfigError(f"url_file {self.url_file}: empty; write the apprise URL on its first line")
            return lines[0].strip()
        value = os.environ.get(self.url_env or "", "").strip()
        if not value:
            raise ConfigError(f"url_env {self.url_env}: the environment variable is not set or empty")
        return value


class AlertPolicy(_Strict):
    """When alerts and log lines speak (`[agent.alerting]`, docs/alerts.md)."""

    still_down_every_min: float = Field(30.0, ge=1, le=1440, description="a 'still down' message every this many minutes")
    cert_days: int = Field(14, ge=1, le=365, description="warn when a certificate expires within this many days")
    claim_days: int = Field(7, ge=1, le=90, description="warn this many days before an unclaimed breach's claim deadline")
    sla_margin_min: float = Field(30.0, gt=0, le=10080, description="warn when counted downtime is this close to the next credit tier")
    sla_every_min: float = Field(15.0, ge=1, le=1440, description="how often the month's SLA standing is computed")
    retries: int = Field(6, ge=0, le=50, description="delivery attempts after the first, with doubling back-off")
    retry_first_s: float = Field(5.0, gt=0, le=3600)
    retry_max_s: float = Field(600.0, gt=0, le=86400)
    timeout_s: float = Field(15.0, gt=0, le=300, description="one delivery attempt")


class MetricsSettings(_Strict):
    """Prometheus /metrics (docs/alerts.md#metrics): off by default; loopback when on."""

    enabled: bool = False
    listen: str = Field("127.0.0.1:9464", description="ADDR:PORT; 0.0.0.0:PORT exposes it to the network")

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        host, sep, port = v.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{v!r} is not ADDR:PORT (e.g. 127.0.0.1:9464)")
        return v


class AgentSettings(_Strict):
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in state_dir")
    state_dir: str | None = Field(None, description="default: $STATE_DIRECTORY, /var/lib/slaproof as root, else ~/.local/state/slaproof")
    timezone: str | None = Field(None, description="display time zone; default the system's")
    interval_s: float = Field(30.0, ge=1.0, le=86400.0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    vantage: str | None = Field(None, description="where the agent runs, printed on reports")
    network: str | None = Field(None, description="the agent's own network (ISP, AS), printed on reports")
    batch_s: float = Field(1.0, gt=0, le=60, description="how often pending rows are committed")
    heartbeat_s: float = Field(10.0, ge=1, le=300)
    open_after: int = Field(2, ge=1, le=100, description="failed rounds before an incident opens")
    merge_gap_s: float | None = Field(None, ge=0)
    evidence_on_incident: bool = True
    budget: Budget = Field(Budget(day_mb=3000, month_mb=50000),
                           description="agent-wide cap on bandwidth-check traffic; set a key to a larger value to raise it")
    customer: Customer = Customer()
    spool_dirs: list[str] = Field(default_factory=list,
                                  description="where the journal goes when state_dir cannot be written (a full disk): "
                                              "folders on other file systems, tried in order")
    max_queued_rows: int = Field(50_000, ge=100, le=10_000_000,
                                 description="rows kept in memory when no journal folder can be written; beyond, they are lost and counted")
    secret_names: list[str] = Field(default_factory=list,
                                    description="more URL query and settings names whose values are secret (token, key, password, "
                                                "secret, sig, auth are always)")
    checkpoints: CheckpointSettings = CheckpointSettings()
    timestamp: TimestampSettings = TimestampSettings()
    alerts: list[AlertRoute] = Field(default_factory=list, description="[[agent.alerts]]: where alerts go")
    alerting: AlertPolicy = AlertPolicy()
    metrics: MetricsSettings = MetricsSettings()
    upstream: UpstreamSettings | None = Field(None, description="[agent.upstream]: forward rows to a fleet's central database")
    quorum: int | None = Field(None, ge=1, le=100, description="vantage points that must see an outage at once to confirm it; default a majority")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r}; use an IANA name such as 'Asia/Shanghai' or 'UTC'") from None
        return v


class Settings(BaseSettings):
    """The whole file. Environment variables override file values."""

    model_config = SettingsConfigDict(
        env_prefix="SLAPROOF_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    agent: AgentSettings = AgentSettings()
    targets: list[Target] = Field(default_factory=list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file arrives as init kwargs; the environment must win over it.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _alerts(self) -> Settings:
        problems = []
        for i, route in enumerate(self.agent.alerts):
            try:
                check_apprise_url(route.resolve_url())
            except ConfigError as e:
                problems.append(f"agent.alerts[{i}].{_source_key(route)}: {e}")
        if problems:
            raise ValueError("\n  ".join(problems))
        return self

    @model_validator(mode="after")
    def _unique(self) -> Settings:
        seen: dict[str, int] = {}
        for i, t in enumerate(self.targets):
            if t.name in seen:
                raise ValueError(f"duplicate target name {t.name!r} (targets[{seen[t.name]}] and targets[{i}])")
            seen[t.name] = i
        for i, t in enumerate(self.targets):
            if t.sla is not None:
                from reports.presets import resolve

                try:
                    resolve(dict(t.sla))
                except ConfigError as e:
                    raise ValueError(f"targets[{i}] (name {t.name!r}).sla: {e}") from None
        return self

    # -- derived values -------------------------------------------------
    def interval_of(self, target: Target) -> float:
        return target.interval_s or self.agent.interval_s

    def display_tz(self) -> ZoneInfo:
        if self.agent.timezone:
            return ZoneInfo(self.agent.timezone)
        return system_timezone()

    def state_dir(self) -> Path:
        if self.agent.state_dir:
            return Path(self.agent.state_dir).expanduser()
        if os.environ.get("STATE_DIRECTORY"):
            return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
        if os.geteuid() == 0:
            return Path("/var/lib/slaproof")
        return Path.home() / ".local" / "state" / "slaproof"

    def journal_dirs(self) -> list[Path]:
        """Where rounds are journaled, in order of preference (agent/journal.py): the state
        directory, the configured spool folders, then systemd's RuntimeDirectory (a tmpfs:
        survives a restart, not a reboot) when the unit gives one."""
        dirs = [self.state_dir() / "journal", *(Path(d).expanduser() for d in self.agent.spool_dirs)]
        runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
        if runtime:
            dirs.append(Path(runtime) / "journal")
        out: list[Path] = []
        for d in dirs:
            if d not in out:
                out.append(d)
        return out

    def database_url(self) -> str:
        if self.agent.database_url:
            return self.agent.database_url
        return f"sqlite:///{self.state_dir() / 'slaproof.db'}"

    def target(self, name: str) -> Target:
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(name)

    def fingerprint(self) -> str:
        """A stable hash of the effective settings, stored with each run."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def _source_key(route: AlertRoute) -> str:
    return "url" if route.url else "url_file" if route.url_file else "url_env"


def check_apprise_url(url: str) -> None:
    """ConfigError unless apprise knows the URL (its scheme, and the parts that scheme needs). Never echoes the URL."""
    import apprise

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme:
        raise ConfigError("not an apprise URL (SCHEME://…, e.g. mailto://, json://, tgram://); see docs/alerts.md")
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        raise ConfigError(f"apprise cannot use this {scheme}:// URL (unknown scheme, or a part it needs is missing); "
                          "see docs/alerts.md and the apprise wiki for the form")


def apprise_secret_parts(url: str) -> list[str]:
    """The pieces of an alert URL that apprise hides in its privacy form (passwords, tokens, keys), with
    the URL's own user-info and secret-named query values: to register them as secrets."""
    import apprise

    found = secrets.secrets_in_url(url)
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return found
    shown = set(_URL_TOKENS.split(unquote(str(plugin.url(privacy=True)))))  # type: ignore[no-untyped-call]  # apprise has no annotations
    return found + [p for p in _URL_TOKENS.split(unquote(url.split("://", 1)[-1]))
                    if p and p not in shown and len(p) >= secrets.MIN_VALUE_LEN]


_URL_TOKENS = re.compile(r"[/:@?&=#]+")


def system_timezone() -> ZoneInfo:
    """The machine's zone: $TZ, /etc/timezone, /etc/localtime's link, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            name = Path("/etc/timezone").read_text().strip()
        except OSError:
            name = ""
    if not name:
        try:
            link = os.readlink("/etc/localtime")
            name = link.split("zoneinfo/", 1)[1] if "zoneinfo/" in link else ""
        except OSError:
            name = ""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """Which file: --config, else $SLAPROOF_CONFIG, else /etc/slaproof/config.toml."""
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG])
    for p in DEFAULT_CONFIG_PATHS:
        if p.exists():
            return p
    raise ConfigError(
        "no configuration file given: pass --config PATH, set SLAPROOF_CONFIG, "
        "or write one with 'slaproof init /etc/slaproof/config.toml'"
    )


def _loc(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """Render a pydantic error location as a key path, naming targets by name."""
    out = ""
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and part < len(node):
                node = node[part]
                if isinstance(node, dict) and "name" in node and out.endswith("targets"):
                    label = f"[{part}] (name {node['name']!r})"
            else:
                node = None
            out += label
        else:
            if part in ("icmp", "tcp", "http", "bandwidth", "host") and out.endswith("]"):
                continue  # discriminator tag: the kind is already in the data
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def format_validation_error(path: Path, err: ValidationError, data: dict[str, Any]) -> str:
    lines = [f"{path}: invalid configuration ({err.error_count()} problem{'s' if err.error_count() != 1 else ''}):"]
    for e in err.errors():
        key = _loc(tuple(e["loc"]), data)
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; config.example.toml lists every key)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif e["type"] == "union_tag_invalid":
            msg = f"unknown check kind {e.get('input', {}).get('kind')!r}; use icmp, tcp, http, bandwidth or host"
        elif e["type"] == "union_tag_not_found":
            msg = "each check needs kind = \"icmp\" | \"tcp\" | \"http\" | \"bandwidth\" | \"host\""
        got = e.get("input")
        if e["type"] not in ("missing", "union_tag_not_found") and not isinstance(got, (dict, list)):
            last = str(e["loc"][-1]) if e["loc"] else ""
            msg += f" (got {secrets.SET})" if secrets.secret_name(last) and got else f" (got {secrets.mask_text(repr(got))})"
        msg = secrets.mask_text(msg.removeprefix("Value error, "))
        lines.append(f"  {msg}" if key == "(top level)" and msg.startswith(("targets[", "agent.")) else f"  {key}: {msg}")
    return "\n".join(lines)


def parse_config(text: str, path: Path) -> Settings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    names = data.get("agent", {}).get("secret_names", []) if isinstance(data.get("agent"), dict) else []
    secrets.configure(names=[n for n in names if isinstance(n, str)] if isinstance(names, list) else [])
    try:
        settings = Settings(**data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(path, e, data)) from None
    register_secrets(settings)
    return settings


def register_secrets(settings: Settings) -> None:
    """Tell agent/core/secrets.py every secret this configuration holds, so no output shows one."""
    names = settings.agent.secret_names
    secrets.configure(names=names)
    alert_parts = [p for route in settings.agent.alerts for p in apprise_secret_parts(route.resolve_url())]
    secrets.configure(names=names, values=[*secrets.secrets_in(settings.model_dump(mode="json")), *alert_parts])


def load_config(explicit: str | os.PathLike[str] | None = None) -> tuple[Settings, Path]:
    """Read and check the file; raise ConfigError with a fixable message."""
    path = config_path(explicit)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; write one with 'slaproof init {path}'") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    return parse_config(text, path), path
