"""Secrets never leave the config: the one place that hides them in what is stored or shown.

Three nets, because a secret can reach an output by several roads:

* by name: a setting or URL query parameter whose name looks secret (``token``,
  ``api_key``, ``X-Amz-Signature``, ``password`` …, plus ``agent.secret_names``)
  reads as ``(set)`` / ``***``;
* by shape: a URL's user-info (``https://user:pw@host/``) becomes ``***@``;
* by value: every secret found in the loaded configuration is registered, and
  any text that contains one verbatim (an error message quoting a redirect, a
  log line) has it replaced, wherever it sits.

Stored check settings, rows (an HTTP check's URL and error), reports, exports,
logs and error messages all pass through here (agent/checks.py, the logging
formatter in agent/cli/common.py, reports' settings tables).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

SET = "(set)"  # what a stored or printed secret setting reads as
MASK = "***"  # what a secret inside a URL or a text reads as
SECRET_KEYS = frozenset({"token"})  # settings keys that are always secret (kept for callers)

# A name is secret if one of its words is one of these…
SECRET_WORDS = frozenset({
    "token", "key", "password", "passwd", "pwd", "pass", "passphrase", "secret", "sig", "sign", "signature",
    "auth", "authorization", "credential", "credentials", "apikey", "jwt", "bearer", "session", "sessionid",
})
# …or if, written without separators, it ends with one of these (accesstoken, clientsecret, apikey).
SECRET_SUFFIXES = ("token", "secret", "password", "passwd", "signature", "apikey", "accesskey", "secretkey", "privatekey", "authkey")
MIN_VALUE_LEN = 4  # shorter registered values would mask ordinary words everywhere

_extra_names: frozenset[str] = frozenset()
_values: tuple[str, ...] = ()

_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")
# name=value anywhere; "Name: value" only for header-like names (Authorization, X-Api-Key), not prose.
_PAIR = re.compile(r"(?P<name>[A-Za-z][\w.\-]*)(?P<sep>=|: ?)(?P<value>(?:(?i:bearer|basic|token) )?[^\s&'\";,)]+)")
_HEADER_LIKE = re.compile(r"(?i)^(authorization|proxy-authorization|cookie|set-cookie|.*-.*)$")


def configure(*, names: Iterable[str] = (), values: Iterable[str] = ()) -> None:
    """Set the extra secret names (``agent.secret_names``) and the secret values of the loaded config."""
    global _extra_names, _values
    _extra_names = frozenset(n.strip().lower() for n in names if n.strip())
    # Longest first, so a secret that contains another is masked whole.
    _values = tuple(sorted({v for v in values if v and len(v) >= MIN_VALUE_LEN}, key=len, reverse=True))


def secret_name(name: str) -> bool:
    """Does a setting or query parameter of this name hold a secret?"""
    low = name.lower()
    if low in _extra_names:
        return True
    words = [w.lower() for w in _WORD.findall(name)]
    if any(w in SECRET_WORDS or w in _extra_names for w in words):
        return True
    flat = "".join(ch for ch in low if ch.isalnum())
    return flat.endswith(SECRET_SUFFIXES)


def _mask_values(text: str) -> str:
    for v in _values:
        if v in text:
            text = text.replace(v, MASK)
    return text


def mask_url(url: str, *, keep_user: bool = False) -> str:
    """The URL with its user-info and secret query values masked.

    ``keep_user`` keeps the user name of ``user:password@`` (database URLs: the user
    helps to fix a login error; the password never shows)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _mask_values(_mask_pairs(url))
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, has_pw, pw = userinfo.partition(":")
        if has_pw and pw == MASK:
            pass  # already masked (a database URL shown with its user): leave it readable
        else:
            netloc = (f"{user}:{MASK}" if keep_user and has_pw else user if keep_user else MASK) + "@" + host
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(secret_name(k) for k, _ in pairs):
            query = "&".join(f"{quote(k, safe='')}={MASK if secret_name(k) and v else quote(v, safe='/:')}" for k, v in pairs)
    fragment = _mask_pairs(parts.fragment) if parts.fragment else parts.fragment
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return _mask_values(url)  # nothing secret by name or shape: the text exactly as given
    return _mask_values(urlunsplit((parts.scheme, netloc, parts.path, query, fragment)))


def _mask_pairs(text: str) -> str:
    """``name=value`` and ``name: value`` with a secret name: the value masked."""
    def one(m: re.Match[str]) -> str:
        if not secret_name(m["name"]) or (m["sep"] != "=" and not _HEADER_LIKE.match(m["name"])):
            return m.group(0)
        return f"{m['name']}{m['sep']}{MASK}"

    return _PAIR.sub(one, text)


def mask_text(text: str) -> str:
    """Any text (a message, an error, a response excerpt) with every secret we can recognise masked."""
    if not text:
        return text
    text = _URL.sub(lambda m: mask_url(m.group(0)), text)
    return _mask_values(_mask_pairs(text))


def mask_value(value: Any) -> Any:
    """Strings masked as text, containers walked; other values unchanged."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v) for v in value]
    return value


def mask_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a check's settings: secret-named values read ``(set)``, URLs and texts masked."""
    out: dict[str, Any] = {}
    for k, v in settings.items():
        if isinstance(v, Mapping):
            out[k] = mask_settings(v)
        elif (k in SECRET_KEYS or secret_name(k)) and v not in (None, "", False) and not isinstance(v, (bool, int, float)):
            out[k] = SET
        else:
            out[k] = mask_value(v)
    return out


def secrets_in_url(url: str) -> list[str]:
    """The secret parts of a URL (user name, password, secret query values): to register them."""
    try:
        parts = urlsplit(url)
        # user:password@: the password; a lone user@ is often a token (https://TOKEN@host/).
        found = [parts.password] if parts.password else [parts.username] if parts.username else []
    except ValueError:
        return []
    found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if secret_name(k) and v]
    return found


def secrets_in(settings: Any) -> list[str]:
    """Every secret value inside a settings tree (dicts and lists of plain values)."""
    found: list[str] = []
    if isinstance(settings, Mapping):
        for k, v in settings.items():
            if isinstance(v, str) and secret_name(str(k)) and v:
                found.append(v)
            else:
                found += secrets_in(v)
    elif isinstance(settings, (list, tuple)):
        for v in settings:
            found += secrets_in(v)
    elif isinstance(settings, str) and "://" in settings:
        found += secrets_in_url(settings)
    return found


def add_values(values: Iterable[str]) -> None:
    """More secret values, kept with the configuration's: the parts of an alert URL read from a file or
    the environment, a token given on the command line."""
    configure(names=_extra_names, values=(*_values, *values))
