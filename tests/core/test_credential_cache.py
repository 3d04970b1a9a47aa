"""Issued credentials are reused until min(half their life, a maximum), never near expiry, and
concurrent identical requests coalesce into one upstream call."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.cache import CredentialCache

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Cred:
    issued_at: datetime
    expires_at: datetime


def make(now, max_entries=10, max_reuse=600, buffer=120):
    return CredentialCache(
        max_entries,
        timedelta(seconds=max_reuse),
        timedelta(seconds=buffer),
        clock=lambda: now[0],
        issued_at=lambda c: c.issued_at,
        expires_at=lambda c: c.expires_at,
    )


def minting(now, life=3600, calls=None):
    def mint():
        if calls is not None:
            calls.append(1)
        return Cred(now[0], now[0] + timedelta(seconds=life))

    return mint


def test_a_credential_is_reused_within_its_reuse_window():
    now = [T0]
    cache = make(now)
    first, _ = cache.get_or_mint("k", minting(now))
    now[0] += timedelta(seconds=599)
    again, reused = cache.get_or_mint("k", minting(now))
    assert again is first and reused


def test_reuse_stops_at_the_configured_maximum():
    now = [T0]
    cache = make(now, max_reuse=600)
    first, _ = cache.get_or_mint("k", minting(now))
    now[0] += timedelta(seconds=600)
    assert cache.get_or_mint("k", minting(now))[0] is not first


def test_reuse_stops_at_half_the_life_when_that_is_sooner():
    now = [T0]
    cache = make(now, max_reuse=3600)
    first, _ = cache.get_or_mint("k", minting(now, life=900))
    now[0] += timedelta(seconds=450)
    assert cache.get_or_mint("k", minting(now, life=900))[0] is not first


def test_a_credential_inside_the_safety_buffer_is_never_cached():
    now = [T0]
    cache = make(now, buffer=120)
    cache.get_or_mint("k", minting(now, life=100))
    assert len(cache) == 0


def test_entries_are_bounded():
    now = [T0]
    cache = make(now, max_entries=3)
    for i in range(10):
        cache.get_or_mint(i, minting(now))
    assert len(cache) == 3


def test_concurrent_identical_requests_mint_once():
    now = [T0]
    cache = make(now)
    calls = []

    def slow_mint():
        calls.append(1)
        time.sleep(0.2)
        return Cred(now[0], now[0] + timedelta(hours=1))

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_mint("k", slow_mint)[0])) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1


def test_a_failed_mint_is_raised_to_every_waiter_and_not_cached():
    now = [T0]
    cache = make(now)

    def failing():
        time.sleep(0.1)
        raise RuntimeError("upstream down")

    errors = []

    def worker():
        try:
            cache.get_or_mint("k", failing)
        except RuntimeError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 5 and len(cache) == 0
    assert cache.get_or_mint("k", minting(now))[1] is False
