"""Numbers and words about a :class:`~awsome_core.history.queries.HistoryFrame`: counts, the weekday × hour
grid, streaks and a one-line summary ("Mostly calm this week (42% of 310 readings); happiest on Saturday
mornings.").

**Time zones.** Readings are stored in UTC. Every function here takes ``tz``: an IANA name such as
``"Europe/Berlin"`` (the page passes the browser's), or None for UTC. Local time decides the weekday,
the hour, the day of a streak and the calendar days of a date range. An unknown name falls back to
UTC (logged). Local times are computed per UTC hour, which is exact wherever offsets change on the hour.

Parts of the day: night 22–5 h, morning 5–12 h, afternoon 12–17 h, evening 17–22 h.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from awsome_core.emotions import EMOTIONS
from awsome_core.history.queries import HistoryFrame

logger = logging.getLogger(__name__)

WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: How the summary names each emotion ("mostly calm").
MOOD_WORDS: Final = {
    "angry": "angry",
    "disgust": "disgusted",
    "fear": "anxious",
    "happy": "happy",
    "sad": "sad",
    "surprise": "surprised",
    "neutral": "calm",
}
#: Part of the day of each local hour 0..23.
PART_OF_DAY: Final = tuple(
    "night" if h < 5 or h >= 22 else "morning" if h < 12 else "afternoon" if h < 17 else "evening" for h in range(24)
)
_PARTS: Final = ("morning", "afternoon", "evening", "night")
_EPOCH_WEEKDAY: Final = 3  # 1970-01-01 was a Thursday (Monday = 0)


@dataclass(frozen=True)
class Streaks:
    """Runs of consecutive local days with at least one reading."""

    current: int  # the run that ends today, or yesterday (today may still come); 0 if neither had a reading
    longest: int
    active_days: int  # distinct days with a reading


def resolve_timezone(name: str | None) -> tzinfo:
    """The zone called *name*; UTC for None, "" or an unknown name (logged)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown time zone %r; using UTC", name)
        return UTC


def to_local(created_at: np.ndarray, tz: str | None = None) -> np.ndarray:
    """UTC ``datetime64[us]`` → local wall-clock ``datetime64[us]`` in *tz* (None: unchanged)."""
    zone = resolve_timezone(tz)
    if zone is UTC or created_at.size == 0:
        return created_at
    hours, inverse = np.unique(created_at.astype("datetime64[h]"), return_inverse=True)
    offsets = np.array([_offset_minutes(h, zone) for h in hours.tolist()], dtype=np.int64)
    local: np.ndarray = created_at + offsets[inverse].astype("timedelta64[m]")
    return local


def _offset_minutes(utc_hour: datetime, zone: tzinfo) -> int:
    offset = utc_hour.replace(tzinfo=UTC).astimezone(zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def local_today(tz: str | None = None, now: datetime | None = None) -> date:
    """Today's date in *tz*."""
    return (now or datetime.now(UTC)).astimezone(resolve_timezone(tz)).date()


def day_range(start: date, end: date, tz: str | None = None) -> tuple[datetime, datetime]:
    """The UTC instants ``[since, until)`` covering the local days *start* to *end*, both included."""
    zone = resolve_timezone(tz)
    since = datetime.combine(start, time(0), tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone)
    return since.astimezone(UTC), until.astimezone(UTC)


def period_phrase(start: date, end: date, today: date) -> str:
    """How the summary names a range: "today", "this week" (the 7 days up to today) or "from 1 Mar to 30 Mar"."""
    if start == end == today:
        return "today"
    if end == today and (end - start).days == 6:
        return "this week"
    if start == end:
        return f"on {_day_month(start, today)}"
    return f"from {_day_month(start, today)} to {_day_month(end, today)}"


def _day_month(day: date, today: date) -> str:
    return f"{day.day} {day.strftime('%b')}" + (f" {day.year}" if day.year != today.year else "")


def emotion_counts(frame: HistoryFrame) -> dict[str, int]:
    """Readings per emotion (corrected where corrected), in EMOTIONS order, zeros included."""
    counts = np.bincount(frame.emotion.astype(np.int64), minlength=len(EMOTIONS))
    return {name: int(c) for name, c in zip(EMOTIONS, counts, strict=True)}


def weekday_hour_grid(frame: HistoryFrame, tz: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, mean_valence)``, each 7 × 24 (Monday first, local hours); mean is NaN where count is 0."""
    local = to_local(frame.created_at, tz)
    weekday, hour = _weekday(local), _hour(local)
    cell = weekday * 24 + hour
    counts = np.bincount(cell, minlength=7 * 24)
    sums = np.bincount(cell, weights=frame.valence, minlength=7 * 24)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return counts.reshape(7, 24), mean.reshape(7, 24)


def _days(local: np.ndarray) -> np.ndarray:
    return local.astype("datetime64[D]").astype(np.int64)


def _weekday(local: np.ndarray) -> np.ndarray:
    return (_days(local) + _EPOCH_WEEKDAY) % 7


def _hour(local: np.ndarray) -> np.ndarray:
    hours: np.ndarray = (local - local.astype("datetime64[D]")).astype("timedelta64[h]").astype(np.int64)
    return hours


def compute_streaks(created_at: np.ndarray, *, tz: str | None = None, today: date | None = None) -> Streaks:
    """Streaks of the readings at *created_at* (UTC ``datetime64[us]``); *today* defaults to today in *tz*."""
    days = np.unique(_days(to_local(created_at, tz)))
    if days.size == 0:
        return Streaks(current=0, longest=0, active_days=0)
    breaks = np.flatnonzero(np.diff(days) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [days.size - 1]))
    lengths = ends - starts + 1
    today_n = (today or local_today(tz)).toordinal() - date(1970, 1, 1).toordinal()
    current = int(lengths[-1]) if today_n - days[-1] in (0, 1) else 0
    return Streaks(current=current, longest=int(lengths.max()), active_days=int(days.size))


def summary_text(frame: HistoryFrame, *, tz: str | None = None, period: str = "in this period") -> str:
    """One or two clauses in plain words: the most common mood and when the user was happiest.

    "Happiest" is the weekday and part of the day with the highest mean valence, among slots holding
    at least 5% of the readings (and at least 2), and only when readings fall in two or more slots.
    """
    n = len(frame)
    if n == 0:
        return f"No readings {period}."
    counts = emotion_counts(frame)
    top = max(EMOTIONS, key=lambda e: counts[e])
    share = round(100 * counts[top] / n)
    text = f"Mostly {MOOD_WORDS[top]} {period} ({share}% of {n} reading{'s' if n != 1 else ''})"
    happiest = _happiest_slot(frame, tz)
    return f"{text}; happiest on {happiest}." if happiest else f"{text}."


def _happiest_slot(frame: HistoryFrame, tz: str | None) -> str | None:
    local = to_local(frame.created_at, tz)
    part = np.asarray([_PARTS.index(p) for p in PART_OF_DAY])[_hour(local)]
    slot = _weekday(local) * len(_PARTS) + part
    counts = np.bincount(slot, minlength=7 * len(_PARTS))
    if np.count_nonzero(counts) < 2:
        return None
    sums = np.bincount(slot, weights=frame.valence, minlength=7 * len(_PARTS))
    eligible = counts >= max(2, 0.05 * len(frame))
    if not eligible.any():
        eligible = counts > 0
    means = np.where(eligible, sums / np.maximum(counts, 1), -np.inf)
    best = int(np.argmax(means))
    return f"{WEEKDAYS[best // len(_PARTS)]} {_PARTS[best % len(_PARTS)]}s"
