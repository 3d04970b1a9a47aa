"""A verified token is remembered briefly: one signature check for a burst of requests with it."""

from __future__ import annotations

import time

import pytest

from shared.config import parse_config
from shared.errors import Problem
from shared.identity.principal import Principal
from shared.identity.token_cache import VerifiedTokenCache
from shared.identity.tokens import TokenValidator
from tests.identity.fake_idp import RsaIdp

STORE = {
    "kind": "azure-blob",
    "account_url": "https://a.blob.core.windows.net",
    "container": "c",
    "auth": {"method": "managed-identity"},
}


def validator(idp, clock=None, **cache):
    config = parse_config(
        {
            "issuers": [{"issuer": idp.issuer, "audiences": ["tvs"], "jwks_uri": idp.issuer + "/keys"}],
            "stores": {"s": STORE},
            "limits": {"token_cache": cache},
        }
    )
    v = TokenValidator(config, fetch=idp.fetch, **({"clock": clock} if clock else {}))
    v.checks = 0
    original = v._decode

    def counting(*a):
        v.checks += 1
        return original(*a)

    v._decode = counting
    return v


def test_the_same_token_is_verified_once_in_a_burst():
    idp = RsaIdp("https://idp.example")
    v = validator(idp)
    tok = idp.token()
    assert [v.validate(tok).subject for _ in range(5)] == ["alice"] * 5
    assert v.checks == 1


def test_a_remembered_token_is_verified_again_after_the_cache_window():
    idp = RsaIdp("https://idp.example")
    now = [100.0]
    v = validator(idp, clock=lambda: now[0], max_seconds=30)
    tok = idp.token()
    v.validate(tok)
    now[0] += 31
    v.validate(tok)
    assert v.checks == 2


def test_a_refused_token_is_never_remembered():
    idp = RsaIdp("https://idp.example")
    v = validator(idp)
    bad = idp.token(aud="other")
    for _ in range(3):
        with pytest.raises(Problem):
            v.validate(bad)
    assert v.checks == 3


def test_the_cache_can_be_turned_off():
    idp = RsaIdp("https://idp.example")
    v = validator(idp, enabled=False)
    tok = idp.token()
    v.validate(tok)
    v.validate(tok)
    assert v.checks == 2


def test_an_entry_never_outlives_the_tokens_expiry():
    wall = [1_000_000.0]
    cache = VerifiedTokenCache(10, 60, clock=lambda: wall[0], wall=lambda: wall[0])
    principal = Principal("i", "i", "alice", expires_at=int(wall[0]) + 10)
    cache.put("t", principal)
    wall[0] += 11
    assert cache.get("t") is None


def test_entries_are_bounded():
    cache = VerifiedTokenCache(2, 60)
    for i in range(5):
        cache.put(f"t{i}", Principal("i", "i", f"u{i}", expires_at=int(time.time()) + 600))
    assert len(cache) == 2 and cache.get("t4") is not None and cache.get("t0") is None
