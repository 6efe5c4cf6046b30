"""Open ICMP sockets inside a named network namespace (``ip netns add NAME``).

A socket stays in the namespace it was created in, so a :class:`probes.icmp.Pinger`
given this factory probes from that namespace while the rest of the process
stays put.  Used by the tests and the accuracy bench (isolated test hosts), and
usable for probing from a VRF-like namespace.  Linux only, needs CAP_SYS_ADMIN.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading

from probes.icmp_socket import SocketFactory

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def netns_socket_factory(name: str, netns_dir: str = "/run/netns") -> SocketFactory:
    """A ``socket_factory`` that creates each socket inside namespace ``name``.

    The switch happens on a short-lived helper thread (``setns`` changes only the
    calling thread), so the caller's own namespace never changes.
    """
    path = os.path.join(netns_dir, name)

    def factory(family: int, type_: int, proto: int) -> socket.socket:
        box: dict[str, object] = {}

        def run() -> None:
            try:
                fd = os.open(path, os.O_RDONLY)
                try:
                    if _libc.setns(fd, CLONE_NEWNET) != 0:
                        e = ctypes.get_errno()
                        raise OSError(e, f"setns({path}): {os.strerror(e)}")
                    box["sock"] = socket.socket(family, type_, proto)
                finally:
                    os.close(fd)
            except BaseException as exc:  # handed back to the caller's thread
                box["exc"] = exc

        t = threading.Thread(target=run, name=f"netns-{name}")
        t.start()
        t.join()
        if "exc" in box:
            raise box["exc"]  # type: ignore[misc]
        return box["sock"]  # type: ignore[return-value]

    return factory
