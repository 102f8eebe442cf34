"""Recommender: strategy targets, ranking rules, features beyond valence/energy, personalisation, the starter
catalog, explanations in words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from awsome_core.emotions import EMOTIONS, VALENCE_AROUSAL
from awsome_core.music.catalog import upsert_tracks
from awsome_core.music.index import clear_catalog_index_cache
from awsome_core.music.recommender import (
    CALM_AROUSAL,
    LIFT_GOAL,
    LIFT_STEP,
    default_strategy,
    plan_targets,
    recommend_tracks,
    track_point,
)
from awsome_core.music.records import TrackRecord
from awsome_core.music.starter import LEGACY_STARTER_SOURCE, STARTER_SOURCE, ensure_starter_catalog
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


def track(title: str, artist: str, i: int, **features: object) -> TrackRecord:
    return TrackRecord(title=title, artists=artist, spotify_id=_sid(i), source="test", **features)  # type: ignore[arg-type]


def test_plan_targets_match_repeats_the_mood_point_in_the_track_plane() -> None:
    assert plan_targets((0.2, 0.3), "match", 3) == [track_point((0.2, 0.3))] * 3
    assert track_point((0.0, 0.0)) == (0.1, 0.2) and track_point((1.0, 1.0)) == pytest.approx((0.9, 0.95))


def test_plan_targets_lift_starts_at_the_mood_and_steps_toward_the_goal() -> None:
    targets = plan_targets((0.15, 0.25), "lift", 10)
    assert targets[0] == track_point((0.15, 0.25))
    valences = [v for v, _ in targets]
    assert valences == sorted(valences)
    steps = [((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 for a, b in zip(targets, targets[1:], strict=False)]
    assert max(steps) <= LIFT_STEP + 1e-9
    assert targets[-1] == pytest.approx(LIFT_GOAL, abs=0.01)


def test_plan_targets_lift_from_a_happy_mood_is_match() -> None:
    assert plan_targets((0.9, 0.7), "lift", 4) == [track_point((0.9, 0.7))] * 4


def test_plan_targets_calm_is_quiet_and_energize_is_aroused_and_brighter() -> None:
    assert all(a == CALM_AROUSAL and 0.25 <= v <= 0.5 for v, a in plan_targets((0.9, 0.9), "calm", 3))
    for mood in VALENCE_AROUSAL.values():
        (v, a), start = plan_targets(mood, "energize", 1)[0], track_point(mood)
        assert a >= 0.85 and 0.6 <= v <= 0.85 and v >= min(start[0], 0.85) - 1e-9


def test_plan_targets_unknown_strategy_raises() -> None:
    with pytest.raises(ValueError, match="match, lift, calm, energize"):
        plan_targets((0.5, 0.5), "party", 3)


@pytest.mark.parametrize(("emotion", "expected"), [(e, "lift") for e in ("sad", "angry", "fear", "disgust")] +
                         [(e, "match") for e in ("happy", "surprise", "neutral")])  # fmt: skip
def test_default_strategy_lifts_negative_moods(emotion: str, expected: str) -> None:
    assert default_strategy({emotion: 0.9, "neutral": 0.1 if emotion != "neutral" else 0.9}) == expected


def test_default_strategy_without_a_reading_is_match() -> None:
    assert default_strategy({}) == "match"
    assert default_strategy(dict.fromkeys(EMOTIONS, 0.0)) == "match"


def test_recommend_tracks_is_deterministic_for_a_seed(session: Session) -> None:
    add_grid(session)
    kwargs = {"session": session, "user_id": 1, "probabilities": {"happy": 0.7, "neutral": 0.3}, "now": NOW}
    first = [r.track.id for r in recommend_tracks(**kwargs, seed=3)]
    assert first == [r.track.id for r in recommend_tracks(**kwargs, seed=3)]
    others = {tuple(r.track.id for r in recommend_tracks(**kwargs, seed=s)) for s in range(4, 9)}
    assert len(others | {tuple(first)}) > 1


def test_recommend_tracks_match_ranks_by_distance_and_explains_in_words(session: Session) -> None:
    add_grid(session)
    recs = recommend_tracks(session=session, user_id=None, probabilities={"sad": 1.0}, strategy="match", now=NOW)
    assert len(recs) == 10 and [r.rank for r in recs] == list(range(1, 11))
    assert all(r.distance < 0.1 and r.target == track_point(VALENCE_AROUSAL["sad"]) for r in recs)
    assert all(r.explanation.endswith("matches your sad mood") and not re.search(r"\d", r.explanation) for r in recs)


def test_recommend_tracks_accepts_seven_probabilities(session: Session) -> None:
    add_grid(session)
    values = [0.0] * 7
    values[EMOTIONS.index("happy")] = 1.0
    recs = recommend_tracks(session=session, user_id=None, probabilities=values, now=NOW)
    assert recs[0].strategy == "match" and recs[0].target == track_point(VALENCE_AROUSAL["happy"])


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


def test_recommend_tracks_skips_disliked_and_recently_recommended(session: Session) -> None:
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


def test_a_liked_artist_moves_up_in_the_next_list_and_is_named(session: Session) -> None:
    add_grid(session)
    upsert_tracks(session=session, records=[
        track("Far from the mood", "Queen", 9001, valence=0.62, energy=0.4),
        track("Liked before", "Queen", 9002, valence=0.1, energy=0.1),
    ])  # fmt: skip
    kwargs = {"session": session, "probabilities": {"neutral": 1.0}, "strategy": "match", "now": NOW}
    before = [r.track.title for r in recommend_tracks(user_id=1, **kwargs)]
    assert "Far from the mood" not in before
    liked = session.scalar(select(Track.id).where(Track.title == "Liked before"))
    session.add(Feedback(user_id=1, track_id=liked, value=1))
    session.commit()
    after = recommend_tracks(user_id=1, **kwargs)
    titles = [r.track.title for r in after]
    assert "Far from the mood" in titles
    assert after[titles.index("Far from the mood")].explanation.endswith("because you liked Queen")
    assert "Far from the mood" not in [r.track.title for r in recommend_tracks(user_id=None, **kwargs)]


def test_picks_say_which_tracks_the_user_likes(session: Session) -> None:
    """The list carries the votes read with it (the Photo page draws the buttons from them)."""
    add_grid(session)
    kwargs = {"session": session, "user_id": 1, "probabilities": {"happy": 1.0}, "strategy": "match", "now": NOW}
    first = recommend_tracks(**kwargs)
    assert not any(r.liked for r in first)
    session.add(Feedback(user_id=1, track_id=first[0].track.id, value=1))
    session.commit()
    again = recommend_tracks(**{**kwargs, "now": NOW + timedelta(days=30)})  # past the recently-recommended window
    liked = [r.track.id for r in again if r.liked]
    assert liked == [first[0].track.id]
    assert recommend_tracks(**{**kwargs, "user_id": None})[0].liked is False


def test_a_disliked_track_is_gone_from_the_next_list(session: Session) -> None:
    add_grid(session)
    kwargs = {"session": session, "user_id": 1, "probabilities": {"happy": 1.0}, "strategy": "energize", "now": NOW}
    top = recommend_tracks(**kwargs)[0].track.id
    session.add(Feedback(user_id=1, track_id=top, value=-1))
    session.commit()
    assert all(top not in [r.track.id for r in recommend_tracks(**kwargs, seed=s)] for s in range(3))


def test_happy_match_is_bright_and_not_aggressive(session: Session) -> None:
    upsert_tracks(session=session, records=[
        track("Angry anthem", "Band", 1, valence=0.62, energy=0.97, loudness=-3.0, tempo=125.0, genre="metal"),
        track("Sunny pop", "Singer", 2, valence=0.85, energy=0.72, loudness=-6.0, tempo=118.0, danceability=0.75,
              genre="pop"),
        track("Grey ballad", "Crooner", 3, valence=0.3, energy=0.4, loudness=-9.0, tempo=90.0, genre="pop"),
    ])  # fmt: skip
    recs = recommend_tracks(session=session, user_id=None, probabilities={"happy": 1.0}, strategy="match", n=3)
    assert [r.track.title for r in recs][:2] == ["Sunny pop", "Angry anthem"]
    assert recs[0].explanation.startswith("Upbeat and bright, danceable pop")


def test_calm_prefers_quiet_slow_acoustic_tracks(session: Session) -> None:
    upsert_tracks(session=session, records=[
        track("Soft piano", "Pianist", 1, valence=0.3, energy=0.15, loudness=-22.0, tempo=70.0, acousticness=0.95,
              instrumentalness=0.9, genre="piano"),
        track("Low-energy club", "DJ", 2, valence=0.3, energy=0.25, loudness=-6.0, tempo=128.0, acousticness=0.02,
              instrumentalness=0.1, genre="house"),
    ])  # fmt: skip
    recs = recommend_tracks(session=session, user_id=None, probabilities={"angry": 1.0}, strategy="calm", n=2)
    assert [r.track.title for r in recs] == ["Soft piano", "Low-energy club"]
    assert recs[0].explanation == "Quiet and wistful, acoustic piano: to slow things down"


def test_explanations_differ_where_the_tracks_differ(session: Session) -> None:
    ensure_starter_catalog(session=session)
    recs = recommend_tracks(session=session, user_id=None, probabilities={"sad": 1.0}, strategy="lift")
    assert len({r.explanation for r in recs}) == len(recs)
    assert recs[0].explanation.endswith("starts where you are: sad")
    assert "step 2 of 10 up from sad" in recs[1].explanation
    assert not any(re.search(r"\d\.\d|valence|energy \d", r.explanation) for r in recs)
    assert [r.target[0] for r in recs] == sorted(r.target[0] for r in recs)


def test_recommend_tracks_imports_the_starter_catalog_when_empty(session: Session) -> None:
    recs = recommend_tracks(session=session, user_id=1, probabilities={"happy": 1.0}, now=NOW)
    assert len(recs) == 10
    assert all(r.track.source == STARTER_SOURCE and r.track.spotify_id for r in recs)
    assert session.scalar(select(func.count()).select_from(Track)) >= 1500


def test_legacy_starter_songs_are_dropped_once_a_real_catalog_exists(session: Session) -> None:
    session.add_all(
        Track(title=f"Old {i}", artists=f"Old {i}", valence=0.9, energy=0.7, source=LEGACY_STARTER_SOURCE)
        for i in range(5)
    )
    session.commit()
    add_grid(session, steps=15)
    recs = recommend_tracks(session=session, user_id=1, probabilities={"happy": 1.0}, now=NOW)
    assert all(r.track.source == "test" for r in recs)


def test_recommend_tracks_rejects_bad_arguments(session: Session) -> None:
    with pytest.raises(ValueError, match="strategy"):
        recommend_tracks(session=session, user_id=1, probabilities={"happy": 1.0}, strategy="party")
    with pytest.raises(ValueError, match="n must be"):
        recommend_tracks(session=session, user_id=1, probabilities={"happy": 1.0}, n=0)
