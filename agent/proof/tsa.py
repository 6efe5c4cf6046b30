"""RFC 3161 trusted timestamps: ask a Time-Stamp Authority to sign "this checkpoint existed at T".

Uses ``rfc3161-client`` (Trail of Bits; also used by Sigstore's Python client):
it builds the request, parses the response and verifies the token (signature
chain to the given roots, the critical timeStamping purpose, the nonce, the
message imprint), with the certificate checks done by OpenSSL through
``cryptography``. Writing that ASN.1 and CMS handling by hand would be the
riskiest code in the project.

Each token is over the exact bytes of one checkpoint's signed note, so a third
party checks it with ``openssl ts -verify -in TOKEN -data CHECKPOINT -CAfile ROOT``.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from agent.core.errors import ConfigError
from agent.core.times import to_us

CONTENT_TYPE = "application/timestamp-query"
MAX_REPLY_BYTES = 1 << 20


class TsaError(Exception):
    """A request or a token that failed; the message says what, for a log line or a verify report."""


@dataclass(frozen=True, slots=True)
class Stamp:
    tsa_url: str  # without credentials
    authority: str  # the signing certificate's subject
    gen_time_us: int
    token: bytes  # the TimeStampResp, DER


def public_url(url: str) -> str:
    """The URL without user, password or query: what may be stored and shown."""
    p = urlsplit(url)
    host = p.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{p.port}" if p.port else "")
    return urlunsplit((p.scheme, netloc, p.path, "", ""))


def load_roots(ca_file: str | None) -> list[x509.Certificate]:
    """The trusted roots: the configured PEM file, else the system's CA bundle."""
    path = Path(ca_file) if ca_file else Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    where = "agent.timestamp.ca_file" if ca_file else "the system CA bundle (set agent.timestamp.ca_file)"
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as e:
        raise ConfigError(f"{where}: cannot read {path}: {e.strerror}") from None
    except ValueError:
        raise ConfigError(f"{where}: {path} holds no PEM certificates") from None
    return certs


def _explain(e: VerificationError) -> str:
    msg = str(e)
    if "Mismatch between messages" in msg:
        return "the token is over other data: it does not match this checkpoint"
    if "verifying certificates" in msg or "certificate verify" in msg:
        return "the token is signed by an unknown authority (its certificate does not chain to a trusted root)"
    if "Nonce" in msg:
        return "the reply's nonce differs from the request's (a replayed or foreign reply)"
    return msg.splitlines()[0][:200]


def verify_token(token: bytes, data: bytes, roots: Sequence[x509.Certificate], *, nonce: int | None = None) -> tuple[str, int]:
    """(authority, genTime µs) of a valid token over ``data``; TsaError saying what is wrong otherwise."""
    try:
        tsr = decode_timestamp_response(token)
    except ValueError:
        raise TsaError("not an RFC 3161 time-stamp response") from None
    try:
        VerifierBuilder(roots=list(roots), nonce=nonce).build().verify_message(tsr, data)
    except VerificationError as e:
        raise TsaError(_explain(e)) from None
    leaf = _signer(tsr)
    return leaf, to_us(tsr.tst_info.gen_time)


def _signer(tsr: TimeStampResponse) -> str:
    sd = tsr.signed_data
    si = next(iter(sd.signer_infos))
    for der in sd.certificates:
        cert = x509.load_der_x509_certificate(der)
        if cert.issuer == si.issuer and cert.serial_number == si.serial_number:
            return str(cert.subject.rfc4514_string())
    return str(si.issuer.rfc4514_string())


def request_stamp(url: str, data: bytes, roots: Sequence[x509.Certificate], *, timeout_s: float,
                  client: httpx.Client | None = None) -> Stamp:
    """POST a request for SHA-256(data) and verify the reply on arrival; TsaError if anything fails."""
    req = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).nonce(nonce=True).cert_request(cert_request=True).build()
    shown = public_url(url)
    try:
        if client is None:
            with httpx.Client(timeout=timeout_s) as c:
                resp = c.post(url, content=req.as_bytes(), headers={"Content-Type": CONTENT_TYPE})
        else:
            resp = client.post(url, content=req.as_bytes(), headers={"Content-Type": CONTENT_TYPE}, timeout=timeout_s)
    except httpx.HTTPError as e:
        raise TsaError(f"{shown}: {type(e).__name__}: {str(e)[:200] or 'no answer'}") from None
    if resp.status_code != 200:
        raise TsaError(f"{shown}: HTTP {resp.status_code}")
    if len(resp.content) > MAX_REPLY_BYTES:
        raise TsaError(f"{shown}: reply larger than {MAX_REPLY_BYTES} bytes")
    try:
        authority, gen_us = verify_token(resp.content, data, roots, nonce=req.nonce)
    except TsaError as e:
        raise TsaError(f"{shown}: {e}") from None
    return Stamp(shown, authority, gen_us, resp.content)
