"""Benchmark ``recommend_tracks`` top-10 on a synthetic 114,000-track catalog; prints the median.

    .venv/bin/python scripts/bench_recommender.py            # 114,000 tracks, 60 timed calls
    .venv/bin/python scripts/bench_recommender.py --tracks 20000 --calls 20

Builds a temporary SQLite database through the real import path (a CSV in the Spotify Tracks Dataset
layout → ``import_catalog_file``), adds one user with 50 likes/dislikes and 100 recommendations in the
last day, warms the catalog index once, then times calls that cycle through moods and strategies.
The target (issue 4) is a median under 50 ms.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import string
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from awsome_core.emotions import EMOTIONS
from awsome_core.music.catalog import import_catalog_file
from awsome_core.music.recommender import STRATEGIES, recommend_tracks
from awsome_core.storage.db import make_engine, make_sessionmaker
from awsome_core.storage.models import Base, Feedback, Recommendation, User

HEADER = ["", "track_id", "artists", "album_name", "track_name", "popularity", "duration_ms", "explicit",
          "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
          "instrumentalness", "liveness", "valence", "tempo", "time_signature", "track_genre"]  # fmt: skip
ALPHABET = string.ascii_letters + string.digits


def write_synthetic_csv(path: Path, n: int, rng: random.Random) -> None:
    """*n* rows shaped like the real dataset: ~30k artists, 114 genres, beta-distributed features."""
    artists = [f"Artist {i}" for i in range(max(1, n // 4))]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(n):
            track_id = "".join(rng.choices(ALPHABET, k=22))
            names = ";".join(rng.sample(artists, k=1 if rng.random() < 0.8 else 2))
            valence, energy = rng.betavariate(2, 2), rng.betavariate(2.5, 1.8)
            writer.writerow([i, track_id, names, f"Album {i // 10}", f"Track {i}", rng.randint(0, 100),
                             rng.randint(90_000, 400_000), rng.random() < 0.1, round(rng.random(), 3),
                             round(energy, 3), rng.randint(0, 11), round(-rng.uniform(2, 30), 2), rng.randint(0, 1),
                             round(rng.random() / 4, 3), round(rng.random(), 3), round(rng.random() / 2, 3),
                             round(rng.random() / 2, 3), round(valence, 3), round(rng.uniform(60, 200), 3), 4,
                             f"genre-{i % 114}"])  # fmt: skip


def add_user_history(session_factory: object, rng: random.Random, n_tracks: int) -> int:
    with session_factory() as session:  # type: ignore[operator]
        user = User(username="bench", display_name="Bench", password_hash="x" * 60)
        session.add(user)
        session.flush()
        now = datetime.now(UTC)
        for track_id in rng.sample(range(1, n_tracks + 1), 50):
            session.add(Feedback(user_id=user.id, track_id=track_id, value=rng.choice((1, -1))))
        for i, track_id in enumerate(rng.sample(range(1, n_tracks + 1), 100)):
            session.add(
                Recommendation(user_id=user.id, track_id=track_id, strategy="match", rank=i % 10 + 1,
                               explanation="bench", created_at=now - timedelta(minutes=i))
            )  # fmt: skip
        session.commit()
        return int(user.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=114_000)
    parser.add_argument("--calls", type=int, default=60)
    args = parser.parse_args()
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, db_path = Path(tmp) / "tracks.csv", Path(tmp) / "bench.db"
        write_synthetic_csv(csv_path, args.tracks, rng)
        engine = make_engine(f"sqlite:///{db_path}")
        Base.metadata.create_all(engine)
        factory = make_sessionmaker(engine)
        with factory() as session:
            started = time.perf_counter()
            report = import_catalog_file(session=session, path=csv_path)
            print(f"import: {report.inserted:,} tracks in {time.perf_counter() - started:.1f} s")
        user_id = add_user_history(factory, rng, report.inserted)
        timings = []
        with factory() as session:
            started = time.perf_counter()
            recommend_tracks(session=session, user_id=user_id, probabilities={"neutral": 1.0})
            print(f"first call (builds the catalog index): {1000 * (time.perf_counter() - started):.0f} ms")
            for i in range(args.calls):
                probabilities = {e: rng.random() ** 3 for e in EMOTIONS}
                strategy = STRATEGIES[i % len(STRATEGIES)]
                started = time.perf_counter()
                picks = recommend_tracks(
                    session=session, user_id=user_id, probabilities=probabilities, strategy=strategy, seed=i
                )
                timings.append(1000 * (time.perf_counter() - started))
                assert len(picks) == 10, len(picks)
        engine.dispose()
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(0.95 * len(timings)))]
    print(f"recommend_tracks top-10 over {args.tracks:,} tracks, {args.calls} calls: "
          f"median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
