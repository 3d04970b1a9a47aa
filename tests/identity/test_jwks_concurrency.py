"""A key refresh never holds up requests that can be verified with the keys at hand."""

from __future__ import annotations

import threading
import time

from shared.config import parse_config
from shared.identity.jwks import JwksCache
from tests.identity.fake_idp import RsaIdp


def cache_for(idp, fetch, now):
    config = parse_config(
        {
            "issuers": [{"issuer": idp.issuer, "audiences": ["tvs"], "jwks_uri": idp.issuer + "/keys"}],
            "stores": {
                "s": {
                    "kind": "azure-blob",
                    "account_url": "https://a.blob.core.windows.net",
                    "container": "c",
                    "auth": {"method": "managed-identity"},
                }
            },
        }
    )
    return JwksCache(config.issuers[0], fetch=fetch, clock=lambda: now[0])


def test_a_slow_periodic_refresh_does_not_block_other_requests():
    idp = RsaIdp("https://idp.example")
    release, entered = threading.Event(), threading.Event()
    slow = {"on": False}

    def fetch(url, timeout):
        if slow["on"]:
            entered.set()
            release.wait(5)
        return idp.fetch(url, timeout)

    now = [0.0]
    cache = cache_for(idp, fetch, now)
    cache.key(idp.kid)  # warm
    now[0] += 4000  # past the periodic refresh
    slow["on"] = True
    refresher = threading.Thread(target=cache.key, args=(idp.kid,))
    refresher.start()
    assert entered.wait(5)
    started = time.monotonic()
    assert cache.key(idp.kid) is not None  # served from the keys at hand while the refresh hangs
    assert time.monotonic() - started < 0.5
    release.set()
    refresher.join(5)


def test_a_cold_cache_waits_for_the_one_fetch_in_flight():
    idp = RsaIdp("https://idp.example")
    calls = []

    def fetch(url, timeout):
        calls.append(url)
        time.sleep(0.2)
        return idp.fetch(url, timeout)

    cache = cache_for(idp, fetch, [0.0])
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.key(idp.kid))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(results) == 8 and len(calls) == 1
