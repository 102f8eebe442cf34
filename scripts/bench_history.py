"""Benchmark the History page's queries over 30 days for a user with 100,000 readings; prints median and p95.

    .venv/bin/python scripts/bench_history.py                      # SQLite only
    .venv/bin/python scripts/bench_history.py --mysql-url mysql+pymysql://root@127.0.0.1:3306/
    AWSOME_TEST_MYSQL_URL=mysql+pymysql://root@127.0.0.1:3306/ .venv/bin/python scripts/bench_history.py
    .venv/bin/python scripts/bench_history.py --events 20000 --repeats 50

Seeds user A with 100,000 readings spread over the past year (a recommendation batch of 5 tracks after
every 10th reading, likes/dislikes of 300 tracks) and user B with 1,000 readings over the same year
(tracks of their own), with Core bulk inserts in chunks, into a temporary SQLite file migrated with
Alembic -- and, given a MySQL server URL, into a throwaway database ``awsome_bench_<hex>`` dropped
afterwards. It then times, per backend, over ``--repeats`` runs in a fresh session each (after 2
warm-up runs): ``load_dashboard`` for the last 30 days (every query the page runs), and the same plus
the summary and all figures. The target (issue 6) is a query median under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, insert, make_url, select

from awsome_core.emotions import EMOTIONS, VALENCE_AROUSAL
from awsome_core.history import figures, load_dashboard
from awsome_core.history.summary import compute_streaks, summary_text
from awsome_core.music.recommender import STRATEGIES
from awsome_core.storage.db import make_engine, make_sessionmaker, temporary_mysql_database, upgrade_database
from awsome_core.storage.models import Feedback, MoodEvent, Recommendation, Track, User
from awsome_core.storage.repository import SOURCES

CHUNK = 5_000
TRACKS_PER_USER = 1_000


@dataclass(frozen=True)
class SeededUser:
    user_id: int
    events: int
    recommendations: int
    feedback: int
    track_ids: range  # the only tracks this user was recommended or rated


def seed_history(
    engine: Engine,
    *,
    events_a: int = 100_000,
    events_b: int = 1_000,
    days: int = 365,
    now: datetime | None = None,
    seed: int = 6,
) -> tuple[SeededUser, SeededUser]:
    """Seed users A and B (see the module docstring) on a migrated database; return what each owns."""
    now = now or datetime.now(UTC)
    rng = np.random.default_rng(seed)
    with engine.begin() as conn:
        first_track = (conn.scalar(select(func.max(Track.id))) or 0) + 1
        tracks = [_track_row(first_track + i, now) for i in range(2 * TRACKS_PER_USER)]
        _insert_chunks(conn, Track, tracks)
        users = []
        for label, n, offset in (("a", events_a, 0), ("b", events_b, TRACKS_PER_USER)):
            user_id = _insert_user(conn, f"bench_{label}_{uuid.uuid4().hex[:8]}", now)
            track_ids = range(first_track + offset, first_track + offset + TRACKS_PER_USER)
            users.append(_seed_user(conn, rng, user_id, n, days, now, track_ids))
    return users[0], users[1]


def _insert_user(conn: Any, username: str, now: datetime) -> int:
    row = {
        "username": username,
        "display_name": username,
        "password_hash": "x" * 60,
        "store_images": False,
        "created_at": now,
        "password_changed_at": now,
    }
    return int(conn.execute(insert(User).values(**row)).inserted_primary_key[0])


def _track_row(track_id: int, now: datetime) -> dict[str, Any]:
    return {
        "id": track_id,
        "title": f"Track {track_id}",
        "artists": f"Artist {track_id % 300}",
        "source": "bench",
        "valence": (track_id * 37 % 100) / 100,
        "energy": (track_id * 61 % 100) / 100,
        "created_at": now,
    }


def _seed_user(
    conn: Any, rng: np.random.Generator, user_id: int, n: int, days: int, now: datetime, track_ids: range
) -> SeededUser:
    first_event = (conn.scalar(select(func.max(MoodEvent.id))) or 0) + 1
    offsets_s = np.sort(rng.uniform(0, days * 86400, n))[::-1]  # oldest first
    times = [now - timedelta(seconds=float(s)) for s in offsets_s]
    probs = rng.dirichlet(np.full(len(EMOTIONS), 0.6), n)
    events = [_event_row(first_event + i, user_id, times[i], probs[i], rng) for i in range(n)]
    _insert_chunks(conn, MoodEvent, events)
    recs = []
    for i in range(0, n, 10):
        strategy = STRATEGIES[int(rng.integers(len(STRATEGIES)))]
        picks = rng.choice(len(track_ids), 5, replace=False)
        recs += [
            {
                "user_id": user_id,
                "mood_event_id": first_event + i,
                "track_id": track_ids[int(p)],
                "strategy": strategy,
                "rank": r + 1,
                "explanation": "bench",
                "created_at": times[i] + timedelta(seconds=2),
            }
            for r, p in enumerate(picks)
        ]
    _insert_chunks(conn, Recommendation, recs)
    rated = rng.choice(len(track_ids), min(300, len(track_ids) // 3), replace=False)
    feedback = [
        {
            "user_id": user_id,
            "track_id": track_ids[int(p)],
            "value": 1 if rng.random() < 0.7 else -1,
            "created_at": now - timedelta(days=float(rng.uniform(0, days))),
        }
        for p in rated
    ]
    _insert_chunks(conn, Feedback, feedback)
    return SeededUser(user_id, n, len(recs), len(feedback), track_ids)


def _event_row(event_id: int, user_id: int, at: datetime, p: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    probs = {e: float(v) for e, v in zip(EMOTIONS, p, strict=True)}
    valence = sum(probs[e] * VALENCE_AROUSAL[e][0] for e in EMOTIONS)
    arousal = sum(probs[e] * VALENCE_AROUSAL[e][1] for e in EMOTIONS)
    corrected = EMOTIONS[int(rng.integers(len(EMOTIONS)))] if rng.random() < 0.02 else None
    return {
        "id": event_id,
        "user_id": user_id,
        "created_at": at,
        **probs,
        "valence": valence,
        "arousal": arousal,
        "top_emotion": EMOTIONS[int(np.argmax(p))],
        "corrected_emotion": corrected,
        "source": SOURCES[int(rng.integers(len(SOURCES)))],
        "model_version": "bench-v1",
        "face_count": 1,
    }


def _insert_chunks(conn: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(model), rows[start : start + CHUNK])


def time_dashboard(
    engine: Engine, user_id: int, *, days: int = 30, repeats: int = 20, with_figures: bool = False
) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per run of the page's work for the last *days* days (fresh session each run, 2 warm-ups)."""
    maker = make_sessionmaker(engine)

    def run() -> None:
        until = datetime.now(UTC)
        with maker() as session:
            dash = load_dashboard(session=session, user_id=user_id, since=until - timedelta(days=days), until=until)
        if with_figures:
            summary_text(dash.frame), compute_streaks(dash.frame.created_at)
            for build in (
                figures.timeline_figure,
                figures.probability_area_figure,
                figures.top_emotion_figure,
                figures.heatmap_figure,
            ):
                build(dash.frame)
            figures.help_figure(dash.effects)

    return _timed(run, repeats)


