"""The Photo page under Streamlit's AppTest: the most recent picture wins, numbered faces with the most
face-like preselected, corrections after Confirm, the size limit in the page, a kept reading's music."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from awsome_core import auth
from awsome_core.errors import StorageUnavailable
from awsome_core.storage.db import make_engine, make_sessionmaker
from awsome_core.storage.models import MoodEvent
from tests.conftest import PROJECT_ROOT, music_cards

APP = PROJECT_ROOT / "app.py"


def _jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def astronaut() -> bytes:
    from skimage import data

    return _jpeg(data.astronaut())


def no_face() -> bytes:
    return _jpeg(np.full((480, 640, 3), 200, np.uint8))


def group() -> bytes:
    """Two astronaut heads, the rocket and the cameraman: the issue's group picture."""
    import cv2

    from scripts.bench_detection import composite

    parts = [("astronaut-head", 0, 0, 300), ("astronaut-head", 0, 300, 300), ("rocket", 300, 0, 640)]
    sample = composite("group", (1200, 600), [*parts, ("camera", 940, 0, 256)])
    return _jpeg(cv2.cvtColor(sample.image, cv2.COLOR_BGR2RGB))


def _photo_page(url: str) -> tuple[AppTest, int]:
    with make_sessionmaker(make_engine(url))() as session:
        user = auth.register_user(
            session=session, username="pia", display_name="Pia", password="correct-horse-battery", rounds=4
        )
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in {"authentication_status": True, "user_id": user.id, "username": "pia", "name": "Pia"}.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("app_pages/photo.py").run()
    assert not at.exception
    return at, int(user.id)


def _texts(at: AppTest) -> list[str]:
    return [m.value for m in (*at.info, *at.warning, *at.error, *at.success, *at.caption)]


def _events(url: str) -> list[tuple[str, str | None]]:
    with make_sessionmaker(make_engine(url))() as session:
        return [(e.top_emotion, e.corrected_emotion) for e in session.scalars(select(MoodEvent))]


def _select(at: AppTest, label: str) -> Any:
    return next(s for s in at.selectbox if s.label == label)


def test_the_most_recent_picture_wins_and_clearing_it_shows_the_other(app_env: str) -> None:
    at, _ = _photo_page(app_env)
    at.file_uploader(key="photo-upload").set_value(("wall.jpg", no_face(), "image/jpeg")).run()
    assert any("could not find a face" in t for t in _texts(at))
    assert "Reading your upload, wall.jpg." in _texts(at)

    at.camera_input(key="photo-camera").set_value(("snap.jpg", astronaut(), "image/jpeg")).run()
    assert not at.exception
    texts = _texts(at)
    assert any(t.startswith("Reading your snapshot: the newer") for t in texts), texts
    assert not any("could not find a face" in t for t in texts)  # the old upload's message is gone
    assert [s.label for s in at.selectbox] == ["Did we get it right?"]  # one face: no "Whose mood?"
    assert at.selectbox[0].options[:2] == ["Yes, happy", "No, I feel angry"]
    assert "No, I feel happy" not in at.selectbox[0].options

    at.file_uploader(key="photo-upload").set_value(("wall2.jpg", no_face(), "image/jpeg")).run()
    assert any(t.startswith("Reading your upload, wall2.jpg: the newer") for t in _texts(at))
    assert any("could not find a face" in t for t in _texts(at))

    at.file_uploader(key="photo-upload").set_value(None).run()  # cleared: the snapshot is read again
    assert "Reading your snapshot." in _texts(at) and not any("could not find" in t for t in _texts(at))
    at.camera_input(key="photo-camera").set_value(None).run()
    assert not at.selectbox and not _texts(at)


def test_group_numbered_preselected_and_corrected_after_confirm(app_env: str) -> None:
    at, _ = _photo_page(app_env)
    at.file_uploader(key="photo-upload").set_value(("group.jpg", group(), "image/jpeg")).run()
    assert not at.exception
    whose = _select(at, "Whose mood?")
    assert [o.split(":")[0] for o in whose.options] == ["Face 1", "Face 2", "Face 3", "The group (mean of all faces)"]
    assert whose.value == 0 and whose.options[0].startswith("Face 1: happy")

    confirm = next(b for b in at.button if b.key and b.key.startswith("confirm-"))
    confirm.click().run()
    assert _events(app_env) == [("happy", None)]
    assert not [b for b in at.button if b.key == confirm.key]  # stored: no second Confirm
    assert any(t.startswith("Stored as happy.") for t in _texts(at))
    likes_before = {c["key"] for c in music_cards(at)}
    assert len(likes_before) >= 5  # the music

    _select(at, "Did we get it right?").set_value("sad").run()  # saved on change
    assert not at.exception
    assert _events(app_env) == [("happy", "sad")]
    assert any(t.startswith("Stored as sad, your correction.") for t in _texts(at))
    likes_after = {c["key"] for c in music_cards(at)}
    assert likes_after and likes_after != likes_before  # music ranked again, for sad

    _select(at, "Did we get it right?").set_value("happy").run()  # "Yes, happy" again: no correction
    assert _events(app_env) == [("happy", None)]


