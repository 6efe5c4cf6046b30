"""agent/core/secrets.py: secrets are recognised by name, by shape and by value, and masked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.core import secrets
from agent.core.secrets import MASK, SET, mask_settings, mask_text, mask_url, secret_name


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    secrets.configure()
    yield
    secrets.configure()


@pytest.mark.parametrize("name", ["token", "api_key", "apiKey", "X-Amz-Signature", "access_token", "password", "passwd",
                                  "client_secret", "sig", "auth", "Authorization", "sessionid", "AccessKey", "jwt"])
def test_secret_looking_names(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize("name", ["keyword", "url", "q", "monkey", "bytes", "author_name", "verify_tls", "page", "design"])
def test_ordinary_names(name: str) -> None:
    assert not secret_name(name)


def test_configured_names_join_the_list() -> None:
    assert not secret_name("k")
    secrets.configure(names=["k", "X-Custom"])
    assert secret_name("k") and secret_name("x-custom")
    assert mask_url("https://h/p?k=abc&x=1") == f"https://h/p?k={MASK}&x=1"


def test_urls() -> None:
    assert mask_url("https://bob:pw@h/x?token=t&q=1#sig=2") == f"https://{MASK}@h/x?token={MASK}&q=1#sig={MASK}"
    assert mask_url("https://ghp_abcdef@github.com/") == f"https://{MASK}@github.com/"
    assert mask_url("postgresql://u:pw@h/db", keep_user=True) == f"postgresql://u:{MASK}@h/db"
    assert mask_url("sqlite:////var/lib/x.db") == "sqlite:////var/lib/x.db"  # nothing secret: not rewritten
    assert mask_url("http://h/?q=a%20b&page=2") == "http://h/?q=a%20b&page=2"


def test_text_by_shape_and_value() -> None:
    secrets.configure(values=["s3cr3t-value", "abc"])  # too short to be masked by value
    text = "GET http://u:pw@h/x?api_key=k failed; body echoed s3cr3t-value; password=hunter2; Authorization: Bearer xyz; abc"
    got = mask_text(text)
    for s in ("u:pw", "api_key=k", "s3cr3t-value", "hunter2", "xyz"):
        assert s not in got, (s, got)
    assert got.endswith("; abc")


def test_settings() -> None:
    got = mask_settings({"kind": "http", "url": "http://u:p@h/?sig=1&a=2", "keyword": "ok", "token": "t", "nested": {"password": "x"},
                         "verify_tls": True, "port": 80})
    assert got == {"kind": "http", "url": f"http://{MASK}@h/?sig={MASK}&a=2", "keyword": "ok", "token": SET,
                   "nested": {"password": SET}, "verify_tls": True, "port": 80}


def test_values_found_in_a_config() -> None:
    found = secrets.secrets_in({"agent": {"database_url": "postgresql://u:dbpw1@h/x"},
                                "targets": [{"checks": [{"url": "https://TOKEN123@h/?token=tq1&x=y"}, {"token": "bwtoken"}]}]})
    assert sorted(found) == ["TOKEN123", "bwtoken", "dbpw1", "tq1"]
