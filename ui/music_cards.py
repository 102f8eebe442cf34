"""The recommended tracks as one element: a Streamlit custom component (``st.components.v2``), inline in the
page (no iframe of its own; its styles kept apart in a shadow root, in the app's theme).

Why one element: drawn with Streamlit's own elements a card took seven (two containers, two texts, two
buttons, the player), so the ten cards of a list were about half of the messages a photo reading sends, and
their share of the server's CPU under load was the largest after the analysis (docs/performance.md, fifth
pass). The component gets the list as data and draws it in the browser (``ui/static/music_cards.js``).

Conventions:

* **Cards** are keyed ``"{event_id}-{track_id}"`` and keep that order: the list's rank order.
* **A vote** comes back as the trigger ``vote`` = ``{"track": track_id, "value": v}`` with ``v`` 1 (like),
  -1 (dislike) or 0 (undo); :func:`parse_vote` accepts only a track of the list shown and one of those three
  values (anything else a client sends is ignored and logged).
* **Votes shown**: ``vote`` per card is the stored vote (1, -1 or 0); ``note`` the confirmation of a vote made
  in this list, with ``undo`` offered unless it was an undo.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import streamlit as st

from awsome_core.music.embed import display_artists
from awsome_core.services.recommendations import RecommendedItem

logger = logging.getLogger(__name__)

_STATIC: Final = Path(__file__).resolve().parent / "static"
PLAYER_HEIGHT: Final = 80  # Spotify's compact embed: title, artist and the play button in one row
VOTE_VALUES: Final = (1, -1, 0)
LABELS: Final = {
    "up": "Like: more like this",
    "down": "Not for me: don't suggest it again",
    "player_height": PLAYER_HEIGHT,
}
CONFIRMATIONS: Final = {  # vote -> (icon in music_cards.js, text)
    1: ("liked", "Liked: more like this next time."),
    -1: ("disliked", "Disliked: it won't be suggested again."),
    0: ("removed", "Vote removed."),
}

# Registered once per process, at import; the JS and CSS are read once, not on every run.
_component = st.components.v2.component(
    "awsome_music_cards",
    html='<div class="cards"></div>',
    css=(_STATIC / "music_cards.css").read_text(encoding="utf-8"),
    js=(_STATIC / "music_cards.js").read_text(encoding="utf-8"),
)


def card_data(
    event_id: int,
    picks: Sequence[RecommendedItem],
    feedback: Mapping[int, int],
    confirmed: Mapping[int, int],
    *,
    attempt: int = 0,
) -> dict[str, Any]:
    """What the component draws: *feedback* is the stored vote by track id, *confirmed* the vote just made in
    this list by track id (its confirmation line is shown). *attempt* changes after a vote that could not be
    saved, so that the browser draws the cards again and their buttons can be pressed again."""
    cards = []
    for pick in picks:
        said = confirmed.get(pick.track_id)
        note_icon, note = CONFIRMATIONS[said] if said is not None else ("", "")
        cards.append(
            {
                "key": f"{event_id}-{pick.track_id}",
                "track": pick.track_id,
                "title": pick.title or "Unknown title",
                "artists": display_artists(pick.artists) or "Unknown artist",
                "url": pick.open_url,
                "why": pick.explanation,
                "embed": pick.embed_url or "",
                "vote": feedback.get(pick.track_id, 0),
                "note": note,
                "note_icon": note_icon,
                "undo": said is not None and said != 0,
            }
        )
    return {"cards": cards, "labels": LABELS, "attempt": attempt}


def parse_vote(raw: object, tracks: Collection[int]) -> tuple[int, int] | None:
    """``(track_id, value)`` from the component's ``vote`` trigger, or None unless the track is one of
    *tracks* (the list shown) and the value one of :data:`VOTE_VALUES`."""
    track = raw.get("track") if isinstance(raw, Mapping) else None
    value = raw.get("value") if isinstance(raw, Mapping) else None
    valid = (
        isinstance(track, int)
        and not isinstance(track, bool)
        and track in tracks
        and isinstance(value, int)
        and not isinstance(value, bool)
        and value in VOTE_VALUES
    )
    if not valid:
        logger.warning("ignored a vote the music list did not offer: %.200r", raw)
        return None
    return int(track), int(value)  # type: ignore[arg-type]


def _pending_key(event_id: int) -> str:
    return f"_music_vote_pending-{event_id}"


def _keep_vote(event_id: int) -> None:
    """The component's ``on_vote_change``: runs before the fragment; keeps the vote for :func:`take_vote`."""
    state = st.session_state.get(f"music-{event_id}")
    st.session_state[_pending_key(event_id)] = state.get("vote") if isinstance(state, Mapping) else None


def take_vote(event_id: int, picks: Sequence[RecommendedItem]) -> tuple[int, int] | None:
    """The vote the user made in the cards of *event_id* since they were last drawn, once (see
    :func:`parse_vote`). Called before :func:`show_cards`, so that the cards show it stored."""
    raw = st.session_state.pop(_pending_key(event_id), None)
    return None if raw is None else parse_vote(raw, {pick.track_id for pick in picks})


def show_cards(
    event_id: int,
    picks: Sequence[RecommendedItem],
    feedback: Mapping[int, int],
    confirmed: Mapping[int, int],
    *,
    attempt: int = 0,
) -> None:
    """Draw the cards of the reading *event_id* (see :func:`card_data`)."""
    data = card_data(event_id, picks, feedback, confirmed, attempt=attempt)
    _component(key=f"music-{event_id}", data=data, on_vote_change=functools.partial(_keep_vote, event_id))
