"""When to renew a credential, and one renewal at a time.

The half-life rule: a credential handed to us with ``R`` seconds left is renewed once half of
``R`` has passed, a little earlier by a random jitter (up to 10 % of that half, so that many
processes started together do not all ask at once), and never later than a safety margin before
it expires: ``min(60 s, R / 4)``. After that margin it is no longer handed out: callers wait for
the new one.

Measured from what is left when we receive it (not from the credential's ``issued_at``): the
service reuses a cached credential until half its life, so a credential may arrive already
part-used, and renewing at half of *its* life could ask again and get the same one back.

One renewal at a time: the thread that finds the renewal due fetches; the others keep using the
current credential while it is before its safety margin, and wait only past it. A failed renewal
keeps the current credential and is tried again later (sooner as the margin nears); past the
margin the error reaches the caller.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from .errors import TvsError

log = logging.getLogger("tvs_client.renew")

JITTER = 0.10
MAX_MARGIN_SECONDS = 60.0
MIN_INTERVAL_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class Lease:
    """A credential and its timetable, all in seconds on the renewer's clock."""

    value: Any
    received_at: float
    expires_at: float
    renew_at: float       # from here on, one caller renews; the others keep using this one
    hard_deadline: float  # from here on, this one is not handed out any more

    def __repr__(self) -> str:  # the value holds secrets
        return (f"Lease(received_at={self.received_at:.3f}, renew_at={self.renew_at:.3f}, "
                f"hard_deadline={self.hard_deadline:.3f}, expires_at={self.expires_at:.3f})")


def plan(value: Any, expires_at: float, now: float, rng: Callable[[], float] = random.random,
         jitter: float = JITTER, max_margin: float = MAX_MARGIN_SECONDS,
         min_interval: float = MIN_INTERVAL_SECONDS) -> Lease:
    """The timetable of a credential received at ``now`` that expires at ``expires_at``."""
    remaining = expires_at - now
    if remaining <= 0:
        raise TvsError("the service handed out a credential that has already expired (is this machine's clock "
                       "right?)")
    margin = min(max_margin, remaining / 4)
    hard = expires_at - margin
    half = now + remaining / 2 * (1 - jitter * rng())
    renew_at = min(max(half, now + min_interval), hard)
    return Lease(value, now, expires_at, renew_at, hard)


class Renewer:
    """Hands out a credential from ``fetch`` and renews it by the half-life rule.

    ``fetch()`` returns ``(value, expires_at)`` with ``expires_at`` on ``clock``'s scale (epoch
    seconds for the default ``time.time``).
    """

    def __init__(self, fetch: Callable[[], tuple[Any, float]], *, clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random, jitter: float = JITTER,
                 max_margin: float = MAX_MARGIN_SECONDS, min_interval: float = MIN_INTERVAL_SECONDS,
                 name: str = "credential"):
        self._fetch = fetch
        self.clock = clock
        self._rng = rng
        self._jitter = jitter
        self._max_margin = max_margin
        self._min_interval = min_interval
        self.name = name
        self._lease: Lease | None = None
        self._renewing = threading.Lock()
        self.fetches = 0  # how many times fetch() was called (for measurements and tests)
        self.on_renewed: list[Callable[[Lease], None]] = []

    @property
    def lease(self) -> Lease | None:
        return self._lease

    def due_in(self) -> float:
        """Seconds until the current lease is due for renewal (0 when there is none)."""
        lease = self._lease
        return 0.0 if lease is None else lease.renew_at - self.clock()

    def get(self) -> Lease:
        """The current lease, renewed first when due (see the module's docstring)."""
        lease = self._lease
        if lease is not None:
            now = self.clock()
            if now < lease.renew_at:
                return lease
            if now < lease.hard_deadline:
                if not self._renewing.acquire(blocking=False):
                    return lease  # another thread renews; this one keeps the current lease
                try:
                    lease = self._lease
                    if self.clock() < lease.renew_at:
                        return lease
                    try:
                        return self._renew()
                    except Exception as exc:
                        return self._postpone(lease, exc)
                finally:
                    self._renewing.release()
        with self._renewing:  # nothing usable: wait for one renewal (or do it)
            lease = self._lease
            if lease is not None and self.clock() < lease.hard_deadline:
                return lease
            return self._renew()

    def renew_now(self) -> Lease:
        """Fetch a new credential now (e.g. after the storage service refused the current one)."""
        with self._renewing:
            return self._renew()

    def _renew(self) -> Lease:
        self.fetches += 1
        value, expires_at = self._fetch()
        lease = plan(value, expires_at, self.clock(), self._rng, self._jitter, self._max_margin, self._min_interval)
        self._lease = lease
        for callback in list(self.on_renewed):
            callback(lease)
        return lease

    def _postpone(self, lease: Lease, exc: Exception) -> Lease:
        now = self.clock()
        wait = min(MAX_RETRY_SECONDS, max(self._min_interval, (lease.hard_deadline - now) / 4))
        retry = min(now + wait, lease.hard_deadline)
        # str(exc) of this package's errors never holds a token or a secret; other errors by type only
        reason = str(exc) if isinstance(exc, TvsError) else type(exc).__name__
        log.warning("renewing the %s failed (%s); the current one is used and renewal retried in %.0f s",
                    self.name, reason, retry - now)
        self._lease = Lease(lease.value, lease.received_at, lease.expires_at, retry, lease.hard_deadline)
        return self._lease
