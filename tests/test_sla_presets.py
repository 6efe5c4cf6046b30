"""SLA definitions: every preset loads, overrides merge, bad configuration names its key."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reports.analysis.sla_terms import Confidence, SlaConfigError, SlaDefinition
from reports.presets import list_presets, load_preset, resolve

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


def test_marks_follow_the_research_file() -> None:
    aws = load_preset("aws-ec2-instance")
    assert aws.confidence_of("credit.tiers") is Confidence.VERBATIM
    assert aws.confidence_of("counting.window_s") is Confidence.SECONDARY  # "per minute ◐"
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
