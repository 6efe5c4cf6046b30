"""ICMP echo packets and the replies/errors we read back: pure bytes in, values out.

Kept apart from the socket code so that it can be tested without privileges and so
that the reader's hot path is a handful of ``struct`` calls.  Layouts handled:

* raw IPv4 socket: the IPv4 header comes first (we skip ``IHL*4`` bytes);
* raw IPv6 socket and the datagram "ping" sockets: the ICMP header comes first;
* ICMP errors (destination unreachable, time exceeded) quote the offending IP
  header plus the first 8 bytes of our echo request, so they can be matched to
  the pending request by (identifier, sequence) and original destination.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

ICMP_ECHO_REPLY = 0
ICMP_DEST_UNREACH = 3
ICMP_ECHO_REQUEST = 8
ICMP_TIME_EXCEEDED = 11

ICMP6_DEST_UNREACH = 1
ICMP6_PACKET_TOO_BIG = 2
ICMP6_TIME_EXCEEDED = 3
ICMP6_ECHO_REQUEST = 128
ICMP6_ECHO_REPLY = 129

# Human words for the codes people meet in practice (RFC 792 / RFC 4443).
_V4_UNREACH = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    4: "fragmentation needed",
    5: "source route failed",
    6: "destination network unknown",
    7: "destination host unknown",
    9: "network administratively prohibited",
    10: "host administratively prohibited",
    13: "communication administratively prohibited",
}
_V6_UNREACH = {
    0: "no route to destination",
    1: "communication administratively prohibited",
    2: "beyond scope of source address",
    3: "address unreachable",
    4: "port unreachable",
    5: "source address failed ingress/egress policy",
    6: "reject route to destination",
}

_HDR = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence
_IDSEQ = struct.Struct("!HH")

# Payload starts with this many bytes of per-process cookie when there is room;
# it lets a raw socket tell our replies from another pinger's with the same id.
COOKIE_LEN = 8


def checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum (ones' complement of the ones' complement sum)."""
    if len(data) % 2:
        data = data + b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def make_payload(cookie: bytes, size: int) -> bytes:
    """``size`` bytes: the cookie (truncated if the payload is tiny), then a fill pattern."""
    if size <= 0:
        return b""
    head = cookie[: min(len(cookie), size)]
    fill = bytes((0x10 + i) & 0xFF for i in range(size - len(head)))
    return head + fill


def build_echo(v6: bool, ident: int, seq: int, payload: bytes) -> bytes:
    """An echo request.  The checksum is filled for IPv4; for ICMPv6 the kernel
    computes it (the pseudo-header needs the source address we do not choose),
    and on datagram ping sockets the kernel rewrites identifier and checksum."""
    typ = ICMP6_ECHO_REQUEST if v6 else ICMP_ECHO_REQUEST
    ident &= 0xFFFF
    seq &= 0xFFFF
    if v6:
        return _HDR.pack(typ, 0, 0, ident, seq) + payload
    csum = checksum(_HDR.pack(typ, 0, 0, ident, seq) + payload)
    return _HDR.pack(typ, 0, csum, ident, seq) + payload


@dataclass(frozen=True, slots=True)
class Echo:
    """An echo reply: which request it answers and the payload it carried back."""

    ident: int
    seq: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class IcmpError:
    """An ICMP error quoting one of our echo requests."""

    ident: int
    seq: int
    original_dst: str  # where the quoted request was going
    icmp_type: int
    code: int

    def describe(self, v6: bool) -> str:
        """Readable words, e.g. "host unreachable"."""
        if v6:
            if self.icmp_type == ICMP6_DEST_UNREACH:
                return _V6_UNREACH.get(self.code, f"destination unreachable (code {self.code})")
            if self.icmp_type == ICMP6_TIME_EXCEEDED:
                return "time exceeded (TTL/hop limit)"
            if self.icmp_type == ICMP6_PACKET_TOO_BIG:
                return "packet too big"
            return f"ICMPv6 error type {self.icmp_type} code {self.code}"
        if self.icmp_type == ICMP_DEST_UNREACH:
            return _V4_UNREACH.get(self.code, f"destination unreachable (code {self.code})")
        if self.icmp_type == ICMP_TIME_EXCEEDED:
            return "time exceeded (TTL)"
        return f"ICMP error type {self.icmp_type} code {self.code}"


def _quoted_v4(icmp: bytes | memoryview) -> tuple[int, int, str] | None:
    """(id, seq, original destination) of the echo request quoted after an ICMPv4 error header."""
    inner = icmp[8:]
    if len(inner) < 20:
        return None
    ihl = (inner[0] & 0x0F) * 4
    if inner[0] >> 4 != 4 or ihl < 20 or inner[9] != 1 or len(inner) < ihl + 8:
        return None
    if inner[ihl] != ICMP_ECHO_REQUEST:
        return None
    ident, seq = _IDSEQ.unpack_from(inner, ihl + 4)
    dst = str(ipaddress.IPv4Address(bytes(inner[16:20])))
    return ident, seq, dst


def _quoted_v6(icmp: bytes | memoryview) -> tuple[int, int, str] | None:
    """Same for ICMPv6: a fixed 40-byte IPv6 header (no extension headers on our requests)."""
    inner = icmp[8:]
    if len(inner) < 48 or inner[0] >> 4 != 6 or inner[6] != 58:
        return None
    if inner[40] != ICMP6_ECHO_REQUEST:
        return None
    ident, seq = _IDSEQ.unpack_from(inner, 44)
    dst = str(ipaddress.IPv6Address(bytes(inner[24:40])))
    return ident, seq, dst


def parse(data: bytes | memoryview, v6: bool, has_ip_header: bool) -> Echo | IcmpError | None:
    """Decode one received datagram; ``None`` for anything that is neither an echo
    reply nor an error quoting an echo request (our own requests seen on loopback,
    other ICMP traffic, truncated junk)."""
    off = 0
    if has_ip_header:  # raw IPv4 only
        if len(data) < 20:
            return None
        off = (data[0] & 0x0F) * 4
    if len(data) < off + 8:
        return None
    typ = data[off]
    code = data[off + 1]
    if typ == (ICMP6_ECHO_REPLY if v6 else ICMP_ECHO_REPLY):
        ident, seq = _IDSEQ.unpack_from(data, off + 4)
        return Echo(ident, seq, bytes(data[off + 8 :]))
    errors = (
        (ICMP6_DEST_UNREACH, ICMP6_TIME_EXCEEDED, ICMP6_PACKET_TOO_BIG)
        if v6
        else (ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED)
    )
    if typ in errors:
        q = (_quoted_v6 if v6 else _quoted_v4)(data[off:])
        if q is None:
            return None
        return IcmpError(q[0], q[1], q[2], typ, code)
    return None


def parse_sent_echo(data: bytes | memoryview) -> tuple[int, int] | None:
    """(id, seq) of one of our own echo requests as handed back by the error queue
    of a datagram ping socket (ICMP header first)."""
    if len(data) < 8:
        return None
    return _IDSEQ.unpack_from(data, 4)
