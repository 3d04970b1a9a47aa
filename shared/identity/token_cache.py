"""Verified tokens, remembered briefly so a caller that sends the same token many times in a row
(a job asking for one signed URL per object) pays for one signature check, not one per request.

An entry lives at most ``max_seconds`` and never past the token's own ``exp``; a refused token is
never remembered. The cost is that a signing key withdrawn by the IdP keeps working for tokens
already seen for at most ``max_seconds`` (the JWKS cache has a longer lag anyway).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from .principal import Principal


class VerifiedTokenCache:
    def __init__(
        self,
        max_entries: int,
        max_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ):
        self._max_entries = max_entries
        self._max_seconds = max_seconds
        self._clock, self._wall = clock, wall
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            if self._clock() >= entry[1]:
                del self._entries[token]
                return None
            self._entries.move_to_end(token)
            return entry[0]

    def put(self, token: str, principal: Principal) -> None:
        now = self._clock()
        life = self._max_seconds
        if principal.expires_at is not None:
            life = min(life, principal.expires_at - self._wall())
        if life <= 0:
            return
        with self._lock:
            self._entries[token] = (principal, now + life)
            self._entries.move_to_end(token)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
