"""The Live page's reading under AppTest (issue #15): "Use this mood" only while the stream plays, plain words
(technical detail in an expander), the result right under the button, a correction after it that the stored
reading and the music follow, and a reading kept while the database was down that shows its music once saved.

The stream itself needs a browser (tests/e2e/test_live_e2e.py); here a small script drives ``ui.live_mood``
with a fake processor and a ``playing`` flag in the session state."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from awsome_core import auth
from awsome_core.errors import StorageUnavailable
from awsome_core.storage.db import make_engine, make_sessionmaker
from awsome_core.storage.models import MoodEvent
from tests.conftest import PROJECT_ROOT, music_cards

APP = PROJECT_ROOT / "app.py"


def _reading_script() -> None:
    """The side column of app_pages/live.py, with the stream's state and the processor faked."""
    import streamlit as st

    from awsome_core.emotions import EMOTIONS
    from awsome_core.vision.live import LiveSnapshot
    from ui import live_mood

    class FakeProcessor:
        max_age = 2.0

        def snapshot(self) -> LiveSnapshot:
            face = st.session_state.get("face", True)
            probabilities = {e: (0.82 if e == "happy" else 0.03) for e in EMOTIONS} if face else None
            return LiveSnapshot(probabilities, int(face), 11.5, 0.1, 1.0, 40, 30)

    user_id = st.session_state["user_id"]
    if live_mood.use_mood_button(st.session_state.get("playing", False)):
        live_mood.confirm_reading(user_id, FakeProcessor())  # type: ignore[arg-type]
    live_mood.show_result(user_id)
    live_mood.show_music(user_id)


@pytest.fixture(autouse=True)
def no_page_links(monkeypatch: pytest.MonkeyPatch) -> None:
    """The script runs outside the app's navigation, so a page link (the music's catalog note) has no page."""
    import streamlit

    monkeypatch.setattr(streamlit, "page_link", lambda *_, **__: None)


def _user(url: str) -> int:
    with make_sessionmaker(make_engine(url))() as session:
        user = auth.register_user(
            session=session, username="lia", display_name="Lia", password="correct-horse-battery", rounds=4
        )
        return int(user.id)


def _reading_app(url: str, *, playing: bool = True) -> AppTest:
    at = AppTest.from_function(_reading_script, default_timeout=120)
    at.session_state["user_id"] = _user(url)
    at.session_state["playing"] = playing
    return at.run()


def _events(url: str) -> list[tuple[str, str | None]]:
    with make_sessionmaker(make_engine(url))() as session:
        return [(e.top_emotion, e.corrected_emotion) for e in session.scalars(select(MoodEvent))]


def _texts(at: AppTest) -> list[str]:
    return [m.value for m in (*at.info, *at.warning, *at.error, *at.success, *at.caption, *at.markdown)]


def _likes(at: AppTest) -> list[Any]:
    return music_cards(at)


def test_the_live_page_before_start_speaks_plainly(app_env: str) -> None:
    with make_sessionmaker(make_engine(app_env))() as session:
        user = auth.register_user(
            session=session, username="lea", display_name="Lea", password="correct-horse-battery", rounds=4
        )
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in {"authentication_status": True, "user_id": user.id, "username": "lea", "name": "Lea"}.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception and at.title[0].value == "Live camera"
    assert at.button(key="live-use-mood").disabled  # before START
    (details,) = [e for e in at.expander if e.label == "Technical details"]
    technical = ("fps", "frames per second", "TURN", "WebRTC")
    inside = " ".join(m.value for m in details.markdown)
    assert "TURN" in inside and "WebRTC" in inside
    outside = [t for t in _texts(at) if t not in inside]
    assert not [t for t in outside if any(word in t for word in technical)], outside


def test_use_this_mood_is_disabled_until_the_stream_plays(app_env: str) -> None:
    at = _reading_app(app_env, playing=False)
    assert at.button(key="live-use-mood").disabled
    at.session_state["playing"] = True
    at.run()
    assert not at.button(key="live-use-mood").disabled


def test_no_face_while_playing_says_so(app_env: str) -> None:
    at = _reading_app(app_env)
    at.session_state["face"] = False
    at.button(key="live-use-mood").click().run()
    assert not at.exception
    assert "No face seen" in at.warning[0].value
    assert _events(app_env) == []


def test_the_result_shows_under_the_button_and_a_correction_is_stored_and_followed(app_env: str) -> None:
    at = _reading_app(app_env)
    at.button(key="live-use-mood").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Saved to your history. Your music is below."]
    assert at.subheader[0].value == "Your mood: happy (82%)"
    assert any("Your music is below" in t.value for t in at.toast)
    (answer,) = at.selectbox
    assert answer.label == "Did we get it right?"
    assert answer.options[0] == "Yes, happy" and len(answer.options) == 7
    assert "No, I feel happy" not in answer.options  # only the other emotions after "Yes"
    assert len(_likes(at)) >= 5  # its music
    assert _events(app_env) == [("happy", None)]

    answer.set_value("sad").run()
    assert not at.exception
    assert _events(app_env) == [("happy", "sad")]  # through services.readings.correct_reading
    assert any(t.startswith("Stored as sad, your correction") for t in _texts(at))
    picks = at.session_state["_picks"]
    assert {p.emotion for p in picks.values()} == {"sad"}  # the music follows the corrected emotion
    assert len(_likes(at)) >= 5

    answer = at.selectbox[0].set_value("happy").run()  # back to "Yes, happy": the correction is removed
    assert _events(app_env) == [("happy", None)]


def test_a_reading_kept_while_the_database_was_down_shows_its_music_once_saved(
    app_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.mood
    from awsome_core.services import readings

    at = _reading_app(app_env)
    save = readings.save_reading

    def down(**_: Any) -> Any:
        raise StorageUnavailable()

    monkeypatch.setattr(readings, "save_reading", down)
    monkeypatch.setattr(ui.mood, "RETRY_INTERVAL_S", 0.0)
    at.button(key="live-use-mood").click().run()
    assert not at.exception
    assert [w.value for w in at.warning] == [ui.mood.KEPT_MESSAGE]  # said once
    assert not _likes(at) and not at.success
    at.selectbox[0].set_value("surprise").run()  # answered again while it waits

    monkeypatch.setattr(readings, "save_reading", save)  # the database is back
    at.run()
    assert not at.exception
    assert _events(app_env) == [("happy", "surprise")]  # written once, then the new answer
    assert [s.value for s in at.success] == ["Saved to your history. Your music is below."]
    assert any(t.startswith("Stored as surprise, your correction") for t in _texts(at))
    assert len(_likes(at)) >= 5  # its music
    at.run()
    assert _events(app_env) == [("happy", "surprise")]