def test_a_file_over_the_limit_gets_a_message_in_the_page(app_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWSOME_MAX_UPLOAD_MB", "1")
    at, _ = _photo_page(app_env)
    at.file_uploader(key="photo-upload").set_value(("wall.jpg", no_face(), "image/jpeg")).run()
    assert any("could not find a face" in t for t in _texts(at))
    big = np.random.default_rng(0).integers(0, 255, (1200, 1600, 3), dtype=np.uint8)
    at.file_uploader(key="photo-upload").set_value(("big.jpg", _jpeg(big), "image/jpeg")).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "photos can be up to 1 MB" in errors[0], errors
    assert not at.warning  # the previous file's message is gone


def test_a_reading_kept_while_the_database_was_down_shows_its_music_and_takes_the_new_answer(
    app_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.mood
    from awsome_core.services import readings

    at, _ = _photo_page(app_env)
    at.file_uploader(key="photo-upload").set_value(("me.jpg", astronaut(), "image/jpeg")).run()
    save = readings.save_reading

    def down(**_: Any) -> Any:
        raise StorageUnavailable()

    monkeypatch.setattr(readings, "save_reading", down)
    monkeypatch.setattr(ui.mood, "RETRY_INTERVAL_S", 0.0)
    next(b for b in at.button if b.key and b.key.startswith("confirm-")).click().run()
    assert any("Your reading is kept" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key and b.key.startswith("confirm-")] and not music_cards(at)
    _select(at, "Did we get it right?").set_value("surprise").run()  # answered again while it waits

    monkeypatch.setattr(readings, "save_reading", save)  # the database is back
    at.run()
    assert not at.exception
    assert _events(app_env) == [("happy", "surprise")]  # written once, then the new answer
    assert any(t.startswith("Stored as surprise, your correction.") for t in _texts(at))
    assert len(music_cards(at)) >= 5  # its music


def test_a_vote_in_the_music_cards_is_stored_and_one_that_fails_keeps_the_cards_usable(
    app_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cards' vote path (ui/music.py, ui/music_cards.py) without a browser: AppTest cannot press a button
    inside the custom component, so the vote is put where the component's ``on_vote_change`` puts it."""
    from awsome_core.services import recommendations
    from awsome_core.storage.models import Feedback

    at, _ = _photo_page(app_env)
    at.file_uploader(key="photo-upload").set_value(("me.jpg", astronaut(), "image/jpeg")).run()
    next(b for b in at.button if b.key and b.key.startswith("confirm-")).click().run()
    first = music_cards(at)[0]
    event_id = int(first["key"].split("-")[0])
    pending = f"_music_vote_pending-{event_id}"

    save = recommendations.set_feedback

    def down(**_: Any) -> Any:
        raise StorageUnavailable()

    monkeypatch.setattr(recommendations, "set_feedback", down)
    at.session_state[pending] = {"track": first["track"], "value": 1}
    at.run()
    assert not at.exception
    assert at.warning, "the vote that was not saved is said"
    again = music_cards(at)[0]
    assert again["key"] == first["key"] and again["vote"] == 0 and not again["note"]  # nothing pretended

    monkeypatch.setattr(recommendations, "set_feedback", save)
    at.session_state[pending] = {"track": first["track"], "value": 1}
    at.run()
    liked = music_cards(at)[0]
    assert (liked["vote"], liked["note"], liked["undo"]) == (1, "Liked: more like this next time.", True)
    with make_sessionmaker(make_engine(app_env))() as session:
        assert [(f.track_id, f.value) for f in session.scalars(select(Feedback))] == [(first["track"], 1)]

    at.session_state[pending] = {"track": 10**9, "value": 1}  # not a track of this list: ignored
    at.run()
    assert not at.exception and music_cards(at)[0]["vote"] == 1
