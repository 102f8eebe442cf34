"""What one recommendation (the Photo page's Confirm: rank, record, size the catalog) costs at full catalog size.

Run commands::

    .venv/bin/python scripts/bench_recommend.py                       # SQLite in a temporary folder
    .venv/bin/python scripts/bench_recommend.py --mysql mysql+pymysql://root@127.0.0.1:3306/   # AWSOME_TEST_MYSQL_URL

It fills a throwaway database with ``--tracks`` synthetic tracks (random valence, energy, danceability,
popularity; no data from ``../shared``: the figure is about the database, not the music), signs up one user,
and times ``recommend_for_reading`` (the service the Photo page and ``POST /v1/readings/{id}/
recommendations`` call) after each of ``--readings`` new readings, the first three left out (the catalog index
is built on the first). It prints the median and the 90th percentile of the wall time, in milliseconds.
The load test's catalog is the small starter one, so this is where a cost that grows with the catalog shows.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sqlalchemy import insert

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from awsome_core import auth  # noqa: E402
from awsome_core.services.readings import save_reading  # noqa: E402
from awsome_core.services.recommendations import recommend_for_reading  # noqa: E402
from awsome_core.storage.db import make_engine, make_sessionmaker, temporary_mysql_database, upgrade_database  # noqa: E402
from awsome_core.storage.models import Track  # noqa: E402
from scripts.load_test import PASSWORD  # noqa: E402

logger = logging.getLogger("awsome.bench_recommend")
HAPPY = {"angry": 0.05, "disgust": 0.01, "fear": 0.04, "happy": 0.7, "sad": 0.05, "surprise": 0.05, "neutral": 0.1}


@contextlib.contextmanager
def database(mysql_server: str) -> Iterator[str]:
    if mysql_server:
        with temporary_mysql_database(mysql_server, prefix="awsome_benchrec") as url:
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix="awsome-benchrec-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def fill_catalog(url: str, tracks: int) -> None:
    rng = random.Random(0)
    rows = [
        {"spotify_id": f"{i:022d}", "title": f"Track {i}", "artists": f"Artist {i % 9000}",
         "genre": rng.choice(["pop", "rock", "jazz", "acoustic", "dance"]), "source": "spotify_tracks_dataset",
         "valence": rng.random(), "energy": rng.random(), "danceability": rng.random(),
         "popularity": rng.randint(0, 100)}
        for i in range(tracks)
    ]  # fmt: skip
    engine = make_engine(url)
    with engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(insert(Track), rows[start : start + 10_000])
    engine.dispose()


def bench(url: str, readings: int) -> list[float]:
    """Milliseconds per ``recommend_for_reading``, one per reading after the first three."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        user = auth.register_user(session=session, username="bench", display_name="Bench", password=PASSWORD,
                                  rounds=4)  # fmt: skip
    times = []
    for i in range(readings + 3):
        reading = save_reading(
            sessions=sessions, user_id=user.id, probabilities=HAPPY, source="photo", model_version="b"
        )
        start = time.perf_counter()
        recommend_for_reading(sessions=sessions, user_id=user.id, reading_id=reading.id)
        if i >= 3:
            times.append(1000 * (time.perf_counter() - start))
    engine.dispose()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mysql", default=os.environ.get("AWSOME_TEST_MYSQL_URL", ""), help="MySQL server URL")
    parser.add_argument("--sqlite", action="store_true", help="SQLite even when AWSOME_TEST_MYSQL_URL is set")
    parser.add_argument("--tracks", type=int, default=114_000, help="catalog size (the full public catalog's)")
    parser.add_argument("--readings", type=int, default=25)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with database("" if args.sqlite else args.mysql) as url:
        upgrade_database(url)
        fill_catalog(url, args.tracks)
        times = bench(url, args.readings)
    backend = "SQLite" if args.sqlite or not args.mysql else "MySQL"
    print(
        f"recommend: {backend} tracks {args.tracks} readings {len(times)} "
        f"median_ms {np.median(times):.1f} p90_ms {np.percentile(times, 90):.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
