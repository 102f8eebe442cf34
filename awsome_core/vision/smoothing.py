"""Smoothing of live readings, and the hand-off from the webrtc callback thread to the script thread.

The webrtc callback runs in its own thread: it must never touch ``st.*``, the session or the database.
It classifies a frame, feeds the :class:`ProbabilitySmoother` and puts the result into a
:class:`LatestResult`; the Streamlit script thread reads that holder. Both classes are thread-safe.
Probabilities are 7-vectors in :data:`awsome_core.emotions.EMOTIONS` order.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from awsome_core.emotions import EMOTIONS

T = TypeVar("T")


class ProbabilitySmoother:
    """Time-based exponential moving average of probability vectors.

    A reading's weight decays with time constant ``tau`` seconds (``alpha = 1 - exp(-dt / tau)``), so the
    result does not depend on the frame rate; after ``reset_after`` seconds without a reading (the face
    left) the next reading starts afresh. Thread-safe.
    """

    def __init__(
        self, tau: float = 1.0, *, reset_after: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if tau <= 0:
            raise ValueError("tau must be positive")
        self.tau, self.reset_after, self._clock = tau, reset_after, clock
        self._lock = threading.Lock()
        self._value: np.ndarray | None = None
        self._last = 0.0

    def update(self, probabilities: Sequence[float] | np.ndarray, now: float | None = None) -> np.ndarray:
        """Add one reading (7 values) and return the smoothed vector (sums to 1)."""
        p = np.asarray(probabilities, dtype=np.float64).ravel()
        if p.shape != (len(EMOTIONS),):
            raise ValueError(f"expected {len(EMOTIONS)} probabilities, got shape {p.shape}")
        now = self._clock() if now is None else now
        with self._lock:
            dt = now - self._last
            if self._value is None or dt > self.reset_after or dt < 0:
                self._value = p.copy()
            else:
                alpha = 1.0 - math.exp(-dt / self.tau)
                self._value = (1 - alpha) * self._value + alpha * p
            self._last = now
            total = self._value.sum()
            return self._value / total if total > 0 else self._value.copy()

    @property
    def value(self) -> np.ndarray | None:
        """The current smoothed vector, or ``None`` before the first reading / after :meth:`reset`."""
        with self._lock:
            return None if self._value is None else self._value / max(self._value.sum(), 1e-12)

    def reset(self) -> None:
        with self._lock:
            self._value = None


@dataclass(frozen=True)
class Stamped(Generic[T]):
    """A value and the ``time.monotonic()`` moment it was stored."""

    value: T
    at: float

    def age(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.at


class LatestResult(Generic[T]):
    """Lock-guarded holder of the newest result: the callback thread :meth:`set`s, the script thread
    :meth:`get`s. Older results are simply replaced (a live view wants the latest, not a queue)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._item: Stamped[T] | None = None
        self._clock = clock

    def set(self, value: T) -> None:
        with self._lock:
            self._item = Stamped(value, self._clock())

    def get(self, max_age: float | None = None) -> T | None:
        """The newest value, or ``None`` if there is none or it is older than *max_age* seconds."""
        item = self.get_stamped()
        if item is None or (max_age is not None and item.age(self._clock()) > max_age):
            return None
        return item.value

    def get_stamped(self) -> Stamped[T] | None:
        with self._lock:
            return self._item

    def clear(self) -> None:
        with self._lock:
            self._item = None