def _timed(run: Callable[[], None], repeats: int) -> list[tuple[float, float]]:
    """(wall, this process's CPU) seconds per run: CPU time is what a busy machine cannot inflate."""
    for _ in range(2):
        run()
    samples = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        run()
        samples.append((time.perf_counter() - start, time.process_time() - cpu))
    return samples


def bench(label: str, url: str, args: argparse.Namespace) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    try:
        start = time.perf_counter()
        a, b = seed_history(engine, events_a=args.events, events_b=args.other_events)
        print(
            f"{label}: seeded {a.events:,} + {b.events:,} readings, {a.recommendations + b.recommendations:,} "
            f"recommendations in {time.perf_counter() - start:.1f} s"
        )
        until = datetime.now(UTC)
        with make_sessionmaker(engine)() as session:
            rows = len(
                load_dashboard(session=session, user_id=a.user_id, since=until - timedelta(days=30), until=until).frame
            )
        for what, with_figures in (("queries", False), ("queries + summary + figures", True)):
            samples = time_dashboard(engine, a.user_id, repeats=args.repeats, with_figures=with_figures)
            wall, cpu = [s[0] for s in samples], [s[1] for s in samples]
            print(
                f"{label}: 30 days ({rows:,} readings), {what}: median {_ms(statistics.median(wall))}, "
                f"p95 {_ms(float(np.percentile(wall, 95)))} over {len(wall)} runs "
                f"(client CPU median {_ms(statistics.median(cpu))})"
            )
    finally:
        engine.dispose()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="readings of user A")
    parser.add_argument("--other-events", type=int, default=1_000, help="readings of user B")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--mysql-url",
        default=os.environ.get("AWSOME_TEST_MYSQL_URL", ""),
        help="MySQL/MariaDB server URL (default: $AWSOME_TEST_MYSQL_URL; empty: SQLite only)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if args.mysql_url:
        with temporary_mysql_database(args.mysql_url, prefix="awsome_bench") as url:
            bench(make_url(url).get_backend_name(), url, args)


if __name__ == "__main__":
    main()
