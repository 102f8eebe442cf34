"""Repository functions against real SQLite and MySQL/MariaDB databases (``session`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from awsome_core.emotions import EMOTIONS, mood_point
from awsome_core.storage import repository as repo
from awsome_core.storage.db import make_engine, make_sessionmaker, upgrade_database
from awsome_core.storage.models import Feedback, MoodEvent, Recommendation, Track, User
from awsome_core.storage.repository import RecommendationItem
from tests.integration.conftest import require_mysql_server, throwaway_mysql_database

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)  # whole seconds: MySQL DATETIME keeps no fractions


def _probs(top: str = "happy", weight: float = 0.7) -> dict[str, float]:
    rest = (1.0 - weight) / (len(EMOTIONS) - 1)
    return {e: (weight if e == top else rest) for e in EMOTIONS}


def _user(session: Session, name: str = "alice") -> User:
    return repo.add_user(session=session, username=name, display_name=name.title(), password_hash="$2b$04$hash")


def _event(session: Session, user: User | int, **kwargs: object) -> MoodEvent:
    args: dict[str, object] = {"probabilities": _probs(), "source": "live", "model_version": "test-1"}
    args.update(kwargs)
    user_id = user if isinstance(user, int) else user.id
    return repo.add_mood_event(session=session, user_id=user_id, **args)  # type: ignore[arg-type]


def _tracks(session: Session, n: int = 3) -> list[Track]:
    tracks = [Track(title=f"Song {i}", artists="Band", source="test") for i in range(n)]
    session.add_all(tracks)
    session.flush()
    return tracks


def _items(tracks: list[Track], strategy: str = "match") -> list[RecommendationItem]:
    return [
        RecommendationItem(track_id=t.id, strategy=strategy, rank=i + 1, explanation="why")
        for i, t in enumerate(tracks)
    ]


def _count(session: Session, model: type[MoodEvent | Recommendation | Feedback], user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id)) or 0


def _populate(session: Session, user: User, tracks: list[Track]) -> None:
    """Give *user* two events, recommendations of every track and feedback on two tracks."""
    event = _event(session, user)
    _event(session, user, source="photo")
    recs = repo.add_recommendations(session=session, user_id=user.id, mood_event_id=event.id, items=_items(tracks))
    repo.set_feedback(session=session, user_id=user.id, track_id=tracks[0].id, value=1, recommendation_id=recs[0].id)
    repo.set_feedback(session=session, user_id=user.id, track_id=tracks[1].id, value=-1)


# ----------------------------------------------------------------------------- users


def test_add_user_stores_lower_case_username(session: Session) -> None:
    user = _user(session, "Alice")
    assert user.id is not None
    assert user.username == "alice"
    assert user.created_at.tzinfo is not None


def test_get_user_by_username_ignores_case(session: Session) -> None:
    user = _user(session, "alice")
    assert repo.get_user_by_username(session=session, username="ALICE") is user
    assert repo.get_user_by_username(session=session, username="bob") is None


def test_get_user_returns_user_or_none(session: Session) -> None:
    user = _user(session)
    assert repo.get_user(session=session, user_id=user.id) is user
    assert repo.get_user(session=session, user_id=user.id + 1000) is None


def test_add_user_refuses_taken_username_in_any_case(session: Session) -> None:
    _user(session, "alice")
    with pytest.raises(IntegrityError):
        _user(session, "ALICE")


def test_add_user_round_trips_utf8mb4(engine: Engine) -> None:
    with make_sessionmaker(engine)() as session:
        repo.add_user(session=session, username="Zoë 😀", display_name="Zoë 😀 Ñandú", password_hash="h")
        session.commit()
    with make_sessionmaker(engine)() as session:
        user = repo.get_user_by_username(session=session, username="ZOË 😀")
        assert user is not None
        assert (user.username, user.display_name) == ("zoë 😀", "Zoë 😀 Ñandú")


def test_delete_user_removes_every_owned_row_and_nothing_else(engine: Engine) -> None:
    with make_sessionmaker(engine)() as session:
        alice, bob = _user(session, "alice"), _user(session, "bob")
        tracks = _tracks(session)
        _populate(session, alice, tracks)
        _populate(session, bob, tracks)
        session.commit()
        alice_id, bob_id = alice.id, bob.id
    with make_sessionmaker(engine)() as session:
        repo.delete_user(session=session, user_id=alice_id)
        session.commit()
    with make_sessionmaker(engine)() as session:
        assert session.get(User, alice_id) is None
        assert [_count(session, m, alice_id) for m in (MoodEvent, Recommendation, Feedback)] == [0, 0, 0]
        assert session.get(User, bob_id) is not None
        assert [_count(session, m, bob_id) for m in (MoodEvent, Recommendation, Feedback)] == [2, 3, 2]
        assert session.scalar(select(func.count()).select_from(Track)) == 3


def test_delete_user_does_not_rely_on_foreign_key_cascades(engine: Engine) -> None:
    with engine.connect() as connection:
        # Turn cascades off for this connection: only explicit deletes can remove the child rows.
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        else:
            connection.exec_driver_sql("SET SESSION foreign_key_checks=0")
        connection.commit()
        with Session(bind=connection) as session:
            alice = _user(session)
            _populate(session, alice, _tracks(session))
            repo.delete_user(session=session, user_id=alice.id)
            counts = [_count(session, m, alice.id) for m in (MoodEvent, Recommendation, Feedback)]
            session.rollback()
        connection.invalidate()  # never return a connection without foreign keys to the pool
    assert counts == [0, 0, 0]


# ----------------------------------------------------------------------------- mood events


def test_add_mood_event_computes_mood_point_and_top_emotion(session: Session) -> None:
    user = _user(session)
    probs = _probs("sad", 0.6)
    event = _event(session, user, probabilities=probs, face_count=2, corrected_emotion="neutral")
    assert event.id is not None
    assert (event.valence, event.arousal) == pytest.approx(mood_point(probs))
    assert event.top_emotion == "sad"
    assert event.corrected_emotion == "neutral"
    assert {e: getattr(event, e) for e in EMOTIONS} == pytest.approx(probs)
    assert (event.source, event.model_version, event.face_count) == ("live", "test-1", 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"source": "webcam"}, "source"),
        ({"probabilities": {e: 0.1 for e in EMOTIONS if e != "fear"}}, "missing \\['fear'\\]"),
        ({"probabilities": {**_probs(), "bored": 0.0}}, "unknown \\['bored'\\]"),
        ({"probabilities": {**_probs(), "happy": 1.5}}, "\\[0, 1\\]"),
        ({"probabilities": {**_probs(), "happy": -0.1}}, "\\[0, 1\\]"),
        ({"probabilities": {**_probs(), "happy": float("nan")}}, "\\[0, 1\\]"),
        ({"corrected_emotion": "bored"}, "corrected_emotion"),
        ({"created_at": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"client_event_id": "x" * 37}, "client_event_id"),
        ({"face_count": -1}, "face_count"),
    ],
)
def test_add_mood_event_rejects_invalid_input(session: Session, kwargs: dict[str, object], match: str) -> None:
    user = _user(session)
    with pytest.raises(ValueError, match=match):
        _event(session, user, **kwargs)
    assert repo.count_mood_events(session=session, user_id=user.id) == 0


def test_add_mood_event_is_idempotent_per_client_event_id(session: Session) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bob")
    first = _event(session, alice, client_event_id="0b9f6c3e-retry")
    again = _event(session, alice, client_event_id="0b9f6c3e-retry", probabilities=_probs("angry"))
    bobs = _event(session, bob, client_event_id="0b9f6c3e-retry")
    assert again.id == first.id
    assert again.top_emotion == "happy"  # the stored event, not the retried payload
    assert bobs.id != first.id and bobs.user_id == bob.id
    assert repo.count_mood_events(session=session, user_id=alice.id) == 1


def test_store_mood_event_says_whether_it_wrote(session: Session) -> None:
    """A retry is told apart without a look-up on MySQL (the savepoint's unique-key clash reads it)."""
    user = _user(session)
    args = {"probabilities": _probs("sad"), "source": "photo", "model_version": "test"}
    first, wrote = repo.store_mood_event(session=session, user_id=user.id, client_event_id="c-1", **args)  # type: ignore[arg-type]
    again, wrote_again = repo.store_mood_event(session=session, user_id=user.id, client_event_id="c-1", **args)  # type: ignore[arg-type]
    plain, wrote_plain = repo.store_mood_event(session=session, user_id=user.id, **args)  # type: ignore[arg-type]
    assert (wrote, wrote_again, wrote_plain) == (True, False, True)
    assert again.id == first.id != plain.id
    assert repo.count_mood_events(session=session, user_id=user.id) == 2


@pytest.mark.mysql
def test_add_mood_event_returns_row_stored_concurrently_by_another_session(
    mysql_server: tuple[URL | None, str],
) -> None:
    # MySQL only: on SQLite writers are serialized, so this interleaving cannot happen.
    with throwaway_mysql_database(require_mysql_server(mysql_server)) as url:
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        with factory() as setup:
            user_id = _user(setup).id
            setup.commit()
        with factory() as slow, factory() as fast:
            assert repo.count_mood_events(session=slow, user_id=user_id) == 0  # opens slow's snapshot
            other = _event(slow, user_id)  # earlier work in slow's transaction, which must survive
            stored = _event(fast, user_id, client_event_id="dup")
            fast.commit()
            returned = _event(slow, user_id, client_event_id="dup")  # unique-key clash, recovered
            slow.commit()
        with factory() as check:
            ids = sorted(e.id for e in repo.list_mood_events(session=check, user_id=user_id))
        engine.dispose()
    assert returned.id == stored.id
    assert ids == sorted([other.id, stored.id])


def test_list_mood_events_orders_by_time_and_filters(session: Session) -> None:
    user = _user(session)
    late = _event(session, user, created_at=T0 + timedelta(hours=2), source="photo")
    early = _event(session, user, created_at=T0, source="live")
    middle = _event(session, user, created_at=T0 + timedelta(hours=1), source="manual")

    def ids(**kwargs: object) -> list[int]:
        return [e.id for e in repo.list_mood_events(session=session, user_id=user.id, **kwargs)]  # type: ignore[arg-type]

    assert ids() == [early.id, middle.id, late.id]
    assert ids(since=T0 + timedelta(hours=1)) == [middle.id, late.id]  # since is inclusive
    assert ids(until=T0 + timedelta(hours=1)) == [early.id]  # until is exclusive
    assert ids(sources={"photo", "manual"}) == [middle.id, late.id]
    assert ids(sources=[]) == []
    assert ids(limit=2) == [middle.id, late.id]  # the most recent two, oldest first


def test_list_mood_events_rejects_naive_bounds(session: Session) -> None:
    user = _user(session)
    with pytest.raises(ValueError, match="timezone-aware"):
        repo.list_mood_events(session=session, user_id=user.id, since=datetime(2026, 1, 1))


def test_list_and_count_mood_events_are_scoped_to_the_user(session: Session) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bob")
    mine = _event(session, alice)
    _event(session, bob)
    _event(session, bob)
    assert [e.id for e in repo.list_mood_events(session=session, user_id=alice.id)] == [mine.id]
    assert repo.count_mood_events(session=session, user_id=alice.id) == 1
    assert repo.count_mood_events(session=session, user_id=bob.id) == 2


def test_add_mood_event_round_trips_created_at_as_utc(engine: Engine) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    at = datetime(2026, 3, 1, 17, 30, 5, tzinfo=ist)  # 12:00:05 UTC
    with make_sessionmaker(engine)() as session:
        event_id = _event(session, _user(session), created_at=at).id
        session.commit()
    with make_sessionmaker(engine)() as session:
        stored = session.get(MoodEvent, event_id)
        assert stored is not None
        assert stored.created_at == datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
        assert stored.created_at.utcoffset() == timedelta(0)
        raw = session.execute(text("SELECT created_at FROM mood_events")).scalar()
    assert str(raw)[:19] == "2026-03-01 12:00:05"  # stored as UTC, not as local or IST wall time


def test_delete_mood_history_removes_only_that_users_history(session: Session) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bob")
    tracks = _tracks(session)
    _populate(session, alice, tracks)
    _populate(session, bob, tracks)
    assert repo.delete_mood_history(session=session, user_id=alice.id) == 2
    assert [_count(session, m, alice.id) for m in (MoodEvent, Recommendation, Feedback)] == [0, 0, 0]
    assert [_count(session, m, bob.id) for m in (MoodEvent, Recommendation, Feedback)] == [2, 3, 2]
    assert repo.get_user(session=session, user_id=alice.id) is not None


def test_list_image_paths_returns_only_the_users_stored_images(session: Session) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bob")
    _event(session, alice).image_path = "images/a.jpg"
    _event(session, alice)
    _event(session, bob).image_path = "images/b.jpg"
    session.flush()
    assert repo.list_image_paths(session=session, user_id=alice.id) == ["images/a.jpg"]


# ----------------------------------------------------------------------------- recommendations and feedback


def test_add_recommendations_stores_items_in_order(session: Session) -> None:
    user = _user(session)
    tracks = _tracks(session)
    event = _event(session, user)
    recs = repo.add_recommendations(
        session=session, user_id=user.id, mood_event_id=event.id, items=_items(tracks, "lift")
    )
    assert [(r.track_id, r.rank, r.strategy, r.mood_event_id) for r in recs] == [
        (t.id, i + 1, "lift", event.id) for i, t in enumerate(tracks)
    ]
    assert all(r.id is not None and r.user_id == user.id for r in recs)


def test_add_recommendations_refuses_another_users_mood_event(session: Session) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bob")
    bobs_event = _event(session, bob)
    with pytest.raises(ValueError, match="does not belong"):
        repo.add_recommendations(
            session=session, user_id=alice.id, mood_event_id=bobs_event.id, items=_items(_tracks(session))
        )
    assert _count(session, Recommendation, alice.id) == 0


def test_add_recommendations_refuses_overlong_strategy(session: Session) -> None:
    user = _user(session)
    with pytest.raises(ValueError, match="strategy"):
        repo.add_recommendations(
            session=session, user_id=user.id, mood_event_id=None, items=_items(_tracks(session), "x" * 17)
        )


def test_set_feedback_replaces_earlier_value(session: Session) -> None:
    user = _user(session)
    track = _tracks(session, 1)[0]
    first = repo.set_feedback(session=session, user_id=user.id, track_id=track.id, value=1)
    second = repo.set_feedback(session=session, user_id=user.id, track_id=track.id, value=-1)
    assert second.id == first.id
    assert repo.get_feedback(session=session, user_id=user.id) == {track.id: -1}
    assert _count(session, Feedback, user.id) == 1


@pytest.mark.parametrize("value", [0, 2, -2, True])
def test_set_feedback_rejects_values_other_than_plus_minus_one(session: Session, value: int) -> None:
    user = _user(session)
    track = _tracks(session, 1)[0]
    with pytest.raises(ValueError, match="must be \\+1 or -1"):
        repo.set_feedback(session=session, user_id=user.id, track_id=track.id, value=value)
    assert repo.get_feedback(session=session, user_id=user.id) == {}


def test_set_feedback_refuses_another_users_recommendation(session: Session) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bob")
    track = _tracks(session, 1)[0]
    bobs = repo.add_recommendations(session=session, user_id=bob.id, mood_event_id=None, items=_items([track]))
    with pytest.raises(ValueError, match="recommendation"):
        repo.set_feedback(session=session, user_id=alice.id, track_id=track.id, value=1, recommendation_id=bobs[0].id)
    assert repo.get_feedback(session=session, user_id=alice.id) == {}


def test_get_feedback_is_scoped_to_the_user(session: Session) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bob")
    t1, t2 = _tracks(session, 2)
    repo.set_feedback(session=session, user_id=alice.id, track_id=t1.id, value=1)
    repo.set_feedback(session=session, user_id=bob.id, track_id=t1.id, value=-1)
    repo.set_feedback(session=session, user_id=bob.id, track_id=t2.id, value=1)
    assert repo.get_feedback(session=session, user_id=alice.id) == {t1.id: 1}
    assert repo.get_feedback(session=session, user_id=bob.id) == {t1.id: -1, t2.id: 1}


def test_recent_track_ids_returns_tracks_recommended_since(session: Session) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bob")
    old, new, bobs = _tracks(session, 3)
    [old_rec] = repo.add_recommendations(session=session, user_id=alice.id, mood_event_id=None, items=_items([old]))
    old_rec.created_at = datetime.now(UTC) - timedelta(days=2)
    repo.add_recommendations(session=session, user_id=alice.id, mood_event_id=None, items=_items([new, new]))
    repo.add_recommendations(session=session, user_id=bob.id, mood_event_id=None, items=_items([bobs]))
    session.flush()
    since = datetime.now(UTC) - timedelta(days=1)
    assert repo.recent_track_ids(session=session, user_id=alice.id, since=since) == {new.id}
    assert repo.recent_track_ids(session=session, user_id=alice.id, since=since - timedelta(days=2)) == {old.id, new.id}


def test_repository_functions_do_not_commit(engine: Engine) -> None:
    factory = make_sessionmaker(engine)
    with factory() as session:
        user = _user(session)
        _populate(session, user, _tracks(session))
        session.rollback()
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
        assert session.scalar(select(func.count()).select_from(MoodEvent)) == 0
