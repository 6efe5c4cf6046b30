"""SLA definitions: every preset loads and cites its provider, overrides merge, bad configuration names its key."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reports.analysis.model import Span, State
from reports.analysis.sla import evaluate
from reports.analysis.sla_terms import Confidence, SlaConfigError, SlaDefinition
from reports.presets import list_presets, load_preset, resolve
from reports.render.sla_text import format_preset_list, format_text

REPO = Path(__file__).resolve().parents[1]
# The provider's own domain: a preset cites the provider's page, never a copy elsewhere.
PROVIDER_DOMAINS = {
    "Amazon Web Services": "aws.amazon.com",
    "Google Cloud": "cloud.google.com",
    "Microsoft Azure": "azure.microsoft.com",
    "DigitalOcean": "digitalocean.com",
    "Vultr": "vultr.com",
    "Hetzner Online": "hetzner.com",
    "Alibaba Cloud": "alibabacloud.com",
    "Oracle": "oracle.com",
    "OVHcloud": "ovhcloud.com",
    "Akamai (Linode)": "linode.com",
}
EXAMPLE = "generic-99.9"

REQUIRED = {
    "aws-ec2-instance", "aws-ec2-region", "gce-single-instance", "gce-multi-zone",
    "azure-vm-single-premium-ssd", "digitalocean-droplet", "vultr-instance", "hetzner-cloud",
    "alibaba-ecs-single", "generic-99.9", "oracle-oci", "ovhcloud-public-cloud", "linode-compute",
}


def test_required_presets_ship() -> None:
    assert set(list_presets()) >= REQUIRED


@pytest.mark.parametrize("preset_id", list_presets())
def test_every_preset_is_valid_and_sourced(preset_id: str) -> None:
    d = load_preset(preset_id)
    assert d.id == preset_id and d.preset == preset_id
    assert d.terms_date
    if preset_id != "generic-99.9":
        assert d.sources, "a provider preset must name its source"
        # The uptime target is the one fact every provider preset states; it must carry a mark.
        assert "uptime_target_pct" in d.confidence
    assert d.uptime_target_pct is not None


def test_percentages_stay_exact_decimals() -> None:
    # Parsed with Decimal, not float: 99.99 is exactly 99.99.
    d = load_preset("aws-ec2-region")
    assert d.uptime_target_pct == Decimal("99.99")
    assert d.credit.tiers[0].lt == Decimal("99.99")


def test_marks_follow_what_was_read() -> None:
    aws = load_preset("aws-ec2-instance")
    assert aws.confidence_of("credit.tiers") is Confidence.VERBATIM
    assert aws.confidence_of("counting.window_s") is Confidence.SECONDARY  # per minute: only a secondary page
    assert aws.confidence_of("claim.evidence") is Confidence.VERBATIM  # via the "claim" table mark
    gce = load_preset("gce-single-instance")
    assert gce.confidence_of("credit.tiers") is Confidence.SECONDARY
    assert gce.counting.min_outage_s == 60 and not gce.counting.min_outage_strict
    ali = load_preset("alibaba-ecs-single")
    assert ali.counting.min_outage_s == 60 and ali.counting.min_outage_strict  # "more than 1 minute"
    assert ali.credit.mode == "unknown"  # tier bounds not found: none invented
    assert load_preset("linode-compute").claim.anchor == "unknown"  # type: ignore[union-attr]


def test_preset_with_deep_merged_overrides() -> None:
    d = resolve({"preset": "aws-ec2-instance", "period": {"timezone": "Asia/Shanghai"}, "billing": {"monthly_fee": 20}})
    assert d.period.timezone == "Asia/Shanghai"
    assert d.period.kind == "billing_month" and d.period.anchor_day == 1  # siblings kept
    assert d.billing.monthly_fee == Decimal(20)
    assert d.preset == "aws-ec2-instance"
    assert d.overrides == ["period.timezone", "billing.monthly_fee"]


def test_custom_definition() -> None:
    d = resolve({"provider": "ACME", "uptime_target_pct": 99.9, "credit": {"mode": "tiered", "tiers": [{"lt": 99.9, "credit_pct": 10}]}})
    assert isinstance(d, SlaDefinition) and d.preset is None
    assert d.uptime_target_pct == Decimal("99.9")


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"preset": "no-such-cloud"}, "sla.preset"),
        ({"preset": "aws-ec2-instance", "perod": {}}, "sla.perod"),
        ({"preset": "aws-ec2-instance", "period": {"tz": "UTC"}}, "sla.period.tz"),
        ({"preset": "aws-ec2-instance", "period": {"timezone": "Mars/Olympus"}}, "sla.period.timezone"),
        ({"preset": "aws-ec2-instance", "credit": {"tiers": [{"lt": 99, "ge": 99.5, "credit_pct": 10}]}}, "sla.credit.tiers.0"),
        (
            {"uptime_target_pct": 99.9, "credit": {"mode": "tiered", "tiers": [
                {"lt": 99.0, "ge": 95.0, "credit_pct": 25}, {"lt": 99.9, "ge": 99.0, "credit_pct": 10}]}},
            "sla.credit",
        ),
        ({"preset": "aws-ec2-instance", "confidence": {"uptime": "verbatim"}}, "sla.confidence"),
        ({"preset": "aws-ec2-instance", "id": "mine"}, "sla.id"),
        ({"uptime_target_pct": 101}, "sla.uptime_target_pct"),
        ({"period": {"kind": "billing_month"}}, "sla.period"),
        ({"counting": {"window_s": 7}}, "sla.counting.window_s"),
    ],
)
def test_bad_config_names_the_key(section: dict, key: str) -> None:
    with pytest.raises(SlaConfigError) as err:
        resolve(section)
    assert key in str(err.value)


def test_tiers_out_of_order_message() -> None:
    with pytest.raises(SlaConfigError, match=r"tiers\[1\]: bounds out of order"):
        resolve({"uptime_target_pct": 99.9, "credit": {"mode": "tiered", "tiers": [
            {"lt": 99.0, "ge": 95.0, "credit_pct": 25}, {"lt": 99.9, "ge": 99.0, "credit_pct": 10}]}})


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(SlaConfigError, match="aws-ec2-instance"):
        load_preset("aws")


# --- where the terms come from ---------------------------------------------------------------------


@pytest.mark.parametrize("preset_id", [p for p in list_presets() if p != EXAMPLE])
def test_every_source_is_the_providers_own_page(preset_id: str) -> None:
    d = load_preset(preset_id)
    domain = PROVIDER_DOMAINS[d.provider]
    assert d.sources
    for url in d.sources:
        parts = urlsplit(url)
        host = parts.hostname or ""
        assert parts.scheme == "https" and (host == domain or host.endswith("." + domain)), url


@pytest.mark.parametrize("preset_id", [p for p in list_presets() if p != EXAMPLE])
def test_terms_date_is_a_date_or_unconfirmed_with_what_was_found(preset_id: str) -> None:
    d = load_preset(preset_id)
    if d.terms_date == "unconfirmed":
        assert len(d.terms_date_note) > 20, "say what was found instead of a date"
    else:
        day = date.fromisoformat(d.terms_date)  # never a year, "unknown" or free text
        assert date(2000, 1, 1) <= day <= date.today()
    assert d.retrieved == "2026-11"


def test_the_example_is_not_dated_as_terms() -> None:
    d = load_preset(EXAMPLE)
    assert d.terms_date == "not applicable" and not d.sources


def test_no_repository_file_cites_the_shared_folder() -> None:
    # The repository cites providers' pages; a path in the helpers' shared folder means nothing to a reader.
    needle = ("/work/" + "shared").encode()
    skip_dirs = {".git", ".venv", "__pycache__", "node_modules", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
    offenders = []
    for path in REPO.rglob("*"):
        rel = path.relative_to(REPO)
        if any(part in skip_dirs or part.endswith(".egg-info") for part in rel.parts) or not path.is_file():
            continue
        if needle in path.read_bytes():
            offenders.append(str(rel))
    assert not offenders


# --- how the terms are shown ------------------------------------------------------------------------


def _result(d: SlaDefinition):  # type: ignore[no-untyped-def]
    t0, t1 = datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 5, 1, tzinfo=UTC)
    return evaluate(d, [Span(t0, t1, State.UP)], period_start=t0, period_end=t1, now=datetime(2025, 6, 1, tzinfo=UTC))


def test_text_output_shows_the_terms_date_and_source() -> None:
    aws = _result(load_preset("aws-ec2-instance"))
    text = format_text(aws)
    assert "terms unknown" not in text
    assert "Terms dated: unconfirmed (The current page was not among" in text
    assert "Source: https://aws.amazon.com/compute/sla/" in text
    zh = format_text(aws, "zh")
    assert "条款日期: 未确认 (" in zh and "来源: https://aws.amazon.com/compute/sla/" in zh
    dated = format_text(_result(load_preset("digitalocean-droplet")))
    assert "Terms dated: 2025-06-03" in dated and "Source: https://www.digitalocean.com/sla/cpu-droplets" in dated
    assert "Terms dated: not known" in format_text(_result(resolve({"uptime_target_pct": 99.9})))


def test_preset_list_names_date_and_source_of_every_preset() -> None:
    defs = [load_preset(p) for p in list_presets()]
    text = format_preset_list(defs)
    for d in defs:
        block = text.split(d.id + " ", 1)[1].split("\n")[:3]
        assert d.provider in block[0] and d.product in block[0]
        assert block[1].strip() == f"Terms dated: {d.terms_date}"
        assert block[2].strip() == "Source: " + (", ".join(d.sources) or "none")
    zh = format_preset_list(defs, "zh")
    assert "条款日期: 未确认" in zh and "条款日期: 2025-06-03" in zh and "unconfirmed" not in zh


def test_list_presets_command() -> None:
    r = subprocess.run([sys.executable, "-m", "agent.cli", "sla", "--list-presets"], capture_output=True, text=True,
                       timeout=60, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "aws-ec2-instance" in r.stdout and "Terms dated: unconfirmed" in r.stdout
    assert "Source: https://aws.amazon.com/compute/sla/" in r.stdout
    assert "Terms dated: 2021-01-13" in r.stdout  # linode-compute
