"""The shared namespace harness does what outage and bandwidth tests rely on."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.support.netns import (
    NetnsError,
    _ip,
    requires_netns,
    subnet_for_index,
    test_host,
)

# This file's own /30s (issue 5 owns 10.200.3.0/24 and 10.200.4.0/24).
NET_A = "10.200.3.0/30"
NET_B = "10.200.3.4/30"
NET_C = "10.200.3.8/30"


def _ping(ip: str) -> bool:
    return subprocess.run(
        ["ping", "-c", "1", "-W", "1", ip], capture_output=True, timeout=10
    ).returncode == 0


def test_subnet_for_index_walks_the_shared_pool() -> None:
    assert str(subnet_for_index(0)) == "10.200.10.0/30"
    assert str(subnet_for_index(1)) == "10.200.10.4/30"
    assert str(subnet_for_index(64)) == "10.200.11.0/30"
    assert str(subnet_for_index(639)) == "10.200.19.252/30"
    with pytest.raises(ValueError):
        subnet_for_index(640)


@requires_netns
@pytest.mark.root
def test_ping_then_outage_then_recovery() -> None:
    with test_host(subnet=NET_A) as host:
        assert (host.host_ip, host.peer_ip) == ("10.200.3.1", "10.200.3.2")
        assert len(host.veth_host) <= 15 and len(host.veth_peer) <= 15
        assert _ping(host.peer_ip)
        host.link_down()
        assert not _ping(host.peer_ip)
        host.link_up()
        assert _ping(host.peer_ip)
        # Inside the namespace, the host side answers as well.
        assert host.run(["ping", "-c", "1", "-W", "1", host.host_ip]).returncode == 0
        ns = host.ns
    assert ns not in _ip("netns", "list").stdout
    assert _ip("link", "show", host.veth_host, check=False).returncode != 0


@requires_netns
@pytest.mark.root
def test_cleanup_happens_on_error_and_stops_processes() -> None:
    with pytest.raises(RuntimeError, match="boom"), test_host(subnet=NET_B) as host:
        proc = host.popen(["sleep", "30"])  # a process the teardown must stop, not a wait
        raise RuntimeError("boom")
    assert proc.poll() is not None
    assert host.ns not in _ip("netns", "list").stdout


@requires_netns
@pytest.mark.root
def test_subnet_in_use_is_refused_and_stale_leftovers_are_removed() -> None:
    with test_host(subnet=NET_C), pytest.raises(NetnsError, match="already in use"), test_host(subnet=NET_C):
        pass
    # A leftover from a test process that died (its pid is gone) is cleaned up.
    dead = subprocess.Popen(["true"])
    dead.wait()
    name = f"sp-{dead.pid}-9h"
    _ip("link", "add", name, "type", "veth", "peer", "name", f"sp-{dead.pid}-9p")
    try:
        _ip("addr", "add", "10.200.3.9/30", "dev", name)
        with test_host(subnet=NET_C) as host:
            assert _ping(host.peer_ip)
        assert _ip("link", "show", name, check=False).returncode != 0
    finally:
        _ip("link", "del", name, check=False)


@requires_netns
@pytest.mark.root
@pytest.mark.skipif(shutil.which("iperf3") is None, reason="needs iperf3")
def test_shape_limits_both_directions_and_unshape_removes() -> None:
    with test_host(subnet=NET_A) as host:
        host.shape(20)
        assert "tbf" in subprocess.run(
            ["tc", "qdisc", "show", "dev", host.veth_host], capture_output=True, text=True
        ).stdout
        assert "tbf" in host.run(["tc", "qdisc", "show", "dev", host.veth_peer]).stdout
        rates = []
        for reverse in ([], ["-R"]):
            server = host.popen(["iperf3", "-s", "-1", "-B", host.peer_ip, "-p", "5231"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            host.wait_listening(5231)
            proc = subprocess.run(
                ["iperf3", "-c", host.peer_ip, "-p", "5231", "-J", "-t", "2", *reverse],
                capture_output=True, text=True, timeout=20,
            )
            rates.append(json.loads(proc.stdout)["end"]["sum_received"]["bits_per_second"] / 1e6)
            server.wait(timeout=5)
        for mbps in rates:
            assert 15 < mbps < 22, rates
        host.unshape()
        assert "tbf" not in subprocess.run(
            ["tc", "qdisc", "show", "dev", host.veth_host], capture_output=True, text=True
        ).stdout
