"""A per-principal rate limit (docs/design.md, Abuse limits): one token bucket per caller key.

Each bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; a request takes
one. At most ``max_keys`` buckets are kept (least recently used out), so memory stays bounded
whatever the number of callers: a caller whose bucket was dropped starts again with a full one,
which can only be more lenient, never stricter. Thread-safe; no I/O.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBuckets:
    def __init__(self, rate: float, burst: int, max_keys: int, clock: Callable[[], float] = time.monotonic):
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("a rate limit needs a positive rate, a burst of at least 1 and room for one key")
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when granted, else the seconds until one is available."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait

    @staticmethod
    def retry_after(wait: float) -> int:
        """A ``Retry-After`` value (whole seconds, at least 1) for a wait of ``wait`` seconds."""
        return max(1, math.ceil(wait))

    def __len__(self) -> int:
        return len(self._buckets)
