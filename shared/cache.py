"""Issued-credential cache (docs/design.md, Caching).

A credential is reused until ``min(half its life, max_reuse)`` after it was issued, and never
once it is within ``safety_buffer`` of its expiry. Without ``half_life`` (the access-manager SAS
cache, docs/accessmanager.md) only ``max_reuse`` and the safety buffer limit the reuse. Entries
are bounded (LRU). Concurrent identical requests coalesce: one caller mints, the others wait for
its result.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    value: T
    reuse_until: datetime


class _Flight:
    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.error: BaseException | None = None


class CredentialCache(Generic[T]):
    """Thread-safe, bounded, single-flight cache of minted credentials."""

    def __init__(
        self,
        max_entries: int,
        max_reuse: timedelta,
        safety_buffer: timedelta,
        clock: Callable[[], datetime],
        issued_at: Callable[[T], datetime],
        expires_at: Callable[[T], datetime],
        half_life: bool = True,
    ):
        self._max = max_entries
        self._half_life = half_life
        self._max_reuse = max_reuse
        self._buffer = safety_buffer
        self._clock = clock
        self._issued_at = issued_at
        self._expires_at = expires_at
        self._entries: OrderedDict[Hashable, _Entry[T]] = OrderedDict()
        self._flights: dict[Hashable, _Flight] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _reuse_until(self, value: T) -> datetime:
        issued, expires = self._issued_at(value), self._expires_at(value)
        until = min(issued + self._max_reuse, expires - self._buffer)
        return min(until, issued + (expires - issued) / 2) if self._half_life else until

    def get_or_mint(self, key: Hashable, mint: Callable[[], T]) -> tuple[T, bool]:
        """Return ``(credential, reused)``; ``mint`` runs at most once per key at a time."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                if self._clock() < entry.reuse_until:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return entry.value, True
                del self._entries[key]
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
                self.misses += 1
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            with self._lock:
                self.hits += 1
            return flight.value, True
        try:
            value = mint()
        except BaseException as exc:
            flight.error = exc
            raise
        else:
            flight.value = value
            with self._lock:
                reuse_until = self._reuse_until(value)
                if self._clock() < reuse_until:
                    self._entries[key] = _Entry(value, reuse_until)
                    while len(self._entries) > self._max:
                        self._entries.popitem(last=False)
            return value, False
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()

    def __len__(self) -> int:
        return len(self._entries)
