"""Recommender: strategy targets, ranking rules, personalisation, starter fallback, explanations."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from awsome_core.emotions import EMOTIONS
from awsome_core.music.catalog import TrackRecord, upsert_tracks
from awsome_core.music.index import clear_catalog_index_cache
from awsome_core.music.recommender import (
    LIFT_GOAL,
    LIFT_STEP,
    default_strategy,
    describe_track,
    plan_targets,
    recommend_tracks,
)
from awsome_core.music.starter import MOOD_POINTS, STARTER_SOURCE, load_starter_tracks
from awsome_core.storage.models import Base, Feedback, Recommendation, Track, User

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def session(tmp_path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'rec.db'}")
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as s:
        s.add(User(username="ann", display_name="Ann", password_hash="x" * 60))
        s.commit()
        yield s
    engine.dispose()
    clear_catalog_index_cache()


def _sid(i: int) -> str:
    return f"{i:022d}"


def add_grid(session: Session, steps: int = 21, *, genre: str = "pop") -> None:
    """A (steps x steps) grid of tracks over valence x energy, one artist each."""
    records = [
        TrackRecord(
            title=f"T{i}-{j}",
            artists=f"Artist {i}-{j}",
            spotify_id=_sid(i * 100 + j),
            genre=genre,
            valence=i / (steps - 1),
            energy=j / (steps - 1),
            source="test",
        )
        for i in range(steps)
        for j in range(steps)
    ]
    upsert_tracks(session=session, records=records)


def test_plan_targets_match_repeats_the_mood_point() -> None:
    assert plan_targets((0.2, 0.3), "match", 3) == [(0.2, 0.3)] * 3


def test_plan_targets_lift_starts_at_the_mood_and_steps_toward_the_goal() -> None:
    targets = plan_targets((0.15, 0.25), "lift", 10)
    assert targets[0] == (0.15, 0.25)
    valences = [v for v, _ in targets]
    assert valences == sorted(valences)
    steps = [((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 for a, b in zip(targets, targets[1:], strict=False)]
    assert max(steps) <= LIFT_STEP + 1e-9
    assert targets[-1] == pytest.approx(LIFT_GOAL, abs=0.05)
    assert plan_targets((0.15, 0.25), "lift", 30)[-1] == pytest.approx(LIFT_GOAL)


def test_plan_targets_lift_from_a_happy_mood_is_match() -> None:
    assert plan_targets((0.9, 0.7), "lift", 4) == [(0.9, 0.7)] * 4


def test_plan_targets_calm_and_energize_set_the_energy() -> None:
    assert all(e == 0.20 and 0.35 <= v <= 0.70 for v, e in plan_targets((0.1, 0.9), "calm", 3))
    assert all(e == 0.85 and 0.55 <= v <= 0.90 for v, e in plan_targets((0.1, 0.2), "energize", 3))


def test_plan_targets_unknown_strategy_raises() -> None:
    with pytest.raises(ValueError, match="match, lift, calm, energize"):
        plan_targets((0.5, 0.5), "party", 3)


@pytest.mark.parametrize(("emotion", "expected"), [(e, "lift") for e in ("sad", "angry", "fear", "disgust")] +
                         [(e, "match") for e in ("happy", "surprise", "neutral")])  # fmt: skip
def test_default_strategy_lifts_negative_moods(emotion: str, expected: str) -> None:
    assert default_strategy({emotion: 0.9, "neutral": 0.1 if emotion != "neutral" else 0.9}) == expected


def test_describe_track_matches_the_issue_example() -> None:
    assert describe_track(0.62, 0.31) == "calm, warm"
    assert describe_track(0.9, 0.9) == "energetic, bright"


def test_recommend_tracks_is_deterministic_for_a_seed(session: Session) -> None:
    add_grid(session)
    kwargs = {"session": session, "user_id": 1, "probabilities": {"happy": 0.7, "neutral": 0.3}, "now": NOW}
    first = [r.track.id for r in recommend_tracks(**kwargs, seed=3)]
    assert first == [r.track.id for r in recommend_tracks(**kwargs, seed=3)]
    others = {tuple(r.track.id for r in recommend_tracks(**kwargs, seed=s)) for s in range(4, 9)}
    assert len(others | {tuple(first)}) > 1


def test_recommend_tracks_match_ranks_by_distance_and_explains(session: Session) -> None:
    add_grid(session)
    recs = recommend_tracks(session=session, user_id=None, probabilities={"sad": 1.0}, strategy="match", now=NOW)
    assert len(recs) == 10 and [r.rank for r in recs] == list(range(1, 11))
    assert all(r.distance < 0.2 and r.target == (0.15, 0.25) for r in recs)
    assert all(re.fullmatch(r"\w+, \w+: valence \d\.\d\d, energy \d\.\d\d", r.explanation) for r in recs)


def test_recommend_tracks_accepts_seven_probabilities(session: Session) -> None:
    add_grid(session)
    values = [0.0] * 7
    values[EMOTIONS.index("happy")] = 1.0
    recs = recommend_tracks(session=session, user_id=None, probabilities=values, now=NOW)
    assert recs[0].strategy == "match" and recs[0].target == (0.9, 0.7)


def test_recommend_tracks_never_repeats_an_artist(session: Session) -> None:
    records = [
        TrackRecord(f"T{i}", "Same Artist" if i < 30 else f"Other {i};Same Artist" if i < 40 else f"Solo {i}",
                    _sid(i), valence=0.5 + i / 1000, energy=0.5, source="test")
        for i in range(60)
    ]  # fmt: skip
    upsert_tracks(session=session, records=records)
    recs = recommend_tracks(session=session, user_id=None, probabilities={"neutral": 1.0}, strategy="match", now=NOW)
    artists = [a.strip().lower() for r in recs for a in r.track.artists.split(";")]
    assert len(recs) == 10 and len(artists) == len(set(artists))


def test_recommend_tracks_skips_disliked_and_recently_heard(session: Session) -> None:
    add_grid(session)
    kwargs = {"session": session, "user_id": 1, "probabilities": {"sad": 1.0}, "strategy": "match", "now": NOW}
    first = recommend_tracks(**kwargs)
    disliked, heard, heard_long_ago = first[0].track.id, first[1].track.id, first[2].track.id
    session.add(Feedback(user_id=1, track_id=disliked, value=-1))
    for track_id, when in ((heard, NOW - timedelta(hours=3)), (heard_long_ago, NOW - timedelta(days=2))):
        session.add(
            Recommendation(user_id=1, track_id=track_id, strategy="match", rank=1, explanation="", created_at=when)
        )
    session.commit()
    again = [r.track.id for r in recommend_tracks(**kwargs)]
    assert disliked not in again and heard not in again
    assert heard_long_ago in again


def test_recommend_tracks_reuses_recent_tracks_only_when_nothing_else_is_left(session: Session) -> None:
    upsert_tracks(
        session=session, records=[TrackRecord(f"T{i}", f"A{i}", _sid(i), valence=0.5, energy=0.5) for i in range(3)]
    )
    ids = list(session.scalars(select(Track.id)))
    for track_id in ids[:2]:
        session.add(
            Recommendation(user_id=1, track_id=track_id, strategy="match", rank=1, explanation="", created_at=NOW)
        )
    session.add(Feedback(user_id=1, track_id=ids[2], value=-1))
    session.commit()
    recs = recommend_tracks(session=session, user_id=1, probabilities={"neutral": 1.0}, n=5, now=NOW)
    assert sorted(r.track.id for r in recs) == ids[:2]  # the disliked one never comes back


def test_recommend_tracks_boosts_liked_artists(session: Session) -> None:
    records = [
        TrackRecord("Exact", "Stranger", _sid(1), valence=0.5, energy=0.4, source="test"),
        TrackRecord("Near", "Favourite", _sid(2), valence=0.53, energy=0.4, source="test"),
        TrackRecord("Liked before", "Favourite", _sid(3), valence=0.1, energy=0.9, source="test"),
    ]
    upsert_tracks(session=session, records=records)
    liked = session.scalar(select(Track.id).where(Track.title == "Liked before"))
    session.add(Feedback(user_id=1, track_id=liked, value=1))
    session.commit()
    recs = recommend_tracks(session=session, user_id=1, probabilities={"neutral": 1.0}, strategy="match", now=NOW)
    assert recs[0].track.title == "Near"
    assert recs[0].explanation.endswith("(an artist you liked)")
    anonymous = recommend_tracks(session=session, user_id=None, probabilities={"neutral": 1.0}, now=NOW)
    assert anonymous[0].track.title == "Exact"


def test_recommend_tracks_seeds_the_starter_catalog_when_empty(session: Session) -> None:
    recs = recommend_tracks(session=session, user_id=1, probabilities={"happy": 1.0}, now=NOW)
    assert len(recs) == 10
    assert all(r.track.source == STARTER_SOURCE and r.track.spotify_id is None for r in recs)
    assert all("estimated from its mood tag" in r.explanation for r in recs)
    assert {r.track.mood_tag for r in recs[:3]} <= {"happy", "energetic"}


def test_recommend_tracks_drops_starter_tracks_once_a_real_catalog_exists(session: Session) -> None:
    recommend_tracks(session=session, user_id=1, probabilities={"happy": 1.0}, now=NOW)  # seeds the starter
    add_grid(session, steps=15)
    recs = recommend_tracks(session=session, user_id=1, probabilities={"happy": 1.0}, now=NOW)
    assert all(r.track.source == "test" for r in recs)
    assert session.scalar(select(func.count()).where(Track.source == STARTER_SOURCE)) > 0


def test_recommend_tracks_rejects_bad_arguments(session: Session) -> None:
    with pytest.raises(ValueError, match="strategy"):
        recommend_tracks(session=session, user_id=1, probabilities={"happy": 1.0}, strategy="party")
    with pytest.raises(ValueError, match="n must be"):
        recommend_tracks(session=session, user_id=1, probabilities={"happy": 1.0}, n=0)


def test_starter_catalog_is_well_formed() -> None:
    text = resources.files("awsome_core.music").joinpath("starter_tracks.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert list(rows[0]) == ["title", "artist", "mood", "valence", "energy"]  # no Spotify id column
    records = load_starter_tracks()
    assert 60 <= len(records) <= 100
    assert len({(r.title.lower(), r.artists.lower()) for r in records}) == len(records)
    assert all(r.spotify_id is None and r.title and r.artists for r in records)
    assert all((r.valence, r.energy) == MOOD_POINTS[str(r.mood_tag)] for r in records)
    assert {r.mood_tag for r in records} == set(MOOD_POINTS)


def test_recommend_tracks_lift_explains_each_step(session: Session) -> None:
    add_grid(session)
    sad = recommend_tracks(session=session, user_id=None, probabilities={"sad": 1.0}, now=NOW)
    assert sad[0].strategy == "lift"
    assert sad[0].explanation.endswith("(step 1 of 10 toward a brighter mood)")
    assert [r.target[0] for r in sad] == sorted(r.target[0] for r in sad)
    happy = recommend_tracks(session=session, user_id=None, probabilities={"happy": 1.0}, strategy="lift", now=NOW)
    assert all("step" not in r.explanation for r in happy)


def test_default_strategy_without_a_reading_is_match() -> None:
    assert default_strategy({}) == "match"
    assert default_strategy(dict.fromkeys(EMOTIONS, 0.0)) == "match"
