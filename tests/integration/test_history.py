"""History queries, export and deletion against real SQLite and MySQL/MariaDB (``session`` fixture).

Scoping is the point of most tests: user B has data in the same time range, on the same tracks, and
none of it may reach user A's results.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from awsome_core.emotions import EMOTIONS, VALENCE_AROUSAL
from awsome_core.history import queries, userdata
from awsome_core.history.queries import load_dashboard, load_history
from awsome_core.history.summary import emotion_counts
from awsome_core.storage import repository as repo
from awsome_core.storage.db import make_sessionmaker
from awsome_core.storage.models import Feedback, MoodEvent, Recommendation, Track, User
from scripts.bench_history import seed_history

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)  # whole seconds: MySQL DATETIME keeps no fractions
OWNED = (MoodEvent, Recommendation, Feedback)
# One-hot readings have exact valences: happy 0.90, neutral 0.50, sad 0.15.
VALENCE = {"happy": 0.90, "neutral": 0.50, "sad": 0.15}


def _user(session: Session, name: str) -> User:
    return repo.add_user(session=session, username=name, display_name=name.title(), password_hash="$2b$04$hash")


def _reading(session: Session, user: User, at: datetime, top: str = "happy", **kwargs: object) -> MoodEvent:
    probs = {e: (1.0 if e == top else 0.0) for e in EMOTIONS}
    args: dict[str, object] = {"source": "live", "model_version": "test-1", "created_at": at}
    args.update(kwargs)
    return repo.add_mood_event(session=session, user_id=user.id, probabilities=probs, **args)  # type: ignore[arg-type]


def _tracks(session: Session, n: int) -> list[Track]:
    tracks = [Track(title=f"Song {i}", artists="Band;Guest", source="test") for i in range(n)]
    session.add_all(tracks)
    session.flush()
    return tracks


def _batch(
    session: Session, user: User, event: MoodEvent | None, tracks: list[Track], strategy: str, at: datetime
) -> list[Recommendation]:
    """Recommendations made at *at* (add_recommendations always stamps "now")."""
    rows = [
        Recommendation(
            user_id=user.id,
            mood_event_id=event.id if event else None,
            track_id=t.id,
            strategy=strategy,
            rank=i + 1,
            explanation="why",
            created_at=at,
        )
        for i, t in enumerate(tracks)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _count(session: Session, model: type[MoodEvent | Recommendation | Feedback], user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id)) or 0


def _owned_counts(session: Session, user_id: int) -> dict[str, int]:
    counts = {model.__tablename__: _count(session, model, user_id) for model in OWNED}
    counts["users"] = session.scalar(select(func.count()).select_from(User).where(User.id == user_id)) or 0
    return counts


def _two_users(session: Session, tmp_path: Path) -> tuple[User, User, list[Track]]:
    """Alice and Bob, both with readings, recommendations of the same tracks, feedback and a kept image."""
    alice, bob = _user(session, "alice"), _user(session, "bob")
    tracks = _tracks(session, 4)
    for user in (alice, bob):
        events = [_reading(session, user, T0 + timedelta(minutes=i), top=("happy", "sad")[i % 2]) for i in range(6)]
        _batch(session, user, events[0], tracks[:3], "lift", T0 + timedelta(minutes=0, seconds=5))
        repo.set_feedback(session=session, user_id=user.id, track_id=tracks[0].id, value=1)
        image = tmp_path / "images" / str(user.id) / "face.jpg"
        image.parent.mkdir(parents=True)
        image.write_bytes(b"jpeg")
        events[1].image_path = str(image)
    session.commit()
    return alice, bob, tracks


# ----------------------------------------------------------------------------- readings and scoping


def test_load_history_returns_the_users_readings_in_range_and_sources(session: Session) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bob")
    inside = [_reading(session, alice, T0 + timedelta(hours=h), source=s) for h, s in ((1, "live"), (2, "photo"))]
    _reading(session, alice, T0 - timedelta(seconds=1))  # before the range
    _reading(session, alice, T0 + timedelta(days=1))  # at `until`: excluded (half-open)
    _reading(session, bob, T0 + timedelta(hours=1, minutes=30), top="sad")
    corrected = _reading(session, alice, T0 + timedelta(hours=3), top="sad", corrected_emotion="neutral")
    session.commit()

    frame = load_history(session=session, user_id=alice.id, since=T0, until=T0 + timedelta(days=1))
    assert frame.event_id.tolist() == [inside[0].id, inside[1].id, corrected.id]
    assert frame.created_at[0] == np.datetime64("2026-03-01T13:00:00", "us")
    assert frame.probabilities.shape == (3, 7) and frame.probabilities[0, EMOTIONS.index("happy")] == 1.0
    assert frame.valence.tolist() == pytest.approx([0.9, 0.9, 0.5])  # the correction wins: neutral's valence
    assert emotion_counts(frame) == {**dict.fromkeys(EMOTIONS, 0), "happy": 2, "neutral": 1}  # the correction counts
    photo = load_history(session=session, user_id=alice.id, since=T0, until=T0 + timedelta(days=1), sources=["photo"])
    assert photo.event_id.tolist() == [inside[1].id]
    assert len(load_history(session=session, user_id=alice.id, sources=[])) == 0


def test_load_history_refuses_naive_datetimes(session: Session) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        load_history(session=session, user_id=1, since=datetime(2026, 1, 1))


def test_dashboard_never_shows_another_users_data(session: Session, tmp_path: Path) -> None:
    alice, bob, tracks = _two_users(session, tmp_path)
    repo.set_feedback(session=session, user_id=bob.id, track_id=tracks[1].id, value=1)  # Bob likes what Alice got
    repo.set_feedback(session=session, user_id=bob.id, track_id=tracks[0].id, value=-1)
    session.commit()
    alice_events = set(session.scalars(select(MoodEvent.id).where(MoodEvent.user_id == alice.id)))

    dash = load_dashboard(session=session, user_id=alice.id, since=T0, until=T0 + timedelta(days=1))
    assert set(dash.frame.event_id.tolist()) == alice_events
    assert len(dash.played) == 3 and {p.mood_event_id for p in dash.played} <= alice_events
    assert [(p.track_id, p.feedback) for p in dash.played] == [
        (tracks[0].id, 1),
        (tracks[1].id, None),
        (tracks[2].id, None),
    ]
    assert [(t.track_id, t.plays) for t in dash.liked] == [(tracks[0].id, 1)]
    lift = next(e for e in dash.effects if e.strategy == "lift")
    assert lift.batches == 1  # Alice's one batch, not Bob's
    assert dash.has_any_history


def test_played_tracks_lists_newest_batch_first_in_rank_order(session: Session) -> None:
    alice = _user(session, "alice")
    tracks = _tracks(session, 3)
    first, second = _reading(session, alice, T0), _reading(session, alice, T0 + timedelta(hours=1), top="sad")
    _batch(session, alice, first, tracks, "match", T0 + timedelta(seconds=1))
    _batch(session, alice, second, tracks[::-1], "lift", T0 + timedelta(hours=1, seconds=1))
    _batch(session, alice, None, tracks[:1], "calm", T0 + timedelta(hours=2))  # no reading: mood unknown
    played = queries.played_tracks(session=session, user_id=alice.id)
    assert [(p.strategy, p.rank, p.mood) for p in played] == [
        ("calm", 1, None),
        ("lift", 1, "sad"),
        ("lift", 2, "sad"),
        ("lift", 3, "sad"),
        ("match", 1, "happy"),
        ("match", 2, "happy"),
        ("match", 3, "happy"),
    ]
    assert len(queries.played_tracks(session=session, user_id=alice.id, limit=2)) == 2


def test_liked_tracks_puts_the_most_played_first(session: Session) -> None:
    alice = _user(session, "alice")
    tracks = _tracks(session, 3)
    event = _reading(session, alice, T0)
    for i in range(3):
        _batch(session, alice, event, [tracks[1]], "match", T0 + timedelta(minutes=i))
    _batch(session, alice, event, [tracks[0]], "match", T0 + timedelta(minutes=5))
    for track in tracks:
        repo.set_feedback(session=session, user_id=alice.id, track_id=track.id, value=1)
    repo.set_feedback(session=session, user_id=alice.id, track_id=tracks[2].id, value=-1)  # changed their mind
    liked = queries.liked_tracks(session=session, user_id=alice.id)
    assert [(t.track_id, t.plays) for t in liked] == [(tracks[1].id, 3), (tracks[0].id, 1)]


# ----------------------------------------------------------------------------- did it help?


def test_did_it_help_gives_the_change_in_valence_per_strategy(session: Session) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bob")
    tracks = _tracks(session, 2)
    sad = _reading(session, alice, T0, top="sad")
    _batch(session, alice, sad, tracks, "lift", T0 + timedelta(seconds=1))
    _reading(session, bob, T0 + timedelta(minutes=5), top="sad")  # Bob's reading never counts for Alice
    neutral = _reading(session, alice, T0 + timedelta(minutes=20), top="neutral")  # lift: 0.15 → 0.50
    _batch(session, alice, neutral, tracks, "calm", T0 + timedelta(minutes=20, seconds=1))
    happy = _reading(session, alice, T0 + timedelta(hours=2), top="happy")  # calm: 99 min later, too late
    _batch(session, alice, happy, tracks, "match", T0 + timedelta(hours=2, seconds=1))
    after = _reading(session, alice, T0 + timedelta(hours=2, minutes=59), top="sad")  # match: 0.90 → 0.15
    _batch(session, alice, after, tracks, "lift", T0 + timedelta(hours=3))
    _reading(session, alice, T0 + timedelta(hours=3, minutes=30), top="happy")  # lift again: 0.15 → 0.90
    _batch(session, alice, None, tracks, "energize", T0 + timedelta(hours=4))  # no reading before: skipped
    _reading(session, alice, T0 + timedelta(hours=4, minutes=1), top="happy")
    session.commit()

    day = queries.did_it_help(session=session, user_id=alice.id, since=T0, until=T0 + timedelta(days=1))
    effects = {e.strategy: e for e in day}
    assert list(effects) == ["match", "lift", "calm", "energize"]
    assert (effects["lift"].batches, effects["lift"].improved) == (2, 2)
    assert effects["lift"].mean_delta_valence == pytest.approx(((0.50 - 0.15) + (0.90 - 0.15)) / 2)
    assert (effects["match"].batches, effects["match"].improved) == (1, 0)
    assert effects["match"].mean_delta_valence == pytest.approx(0.15 - 0.90)
    assert effects["calm"].batches == effects["energize"].batches == 0
    assert math.isnan(effects["calm"].mean_delta_valence)
    # The dashboard passes the readings it already loaded; the answer must be the same.
    until = T0 + timedelta(hours=3, minutes=10)
    frame = load_history(session=session, user_id=alice.id, since=T0, until=until)
    plain = queries.did_it_help(session=session, user_id=alice.id, since=T0, until=until)
    with_frame = queries.did_it_help(session=session, user_id=alice.id, since=T0, until=until, readings=frame)
    assert [(e.strategy, e.batches, e.improved) for e in with_frame] == [
        (e.strategy, e.batches, e.improved) for e in plain
    ]
    assert np.allclose(
        [e.mean_delta_valence for e in with_frame], [e.mean_delta_valence for e in plain], equal_nan=True
    )
    assert next(e for e in plain if e.strategy == "lift").batches == 2  # the 03:30 reading lies after `until`
    # A range ending more than an hour after its last batch: nothing after it can count, and nothing is read.
    whole = load_history(session=session, user_id=alice.id, since=T0, until=T0 + timedelta(days=1))
    day_again = queries.did_it_help(
        session=session, user_id=alice.id, since=T0, until=T0 + timedelta(days=1), readings=whole
    )
    counts = [(e.strategy, e.batches, e.improved) for e in day]
    assert [(e.strategy, e.batches, e.improved) for e in day_again] == counts


# ----------------------------------------------------------------------------- export


def test_export_csv_round_trips_one_row_per_event_with_all_probabilities(session: Session, tmp_path: Path) -> None:
    alice, _, _ = _two_users(session, tmp_path)
    rng = np.random.default_rng(1)
    for i, p in enumerate(rng.dirichlet(np.ones(7), 20)):
        probs = {e: float(v) for e, v in zip(EMOTIONS, p, strict=True)}
        repo.add_mood_event(
            session=session,
            user_id=alice.id,
            probabilities=probs,
            source="photo",
            model_version="v2",
            created_at=T0 + timedelta(hours=i),
            corrected_emotion="fear" if i == 3 else None,
        )
    session.commit()
    session.expire_all()  # compare with what the database kept (MySQL FLOAT is single precision)
    stored = session.scalars(
        select(MoodEvent).where(MoodEvent.user_id == alice.id).order_by(MoodEvent.created_at, MoodEvent.id)
    ).all()

    text = userdata.export_csv(userdata.export_rows(session=session, user_id=alice.id))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(stored) == 26 and tuple(rows[0]) == userdata.EXPORT_COLUMNS
    for row, event in zip(rows, stored, strict=True):
        assert datetime.fromisoformat(row["created_at"]) == event.created_at
        assert [float(row[e]) for e in EMOTIONS] == [getattr(event, e) for e in EMOTIONS]  # exact
        expected = (
            VALENCE_AROUSAL[event.corrected_emotion] if event.corrected_emotion else (event.valence, event.arousal)
        )
        assert (float(row["valence"]), float(row["arousal"])) == expected  # the correction wins
        assert row["emotion"] == (event.corrected_emotion or event.top_emotion)
        assert (row["source"], row["top_emotion"], row["model_version"]) == (
            event.source,
            event.top_emotion,
            event.model_version,
        )
        assert row["corrected_emotion"] == (event.corrected_emotion or "")
    data = json.loads(userdata.export_json(userdata.export_rows(session=session, user_id=alice.id)))
    assert len(data) == 26 and [r["corrected_emotion"] for r in data].count(None) == 25
    assert [[r[e] for e in EMOTIONS] for r in data] == [[float(r[e]) for e in EMOTIONS] for r in rows]
    assert [r["created_at"] for r in data] == [r["created_at"] for r in rows]
    assert json.loads(userdata.export_json([])) == []


def test_export_in_the_users_time_zone_rounded_with_the_correction(session: Session, tmp_path: Path) -> None:
    alice, bob, _ = _two_users(session, tmp_path)
    repo.add_mood_event(
        session=session,
        user_id=alice.id,
        probabilities={e: 1 / 3 if e in ("happy", "sad", "neutral") else 0.0 for e in EMOTIONS},
        source="photo",
        model_version="v2",
        created_at=datetime(2026, 7, 1, 22, 30, tzinfo=UTC),
        corrected_emotion="sad",
    )
    session.commit()
    rows = list(userdata.export_rows(session=session, user_id=alice.id, tz="Europe/Berlin", digits=3))
    last = rows[-1]
    assert last["created_at"] == "2026-07-02T00:30:00+02:00"  # the next day in Berlin, summer time
    assert datetime.fromisoformat(last["created_at"]) == datetime(2026, 7, 1, 22, 30, tzinfo=UTC)
    assert last["happy"] == 0.333 and last["angry"] == 0.0  # the model's probabilities, rounded
    assert (last["top_emotion"], last["corrected_emotion"], last["emotion"]) == ("happy", "sad", "sad")
    assert (last["valence"], last["arousal"]) == VALENCE_AROUSAL["sad"]
    text = userdata.export_csv(rows)
    assert ",0.333," in text and "0.3333" not in text
    assert all(len(r["created_at"]) == 25 and r["created_at"].endswith(("+01:00", "+02:00")) for r in rows)


def test_music_export_lists_every_recommended_track_with_the_rating(session: Session, tmp_path: Path) -> None:
    alice, bob, _ = _two_users(session, tmp_path)
    event = _reading(session, alice, T0, "sad", corrected_emotion="angry")
    tracks = _tracks(session, 3)
    _batch(session, alice, event, tracks, "calm", T0 + timedelta(minutes=1))
    session.add_all(
        [
            Feedback(user_id=alice.id, track_id=tracks[0].id, value=1),
            Feedback(user_id=bob.id, track_id=tracks[1].id, value=-1),
        ]
    )
    session.commit()
    rows = list(userdata.music_rows(session=session, user_id=alice.id, tz="America/New_York"))
    mine = [r for r in rows if r["recommended_at"].startswith("2026-03-01T07:01:00-05:00")]
    assert [(r["rank"], r["title"], r["emotion"], r["strategy"], r["rating"]) for r in mine] == [
        (1, "Song 0", "angry", "calm", "liked"),
        (2, "Song 1", "angry", "calm", None),  # Bob's dislike is not Alice's
        (3, "Song 2", "angry", "calm", None),
    ]
    text = userdata.export_csv(rows, userdata.MUSIC_COLUMNS)
    assert text.splitlines()[0] == ",".join(userdata.MUSIC_COLUMNS)
    bob_rows = list(userdata.music_rows(session=session, user_id=bob.id))
    assert [r["strategy"] for r in bob_rows] == ["lift"] * 3  # Bob's own batch only, never Alice's "calm" one


def test_every_history_figure_follows_the_correction(session: Session) -> None:
    """A happy-looking reading corrected to sad counts as sad everywhere: counts, valence, probabilities and
    the "did it help?" deltas."""
    alice = _user(session, "alice")
    before = _reading(session, alice, T0, "happy", corrected_emotion="sad")
    _reading(session, alice, T0 + timedelta(minutes=30), "neutral")
    _batch(session, alice, before, _tracks(session, 1), "lift", T0 + timedelta(minutes=1))
    session.commit()
    frame = load_history(session=session, user_id=alice.id)
    assert emotion_counts(frame)["sad"] == 1 and emotion_counts(frame)["happy"] == 0
    assert frame.corrected.tolist() == [True, False]
    assert EMOTIONS[frame.model_emotion[0]] == "happy"
    assert frame.valence[0] == VALENCE_AROUSAL["sad"][0] and frame.arousal[0] == VALENCE_AROUSAL["sad"][1]
    assert frame.probabilities[0].tolist() == [float(e == "sad") for e in EMOTIONS]
    (lift,) = [e for e in queries.did_it_help(session=session, user_id=alice.id) if e.strategy == "lift"]
    assert lift.mean_delta_valence == pytest.approx(VALENCE_AROUSAL["neutral"][0] - VALENCE_AROUSAL["sad"][0])
    dash = load_dashboard(session=session, user_id=alice.id, since=T0, until=T0 + timedelta(hours=1))
    (lift,) = [e for e in dash.effects if e.strategy == "lift"]
    assert lift.mean_delta_valence == pytest.approx(VALENCE_AROUSAL["neutral"][0] - VALENCE_AROUSAL["sad"][0])


# ----------------------------------------------------------------------------- deletion


def test_delete_history_removes_every_row_of_the_user_and_nothing_else(session: Session, tmp_path: Path) -> None:
    alice, bob, _ = _two_users(session, tmp_path)
    bob_before, tracks_before = _owned_counts(session, bob.id), session.scalar(select(func.count(Track.id)))
    assert min(_owned_counts(session, alice.id).values()) > 0

    paths = userdata.delete_history(session=session, user_id=alice.id)
    session.commit()
    assert userdata.remove_image_files(paths, base_dir=tmp_path) == 1

    assert _owned_counts(session, alice.id) == {"mood_events": 0, "recommendations": 0, "feedback": 0, "users": 1}
    assert _owned_counts(session, bob.id) == bob_before
    assert session.scalar(select(func.count(Track.id))) == tracks_before
    assert not (tmp_path / "images" / str(alice.id) / "face.jpg").exists()
    assert (tmp_path / "images" / str(bob.id) / "face.jpg").exists()
    assert not queries.has_history(session=session, user_id=alice.id)


def test_delete_account_removes_the_user_and_everything_they_own(session: Session, tmp_path: Path) -> None:
    alice, bob, _ = _two_users(session, tmp_path)
    bob_before = _owned_counts(session, bob.id)

    paths = userdata.delete_account(session=session, user_id=alice.id)
    session.commit()
    userdata.remove_image_files(paths, base_dir=tmp_path)

    assert _owned_counts(session, alice.id) == {"mood_events": 0, "recommendations": 0, "feedback": 0, "users": 0}
    assert _owned_counts(session, bob.id) == bob_before
    assert session.scalar(select(func.count(User.id))) == 1
    assert not (tmp_path / "images" / str(alice.id) / "face.jpg").exists()


def test_remove_image_files_never_leaves_the_data_directory(tmp_path: Path) -> None:
    data, outside = tmp_path / "data", tmp_path / "precious.txt"
    (data / "images").mkdir(parents=True)
    (data / "images" / "a.jpg").write_bytes(b"x")
    outside.write_text("keep me")
    paths = ["images/a.jpg", "../precious.txt", str(outside), "images/missing.jpg"]
    assert userdata.remove_image_files(paths, base_dir=data) == 1
    assert outside.exists() and not (data / "images" / "a.jpg").exists()


# ----------------------------------------------------------------------------- 100,000 readings


@pytest.mark.slow
def test_dashboard_over_100k_readings_is_exact_and_scoped(engine: Engine) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    a, b = seed_history(engine, events_a=100_000, events_b=1_000, now=now)
    since, until = now - timedelta(days=30), now + timedelta(seconds=1)
    with make_sessionmaker(engine)() as session:
        start = time.perf_counter()
        dash = load_dashboard(session=session, user_id=a.user_id, since=since, until=until)
        elapsed = time.perf_counter() - start
        in_range = (MoodEvent.user_id == a.user_id, MoodEvent.created_at >= since, MoodEvent.created_at < until)
        expected = session.scalar(select(func.count()).select_from(MoodEvent).where(*in_range)) or 0
        mood = func.coalesce(MoodEvent.corrected_emotion, MoodEvent.top_emotion)
        by_emotion = dict(session.execute(select(mood, func.count()).where(*in_range).group_by(mood)).all())
        b_events = set(session.scalars(select(MoodEvent.id).where(MoodEvent.user_id == b.user_id)))
    print(f"load_dashboard over 30 days of 100k readings: {elapsed * 1000:.0f} ms (see scripts/bench_history.py)")
    assert 7_000 < len(dash.frame) == expected < 9_500
    assert emotion_counts(dash.frame) == {e: by_emotion.get(e, 0) for e in EMOTIONS}
    assert not b_events & set(dash.frame.event_id.tolist())
    assert dash.played and all(p.track_id in a.track_ids for p in dash.played)
    assert dash.liked and all(t.track_id in a.track_ids for t in dash.liked)
    assert 0 < sum(e.batches for e in dash.effects) <= len(dash.frame) // 10 + 1


def test_dashboard_loads_the_newest_played_tracks_and_counts_them_all(session: Session) -> None:
    """The page lists a few (``played_limit``) and says how many there are in the range."""
    alice, bob = _user(session, "alice"), _user(session, "bob")
    tracks = _tracks(session, 4)
    for minute in range(3):  # 3 batches of 4 = 12 recommendations in range
        event = _reading(session, alice, T0 + timedelta(minutes=10 * minute))
        _batch(session, alice, event, tracks, "match", T0 + timedelta(minutes=10 * minute + 1))
    _batch(session, alice, None, tracks, "match", T0 + timedelta(days=3))  # out of range
    _batch(session, bob, None, tracks, "match", T0 + timedelta(minutes=5))  # not Alice's
    session.commit()
    until = T0 + timedelta(days=1)
    few = load_dashboard(session=session, user_id=alice.id, since=T0, until=until, played_limit=5)
    assert (len(few.played), few.played_total) == (5, 12)
    assert [p.recommended_at for p in few.played] == sorted((p.recommended_at for p in few.played), reverse=True)
    assert few.played[0].recommended_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=21)
    everything = load_dashboard(session=session, user_id=alice.id, since=T0, until=until, played_limit=50)
    assert (len(everything.played), everything.played_total) == (12, 12)
