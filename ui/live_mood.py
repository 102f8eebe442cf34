"""The Live page's reading: the status line, "Use this mood", the stored result, its correction and its music.

Rules (issue #15):

* **Use this mood only while the stream plays.** The button is disabled before START and after STOP
  (``ctx.state.playing``, which the browser reports and which reruns the page when it changes).
* **The result is seen without hunting.** It appears right under the button, beside the video on a wide
  screen and under it on a phone: "Saved to your history. Your music is below." first, then the mood,
  "Did we get it right?" and the chart; a toast says the same (the result's place may be scrolled away);
  the music follows under the columns.
* **Correct it afterwards.** "Yes, {predicted}" first, then only the other emotions; a changed answer is
  saved at once through ``services.readings.correct_reading`` (:func:`ui.mood.correct_stored_reading`),
  and the music follows the corrected emotion (one-hot, as on the Photo page): the corrected emotion wins
  where there is one.
* **A reading kept while the database is down** (:data:`ui.mood.KEPT_MESSAGE`) shows its result and music
  as soon as it is saved (on any later script run); an answer changed while it waits is stored then.

Words for users stay plain: the analysed-frames rate and the connection's details are in
:func:`details_text`, which the page shows in an expander.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any, Final

import streamlit as st

from awsome_core.charts import probability_chart
from awsome_core.emotions import one_hot, top_emotion
from awsome_core.vision.live import LiveProcessor, LiveSnapshot
from ui.charts import plotly_chart
from ui.mood import (
    KEPT_MESSAGE,
    ReadingKept,
    answer_label,
    answers,
    correct_stored_reading,
    is_pending,
    save_kept_readings,
    store_reading,
    stored_event_id,
)
from ui.music import show_recommendations
from ui.runtime import show_errors

logger = logging.getLogger(__name__)

CONFIRMED: Final = "_live_confirmed"  # {"reading_key", "probabilities", "auto", "saved": correction stored}
BUTTON_KEY: Final = "live-use-mood"
SAVED: Final = "Saved to your history. Your music is below."
PRESS_START: Final = "Press **START** to turn on your camera."
CONNECTION_HELP: Final = (
    "- The video goes to our server over WebRTC and comes back with the boxes drawn on it; nothing is "
    "recorded.\n"
    "- If START never shows a picture, the network between you and the server may block WebRTC: the server "
    "then needs a TURN relay (`AWSOME_TURN_URLS`, see the README's Troubleshooting)."
)


def status_text(snap: LiveSnapshot) -> str:
    """The line beside the video while it plays, in plain words."""
    if snap.top_emotion is None:
        return "No face in view: look into the camera."
    faces = "1 face" if snap.face_count == 1 else f"{snap.face_count} faces"
    return f"Mood: **{snap.top_emotion}** {100 * snap.confidence:.0f}% · {faces}"


def details_text(snap: LiveSnapshot | None) -> str:
    """The technical details for the expander: analysed frames per second, frames received, the connection."""
    if snap is None:
        return f"- Not connected.\n{CONNECTION_HELP}"
    return (
        f"- Analysing {snap.fps:.1f} frames per second ({snap.frames_analyzed:,} of {snap.frames_in:,} frames "
        f"received so far).\n{CONNECTION_HELP}"
    )


def use_mood_button(playing: bool) -> bool:
    """ "Use this mood", enabled only while the stream plays."""
    return st.button(
        "Use this mood",
        key=BUTTON_KEY,
        type="primary",
        icon=":material/check:",
        disabled=not playing,
        help=None if playing else "Press START first: the mood is read from the camera.",
    )


def confirm_reading(user_id: int, processor: LiveProcessor, *, auto: bool = False) -> bool:
    """Store the current smoothed reading for *user_id* and keep it for reruns (also when the database is
    down: then it is kept and saved later). False if there is no reading or it could not be kept."""
    snap = processor.snapshot()
    if snap.probabilities is None:
        st.warning(f"No face seen in the last {processor.max_age:.0f} seconds: look into the camera and try again.")
        return False
    reading_key = f"live-{uuid.uuid4()}"
    with show_errors("Storing your mood"):
        with contextlib.suppress(ReadingKept):  # kept: show_result says so
            event_id = store_reading(
                user_id=user_id,
                probabilities=snap.probabilities,
                source="live",
                reading_key=reading_key,
                face_count=max(1, snap.face_count),
            )
            logger.info("live reading stored: event %d (%s)", event_id, snap.top_emotion)
            st.toast(SAVED, icon=":material/check_circle:")
        st.session_state[CONFIRMED] = {
            "reading_key": reading_key,
            "probabilities": snap.probabilities,
            "auto": auto,
            "saved": None,
        }
        return True
    return False


def show_result(user_id: int) -> None:
    """Under the button: the confirmed reading (saved message, mood, correction, chart), on every rerun
    until the next confirmation; while it waits for the database, :data:`KEPT_MESSAGE`."""
    confirmed = st.session_state.get(CONFIRMED)
    if not confirmed:
        return
    reading_key, probabilities = confirmed["reading_key"], confirmed["probabilities"]
    predicted = top_emotion(probabilities)
    saved = st.empty()  # first: "Saved to your history" (or that it waits for the database)
    st.subheader(f"Your mood: {predicted} ({100 * probabilities[predicted]:.0f}%)")
    answer = st.selectbox(
        "Did we get it right?",
        answers(predicted),
        format_func=lambda e: answer_label(e, predicted),
        key=f"live-correct-{reading_key}",
    )
    wanted = None if answer == predicted else answer
    save_kept_readings(user_id)  # a reading kept while the database was down: saved now if it is back
    event_id = stored_event_id(reading_key)
    if event_id is None:
        if is_pending(reading_key):
            saved.warning(KEPT_MESSAGE)
        return
    if confirmed["saved"] != wanted and correct_stored_reading(user_id, event_id, wanted, page="Live"):
        confirmed["saved"] = wanted
    emotion = confirmed["saved"] or predicted
    how = "automatically after a stable reading" if confirmed["auto"] else "when you pressed Use this mood"
    saved.success(SAVED, icon=":material/check_circle:")
    note = ", your correction" if confirmed["saved"] else ""
    st.caption(
        f"Stored as {emotion}{note}, {how}. Change the answer above to correct it; it is saved at once. "
        "The camera keeps running: press Use this mood again for a new reading."
    )
    chart = probability_chart(probabilities).with_layout(height=230)  # beside the video: the music stays near
    plotly_chart(chart, key=f"live-chart-{reading_key}")


def result_mood(confirmed: dict[str, Any] | None) -> tuple[int, dict[str, float]] | None:
    """``(event id, probabilities for the music)`` of the confirmed reading once stored: a one-hot of the
    correction where there is one, else the model's probabilities. None before that."""
    if not confirmed:
        return None
    event_id = stored_event_id(confirmed["reading_key"])
    if event_id is None:
        return None
    if corrected := confirmed["saved"]:
        return event_id, one_hot(corrected)
    return event_id, dict(confirmed["probabilities"])


def show_music(user_id: int) -> None:
    """The music for the confirmed, stored reading (nothing before that)."""
    if mood := result_mood(st.session_state.get(CONFIRMED)):
        event_id, probabilities = mood
        show_recommendations(user_id=user_id, event_id=event_id, probabilities=probabilities)
