"""The History page under Streamlit's AppTest: charts for a seeded user, empty states, export, deletion."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from awsome_core import auth
from awsome_core.emotions import EMOTIONS, VALENCE_AROUSAL
from awsome_core.storage import repository
from awsome_core.storage.db import make_engine, make_sessionmaker
from awsome_core.storage.models import Feedback, MoodEvent, Recommendation, Track, User
from tests.conftest import PROJECT_ROOT
from ui.history import CORRECT_OPEN

PAGE = PROJECT_ROOT / "app_pages" / "history.py"
CHARTS = ("history-timeline", "history-probabilities", "history-top-emotions", "history-heatmap", "history-help")


def _register(url: str, username: str) -> int:
    with make_sessionmaker(make_engine(url))() as session:
        user = auth.register_user(
            session=session,
            username=username,
            display_name=username.title(),
            password="correct-horse-battery",
            rounds=4,
        )
        return int(user.id)


def _seed(url: str, user_id: int, *, readings: int, days_ago: float = 0.0) -> None:
    """*readings* readings 3 hours apart ending *days_ago* days ago; music after the first, liked."""
    now = datetime.now(UTC) - timedelta(days=days_ago)
    with make_sessionmaker(make_engine(url))() as session:
        events = []
        for i in range(readings):
            top = EMOTIONS[i % len(EMOTIONS)]
            probs = {e: (0.7 if e == top else 0.05) for e in EMOTIONS}
            events.append(
                repository.add_mood_event(
                    session=session,
                    user_id=user_id,
                    probabilities=probs,
                    source="photo",
                    model_version="t",
                    created_at=now - timedelta(hours=3 * (readings - i)),
                )
            )
        track = Track(title="Song <b>*x*</b>", artists="Band;Guest", source="test")
        session.add(track)
        session.flush()
        session.add(
            Recommendation(
                user_id=user_id,
                mood_event_id=events[0].id,
                track_id=track.id,
                strategy="lift",
                rank=1,
                explanation="why",
                created_at=events[0].created_at + timedelta(seconds=5),
            )
        )
        session.add(Feedback(user_id=user_id, track_id=track.id, value=1))
        session.commit()


def _page(user_id: int, username: str = "alice", *, opened: tuple[str, ...] = ()) -> AppTest:
    """The History page for *user_id*, with the boxes whose open-state keys are *opened* open."""
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    for key in opened:
        at.session_state[key] = True
    at.session_state["authentication_status"] = True
    at.session_state["user_id"] = user_id
    at.session_state["username"] = username
    at.session_state["name"] = username.title()
    return at.run()


def _chart_keys(at: AppTest) -> list[str]:
    return [key for chart in at.get("plotly_chart") for key in CHARTS if chart.proto.id.endswith(f"-{key}")]


def _rows(url: str, user_id: int) -> dict[str, int]:
    with make_sessionmaker(make_engine(url))() as session:
        counts = {
            m.__tablename__: session.scalar(select(func.count()).select_from(m).where(m.user_id == user_id)) or 0
            for m in (MoodEvent, Recommendation, Feedback)
        }
        counts["users"] = session.scalar(select(func.count()).select_from(User).where(User.id == user_id)) or 0
    return counts


def test_history_page_renders_every_chart_for_a_seeded_user(app_env: str) -> None:
    alice, bob = _register(app_env, "alice"), _register(app_env, "bob")
    _seed(app_env, alice, readings=30)
    _seed(app_env, bob, readings=12)
    at = _page(alice)
    assert not at.exception
    assert _chart_keys(at) == list(CHARTS[:-1])  # no reading came within an hour of the music: no "did it help?"
    assert any(c.value.startswith("Not known yet") for c in at.caption)
    assert at.get("metric")[0].proto.body == "30"  # Alice's readings only, not Bob's 12
    assert at.info[0].value.startswith("Mostly ")
    played = at.table[0].value
    assert played["Track"].tolist() == ["Song <b>*x*</b> · Band, Guest"] and played["You"].tolist() == ["liked"]
    assert [b.proto.disabled for b in at.get("download_button")] == [False, False, False]


def test_history_page_without_readings_shows_a_friendly_empty_state(app_env: str) -> None:
    at = _page(_register(app_env, "alice"))
    assert not at.exception
    assert "No history yet" in at.info[0].value
    assert _chart_keys(at) == []
    assert [b.proto.disabled for b in at.get("download_button")] == [True, True, True]


def test_history_page_with_old_readings_only_suggests_a_wider_range(app_env: str) -> None:
    alice = _register(app_env, "alice")
    _seed(app_env, alice, readings=3, days_ago=30)
    at = _page(alice)
    assert not at.exception
    assert at.info[0].value.startswith("No readings this week")
    assert _chart_keys(at) == []
    assert "No music was recommended in this range." in [c.value for c in at.caption]


def test_delete_history_needs_confirmation_and_removes_only_the_users_rows(app_env: str) -> None:
    alice, bob = _register(app_env, "alice"), _register(app_env, "bob")
    _seed(app_env, alice, readings=5)
    _seed(app_env, bob, readings=5)
    at = _page(alice, opened=("history-open-delete-history",))
    assert at.button(key="delete-history").disabled
    at.checkbox(key="confirm-delete-history").check().run()
    at.button(key="delete-history").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Your history has been deleted."]
    assert _rows(app_env, alice) == {"mood_events": 0, "recommendations": 0, "feedback": 0, "users": 1}
    assert _rows(app_env, bob) == {"mood_events": 5, "recommendations": 1, "feedback": 1, "users": 1}
    assert "No history yet" in at.info[0].value
    assert not at.session_state["history-open-delete-history"]  # the box closed behind the delete
    assert not [b for b in at.button if b.key == "delete-history"]


def test_delete_account_signs_out_and_removes_the_user(app_env: str) -> None:
    alice, bob = _register(app_env, "alice"), _register(app_env, "bob")
    _seed(app_env, alice, readings=5)
    _seed(app_env, bob, readings=5)
    at = _page(alice, opened=("history-open-delete-account",))
    at.checkbox(key="confirm-delete-account").check().run()
    at.button(key="delete-account").click().run()
    assert not at.exception
    assert at.session_state["user_id"] is None
    assert _rows(app_env, alice) == {"mood_events": 0, "recommendations": 0, "feedback": 0, "users": 0}
    assert _rows(app_env, bob)["users"] == 1
    assert "sign in" in at.warning[0].value


def test_database_errors_show_a_message_not_a_traceback(app_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = _register(app_env, "alice")
    monkeypatch.setenv("AWSOME_DATABASE_URL", "mysql+pymysql://nobody@127.0.0.1:1/awsome")
    at = _page(alice)
    assert not at.exception
    assert "history is unavailable right now" in at.warning[0].value
    assert _chart_keys(at) == []


def test_empty_range_with_every_source_says_nothing_about_picked_sources(app_env: str) -> None:
    alice = _register(app_env, "alice")
    _seed(app_env, alice, readings=3, days_ago=30)
    at = _page(alice)
    assert at.info[0].value == "No readings this week. Try a wider range of dates."
    assert at.pills(key="history-sources").options == ["Live camera", "Photo"]  # no API readings: no API chip
    at.pills(key="history-sources").set_value(["photo"]).run()
    assert at.info[0].value == "No Photo readings this week. Pick more sources or a wider range of dates."
    at.pills(key="history-sources").set_value([]).run()
    assert at.info[0].value == "Pick at least one source above to see your readings."


def test_api_source_is_offered_and_explained_only_when_used(app_env: str) -> None:
    alice = _register(app_env, "alice")
    with make_sessionmaker(make_engine(app_env))() as session:
        repository.add_mood_event(
            session=session,
            user_id=alice,
            probabilities={e: float(e == "sad") for e in EMOTIONS},
            source="manual",
            model_version="t",
        )
        session.commit()
    at = _page(alice)
    assert at.pills(key="history-sources").options == ["Live camera", "Photo", "API"]
    assert any("HTTP API" in c.value for c in at.caption)
    assert at.get("metric")[0].proto.body == "1"


def test_correcting_a_reading_from_history_changes_every_figure(app_env: str) -> None:
    alice = _register(app_env, "alice")
    _seed(app_env, alice, readings=1)  # one angry reading (EMOTIONS[0])
    at = _page(alice, opened=(CORRECT_OPEN,))
    assert at.info[0].value.startswith("Mostly angry")
    assert any("your correction is its emotion" in c.value for c in at.caption)  # the rule, stated
    (reading_id,) = at.selectbox(key="history-reading").options
    at.selectbox(key="history-correct-emotion").set_value("happy")
    at.button(key="history-correct").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Saved: that reading now counts as happy."]
    assert at.info[0].value.startswith("Mostly happy")
    assert "we read angry, you said happy" in at.selectbox(key="history-reading").options[0]
    with make_sessionmaker(make_engine(app_env))() as session:
        event = session.scalars(select(MoodEvent).where(MoodEvent.user_id == alice)).one()
        assert (event.top_emotion, event.corrected_emotion) == ("angry", "happy")
    timeline = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-history-timeline"))
    encoded = json.loads(timeline.proto.spec)["data"][0]["y"]  # plotly's base64 typed array
    valence = np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"])
    assert valence.tolist() == [VALENCE_AROUSAL["happy"][0]]  # happy's valence, not the angry reading's


def test_the_pages_downloads_are_local_rounded_and_hold_the_music(app_env: str) -> None:
    from ui.history import _exporter

    alice = _register(app_env, "alice")
    _seed(app_env, alice, readings=2)
    readings_csv = _exporter(alice, "csv", "Asia/Kolkata", "readings")()
    header, first, *_ = readings_csv.splitlines()
    assert header.split(",")[-3:] == ["corrected_emotion", "emotion", "model_version"]
    assert "+05:30," in first and ",0.7," in first  # local time with its offset; 3 decimals at most
    assert all(len(cell.split(".")[-1]) <= 3 for cell in first.split(",")[2:11] if "." in cell)
    music = _exporter(alice, "csv", "Asia/Kolkata", "music")().splitlines()
    assert music[0] == "recommended_at,emotion,strategy,rank,title,artists,spotify_id,rating"
    assert music[1].endswith(",liked") and "+05:30" in music[1] and len(music) == 2


def test_did_it_help_shows_once_a_reading_follows_the_music(app_env: str) -> None:
    alice = _register(app_env, "alice")
    _seed(app_env, alice, readings=1)  # one reading 3 h ago, music 5 s after it
    with make_sessionmaker(make_engine(app_env))() as session:
        repository.add_mood_event(
            session=session,
            user_id=alice,
            probabilities={e: float(e == "happy") for e in EMOTIONS},
            source="live",
            model_version="t",
            created_at=datetime.now(UTC) - timedelta(hours=3) + timedelta(minutes=10),
        )
        session.commit()
    at = _page(alice)
    assert not at.exception
    assert _chart_keys(at) == list(CHARTS)


def test_the_closed_boxes_build_nothing_until_opened(app_env: str) -> None:
    """ "Correct a reading" and the two delete boxes are drawn shut and hold no widgets until opened (opening one
    reruns the page, which then builds its content)."""
    alice = _register(app_env, "alice")
    _seed(app_env, alice, readings=3)
    at = _page(alice)
    assert [e.label for e in at.expander] == ["Correct a reading", "Delete my history", "Delete my account"]
    keys = {w.key for w in (*at.selectbox, *at.checkbox, *at.button)}
    assert not keys & {"history-reading", "history-correct-emotion", "confirm-delete-history", "delete-account"}
    at.session_state[CORRECT_OPEN] = True
    at.run()
    assert len(at.selectbox(key="history-reading").options) == 3
    assert not [c for c in at.checkbox if c.key == "confirm-delete-history"]
