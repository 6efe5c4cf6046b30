"""Hosts on one switch: network namespaces joined through a Linux bridge that lives in a namespace of
its own (nothing is added to the root namespace, so addresses never clash with the machine's).

    ns sb-<pid>-sw: bridge br0, ports sb-<pid>-<k>s   <->   ns sb-<pid>-<k>: eth0 10.77.<pid % 250>.<k + 10>/24

``Host.cut()`` sets the host's switch port down: that host, and only it, loses every path (an
agent's uplink, or the target server's own link). Everything is removed on exit, processes first.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.netns import NetnsError, _ip


@dataclass
class Host:
    ns: str
    ip: str
    port: str  # the bridge's port for this host, in the switch namespace
    switch: str
    procs: list[subprocess.Popen[Any]] = field(default_factory=list, repr=False)

    def cut(self) -> None:
        _ip("-n", self.switch, "link", "set", self.port, "down")

    def mend(self) -> None:
        _ip("-n", self.switch, "link", "set", self.port, "up")

    def popen(self, args: list[str], **kw: Any) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns, *args], **kw)
        self.procs.append(proc)
        return proc

    def run(self, args: list[str], **kw: Any) -> subprocess.CompletedProcess[Any]:
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 30)
        return subprocess.run(["ip", "netns", "exec", self.ns, *args], **kw)


def _stop(procs: list[subprocess.Popen[Any]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


@contextmanager
def switched_hosts(n: int) -> Iterator[list[Host]]:
    pid = os.getpid()
    base = f"sb-{pid}"
    if len(base) > 11:
        raise NetnsError(f"pid {pid} too long for interface names")
    net = f"10.77.{pid % 250}"
    switch = f"{base}-sw"
    hosts: list[Host] = []
    made: list[str] = []
    try:
        _ip("netns", "add", switch)
        made.append(switch)
        _ip("-n", switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", switch, "link", "set", "br0", "up")
        for k in range(n):
            ns = f"{base}-{k}"
            _ip("netns", "add", ns)
            made.append(ns)
            port, peer = f"{ns}s", f"{ns}h"
            _ip("link", "add", port, "type", "veth", "peer", "name", peer)
            _ip("link", "set", port, "netns", switch)
            _ip("link", "set", peer, "netns", ns)
            _ip("-n", switch, "link", "set", port, "master", "br0")
            _ip("-n", switch, "link", "set", port, "up")
            _ip("-n", ns, "link", "set", peer, "name", "eth0")
            _ip("-n", ns, "addr", "add", f"{net}.{k + 10}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            hosts.append(Host(ns, f"{net}.{k + 10}", port, switch))
        yield hosts
    finally:
        for h in hosts:
            _stop(h.procs)
        for ns in reversed(made):
            _ip("netns", "del", ns, check=False)
