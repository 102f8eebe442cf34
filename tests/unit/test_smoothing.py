"""ProbabilitySmoother (time-based EMA) and LatestResult (callback → script thread hand-off)."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from awsome_core.vision.smoothing import LatestResult, ProbabilitySmoother

HAPPY = np.eye(7)[3]
SAD = np.eye(7)[4]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_smoother_first_reading_is_returned_unchanged() -> None:
    s = ProbabilitySmoother(tau=1.0)
    assert np.allclose(s.update(HAPPY, now=0.0), HAPPY)
    assert np.allclose(s.value, HAPPY)


def test_smoother_step_reaches_63_percent_after_tau_whatever_the_frame_rate() -> None:
    for fps in (5, 15, 30):
        s = ProbabilitySmoother(tau=1.0)
        s.update(HAPPY, now=0.0)
        out = None
        for i in range(1, fps + 1):
            out = s.update(SAD, now=i / fps)
        assert out[4] == pytest.approx(1 - math.exp(-1), abs=1e-9)
        assert out.sum() == pytest.approx(1.0)


def test_smoother_starts_afresh_after_a_gap() -> None:
    s = ProbabilitySmoother(tau=1.0, reset_after=2.0)
    s.update(HAPPY, now=0.0)
    assert np.allclose(s.update(SAD, now=5.0), SAD)


def test_smoother_reset_and_bad_input() -> None:
    s = ProbabilitySmoother()
    s.update(HAPPY, now=0.0)
    s.reset()
    assert s.value is None
    with pytest.raises(ValueError, match="7 probabilities"):
        s.update([0.5, 0.5])
    with pytest.raises(ValueError):
        ProbabilitySmoother(tau=0)


def test_smoother_uses_its_clock() -> None:
    clock = FakeClock()
    s = ProbabilitySmoother(tau=1.0, clock=clock)
    s.update(HAPPY)
    clock.now += 1.0
    assert s.update(SAD)[4] == pytest.approx(1 - math.exp(-1))


def test_smoother_is_thread_safe() -> None:
    s = ProbabilitySmoother(tau=0.5)
    rng = np.random.default_rng(0)
    readings = rng.dirichlet(np.ones(7), size=400)

    def feed(rows: np.ndarray) -> None:
        for r in rows:
            assert s.update(r).sum() == pytest.approx(1.0)

    threads = [threading.Thread(target=feed, args=(readings[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.value is not None and s.value.sum() == pytest.approx(1.0)


def test_latest_result_returns_newest_value_and_respects_max_age() -> None:
    clock = FakeClock()
    holder: LatestResult[str] = LatestResult(clock=clock)
    assert holder.get() is None
    holder.set("first")
    holder.set("second")
    assert holder.get() == "second"
    clock.now += 3.0
    assert holder.get(max_age=5.0) == "second"
    assert holder.get(max_age=1.0) is None
    assert holder.get_stamped().age(clock.now) == pytest.approx(3.0)
    holder.clear()
    assert holder.get() is None


def test_latest_result_across_threads() -> None:
    holder: LatestResult[int] = LatestResult()

    def writer() -> None:
        for i in range(1000):
            holder.set(i)

    t = threading.Thread(target=writer)
    t.start()
    seen = [holder.get() for _ in range(1000)]
    t.join()
    assert holder.get() == 999
    values = [v for v in seen if v is not None]
    assert values == sorted(values)
