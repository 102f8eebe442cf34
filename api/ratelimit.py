"""Per-token rate limits on analysis: a token bucket per key, in this process.

Each key may spend ``per_minute`` analyses in a burst and regains ``per_minute / 60`` a second. The buckets
live in the worker's memory: with ``--workers N`` a token may get up to N times the limit (nginx or the load
balancer spreads its requests); the limit protects the CPU from one client, it is not a billing meter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from awsome_core.errors import RateLimited

MAX_KEYS = 10_000


class RateLimiter:
    """Thread-safe token buckets; :meth:`take` raises :class:`RateLimited` with the seconds to wait."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> None:
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            if tokens < cost:
                self._buckets[key] = (tokens, now)
                wait = (cost - tokens) / self.rate
                raise RateLimited(f"Too many analyses; try again in {max(1, round(wait))} s.", retry_after_s=wait)
            if len(self._buckets) >= MAX_KEYS and key not in self._buckets:
                self._buckets.clear()  # bounded memory; a full reset only ever gives clients more, never less
            self._buckets[key] = (tokens - cost, now)
