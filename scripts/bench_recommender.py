"""How well and how fast ``recommend_tracks`` picks: per emotion × strategy fit, and top-10 latency at 114,000 tracks.

    .venv/bin/python scripts/bench_recommender.py                      # fit on the 15k sample + latency
    .venv/bin/python scripts/bench_recommender.py --catalog starter    # fit on the packaged starter catalog
    .venv/bin/python scripts/bench_recommender.py --skip-latency --calls 20

**Fit.** A fresh SQLite database gets the catalog (``--catalog sample15k``: the 15,000-track sample of the
Spotify Tracks Dataset in ``../shared/data/music``; ``starter``: the catalog packaged with the app). For each
emotion (one-hot reading) × strategy the top 10 are ranked with no user history, and the script prints their
mean valence / energy / tempo / loudness, the share that a mood classifier trained on the mood-labelled files
(``scripts/mood_judge.py``, its cross-validated accuracy printed first) puts in the moods the strategy should
give (:data:`EXPECTED`; for ``lift`` the second half of the list, where the lift should have arrived), the
number of distinct genres, and for ``lift`` the valence gain from the first half of the list to the second.

**Latency.** 114,000 rows resampled from the 15k file (fresh ids, features jittered by ±0.02) go through the real
import path; one user with 50 likes/dislikes and 100 recommendations in the last day; after one warm-up call
that builds the catalog index, the median and p95 of top-10 calls cycling through moods and strategies.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import string
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from mood_judge import FEATURES, MoodJudge, cross_validate, load_labelled

from awsome_core.emotions import EMOTIONS
from awsome_core.music.catalog import import_catalog_file
from awsome_core.music.recommender import STRATEGIES, recommend_tracks
from awsome_core.storage.db import make_engine, make_sessionmaker
from awsome_core.storage.models import Base, Feedback, Recommendation, User

logger = logging.getLogger("bench_recommender")
MUSIC_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "music"
SAMPLE = "spotify_tracks_114k_sample15k.csv"
ALPHABET = string.ascii_letters + string.digits
BRIGHT = {"Happy", "Energetic"}
#: (emotion or "*", strategy) → moods the picks should land in; the first matching key wins.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("happy", "match"): BRIGHT,
    ("surprise", "match"): BRIGHT,
    ("sad", "match"): {"Sad", "Calm"},
    ("angry", "match"): {"Energetic"},
    ("fear", "match"): {"Energetic", "Sad"},
    ("disgust", "match"): {"Energetic", "Sad"},
    ("neutral", "match"): {"Happy", "Sad", "Calm"},
    ("*", "calm"): {"Calm"},
    ("*", "energize"): BRIGHT,
    ("*", "lift"): BRIGHT,
}


def expected(emotion: str, strategy: str) -> set[str]:
    return EXPECTED.get((emotion, strategy)) or EXPECTED[("*", strategy)]


def fit_table(catalog: Path | None, judge: MoodJudge) -> None:
    """Print one line per emotion × strategy (see the module doc), then the overall share."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'fit.db'}")
        Base.metadata.create_all(engine)
        factory = make_sessionmaker(engine)
        with factory() as session:
            if catalog is None:
                from awsome_core.music.starter import ensure_starter_catalog

                ensure_starter_catalog(session=session)
            else:
                import_catalog_file(session=session, path=catalog)
            logger.info("%-9s %-9s %5s %5s %5s %6s %6s %4s %6s", "emotion", "strategy", "val", "energy", "tempo",
                        "loud", "fit", "gen", "Δval")  # fmt: skip
            shares = []
            for strategy in STRATEGIES:
                for emotion in EMOTIONS:
                    picks = recommend_tracks(
                        session=session, user_id=None, probabilities={emotion: 1.0}, strategy=strategy
                    )
                    rows = pd.DataFrame([{c: getattr(p.track, c) for c in (*FEATURES, "genre")} for p in picks])
                    moods = judge.predict(rows.fillna(rows.mean(numeric_only=True)))
                    judged = moods[len(moods) // 2 :] if strategy == "lift" else moods
                    share = float(np.mean([m in expected(emotion, strategy) for m in judged]))
                    shares.append(share)
                    half = len(rows) // 2
                    gain = rows["valence"][half:].mean() - rows["valence"][:half].mean()
                    logger.info(
                        "%-9s %-9s %5.2f %6.2f %5.0f %6.1f %5.0f%% %4d %6s", emotion, strategy, rows["valence"].mean(),
                        rows["energy"].mean(), rows["tempo"].mean(), rows["loudness"].mean(), 100 * share,
                        rows["genre"].nunique(), f"{gain:+.2f}" if strategy == "lift" else "",
                    )  # fmt: skip
        engine.dispose()
    logger.info("picks in the expected moods, all %d lists: %.0f%%", len(shares), 100 * float(np.mean(shares)))


def write_resampled_csv(path: Path, n: int, rng: random.Random) -> None:
    """*n* rows drawn with replacement from the 15k sample: fresh ids, features jittered by ±0.02."""
    sample = pd.read_csv(MUSIC_DIR / SAMPLE).dropna(subset=["track_name", "artists"])
    rows = sample.sample(n=n, replace=True, random_state=rng.randint(0, 2**31)).reset_index(drop=True)
    noise = np.random.default_rng(rng.randint(0, 2**31))
    for column in ("valence", "energy", "danceability", "acousticness"):
        rows[column] = np.clip(rows[column] + noise.uniform(-0.02, 0.02, n), 0.0, 1.0).round(3)
    rows["track_id"] = ["".join(rng.choices(ALPHABET, k=22)) for _ in range(n)]
    rows.to_csv(path, index=False)


def add_user_history(factory: object, rng: random.Random, n_tracks: int) -> int:
    with factory() as session:  # type: ignore[operator]
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


def latency(n_tracks: int, calls: int) -> None:
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, db_path = Path(tmp) / "tracks.csv", Path(tmp) / "bench.db"
        write_resampled_csv(csv_path, n_tracks, rng)
        engine = make_engine(f"sqlite:///{db_path}")
        Base.metadata.create_all(engine)
        factory = make_sessionmaker(engine)
        with factory() as session:
            started = time.perf_counter()
            report = import_catalog_file(session=session, path=csv_path)
            logger.info("import: %s tracks in %.1f s", f"{report.inserted:,}", time.perf_counter() - started)
        user_id = add_user_history(factory, rng, report.inserted)
        timings = []
        with factory() as session:
            started = time.perf_counter()
            recommend_tracks(session=session, user_id=user_id, probabilities={"neutral": 1.0})
            logger.info("first call (builds the catalog index): %.0f ms", 1000 * (time.perf_counter() - started))
            for i in range(calls):
                probabilities = {e: rng.random() ** 3 for e in EMOTIONS}
                strategy = STRATEGIES[i % len(STRATEGIES)]
                started = time.perf_counter()
                picks = recommend_tracks(
                    session=session, user_id=user_id, probabilities=probabilities, strategy=strategy, seed=i
                )
                timings.append(1000 * (time.perf_counter() - started))
                if len(picks) != 10:
                    raise RuntimeError(f"expected 10 picks, got {len(picks)}")
        engine.dispose()
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(0.95 * len(timings)))]
    logger.info(
        "recommend_tracks top-10 over %s tracks, %d calls: median %.1f ms, p95 %.1f ms, max %.1f ms",
        f"{report.inserted:,}", calls, statistics.median(timings), p95, timings[-1],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    logging.getLogger("awsome_core").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", choices=("sample15k", "starter"), default="sample15k")
    parser.add_argument("--tracks", type=int, default=114_000, help="catalog size for the latency run")
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--skip-fit", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args(argv)
    if not (MUSIC_DIR / SAMPLE).exists():
        logger.error("needs %s (the shared music data)", MUSIC_DIR / SAMPLE)
        return 1
    if not args.skip_fit:
        labelled = load_labelled(MUSIC_DIR)
        logger.info("mood judge: %d labelled tracks, 5-fold accuracy %.0f%%", len(labelled),
                    100 * cross_validate(labelled))  # fmt: skip
        judge = MoodJudge.fit(labelled)
        fit_table(None if args.catalog == "starter" else MUSIC_DIR / SAMPLE, judge)
    if not args.skip_latency:
        latency(args.tracks, args.calls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
