"""The half-life rule and one renewal at a time, on an injected clock."""
from __future__ import annotations

import itertools
import threading

import pytest

from tvs_client.errors import TvsError
from tvs_client.renew import Renewer, plan


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Source:
    """A credential source: each fetch returns ("cred-N", now + life)."""

    def __init__(self, clock: Clock, life: float = 900.0):
        self.clock, self.life = clock, life
        self.count = itertools.count(1)
        self.fail = False
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.fail:
            raise TvsError("the service refused (503): An upstream service is unavailable")
        return f"cred-{next(self.count)}", self.clock() + self.life


def renewer(clock, source, **kw):
    return Renewer(source, clock=clock, rng=kw.pop("rng", lambda: 0.0), **kw)


def test_a_credential_is_not_renewed_before_half_its_life():
    clock = Clock()
    source = Source(clock)
    r = renewer(clock, source)
    r.get()
    clock.advance(449)
    assert r.get().value == "cred-1" and source.calls == 1


def test_a_credential_is_renewed_once_half_its_life_has_passed():
    clock = Clock()
    source = Source(clock)
    r = renewer(clock, source)
    r.get()
    clock.advance(450)
    assert r.get().value == "cred-2"


@pytest.mark.parametrize("life", [60, 900, 3600, 43_200])
@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999])
def test_the_renewal_falls_between_45_and_50_percent_of_the_life_left_and_before_the_margin(life, draw):
    now = 5_000.0
    lease = plan("c", now + life, now, rng=lambda: draw)
    assert now + 0.45 * life <= lease.renew_at <= now + 0.5 * life
    assert lease.renew_at <= lease.hard_deadline == now + life - min(60, life / 4)


def test_a_nearly_expired_credential_is_renewed_no_later_than_its_safety_margin():
    lease = plan("c", 101.0, 100.0)  # one second left: the minimum interval would be later than the margin
    assert lease.renew_at == lease.hard_deadline == 101.0 - 0.25


def test_a_credential_that_arrives_part_used_is_renewed_at_half_of_what_is_left():
    clock = Clock()
    r = renewer(clock, lambda: ("reused", clock() + 500))  # the service's cache handed out a used credential
    assert r.get().renew_at == clock() + 250


def test_a_failed_renewal_keeps_the_current_credential():
    clock = Clock()
    source = Source(clock)
    r = renewer(clock, source)
    r.get()
    clock.advance(450)
    source.fail = True
    assert r.get().value == "cred-1"


def test_a_failed_renewal_is_retried_later_not_on_every_call():
    clock = Clock()
    source = Source(clock)
    r = renewer(clock, source)
    r.get()
    clock.advance(450)
    source.fail = True
    r.get()
    r.get()
    assert source.calls == 2
    clock.advance(30)
    r.get()
    assert source.calls == 3


def test_a_failed_renewal_past_the_safety_margin_reaches_the_caller():
    clock = Clock()
    source = Source(clock)
    r = renewer(clock, source)
    r.get()
    clock.advance(900 - 60)
    source.fail = True
    with pytest.raises(TvsError, match="503"):
        r.get()


def test_a_credential_the_service_hands_out_already_expired_is_an_error():
    clock = Clock()
    r = renewer(clock, lambda: ("stale", clock() - 1))
    with pytest.raises(TvsError, match="already expired"):
        r.get()


def test_one_thread_renews_while_the_others_keep_using_the_current_credential():
    clock = Clock()
    release = threading.Event()
    started = threading.Event()
    calls = []

    def fetch():
        calls.append(1)
        if len(calls) > 1:
            started.set()
            release.wait(10)
        return f"cred-{len(calls)}", clock() + 900

    r = renewer(clock, fetch)
    r.get()
    clock.advance(450)
    renewing = threading.Thread(target=r.get)
    renewing.start()
    assert started.wait(10)
    others = [r.get().value for _ in range(5)]  # while the renewal is under way: no waiting, no fetch
    release.set()
    renewing.join(10)
    assert others == ["cred-1"] * 5 and len(calls) == 2 and r.get().value == "cred-2"


def test_without_a_usable_credential_threads_wait_for_a_single_fetch():
    clock = Clock()
    gate = threading.Barrier(8)
    calls = []
    lock = threading.Lock()

    def fetch():
        with lock:
            calls.append(1)
        return f"cred-{len(calls)}", clock() + 900

    r = renewer(clock, fetch)
    seen = []

    def worker():
        gate.wait(10)
        seen.append(r.get().value)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(calls) == 1 and seen == ["cred-1"] * 8
