"""Recommendations for a stored reading: strategy choice, track cards with a Spotify player, like/dislike.

The whole block is a fragment (``st.fragment``): a vote or another strategy reruns only it, not the page.
A card is complete without its player: title, artists, the explanation and an "Open in Spotify" link are
plain Streamlit text; the player (``st.iframe`` of the embed URL, compact 80 px) comes after them, so where
open.spotify.com cannot load the card still reads and links. Votes sit beside the title in a horizontal
container, so they stay on the title's line on a phone. Icons are Material symbols (no emoji font needed).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import streamlit as st

from awsome_core.music.catalog import SMALL_CATALOG_TRACKS
from awsome_core.music.embed import display_artists
from awsome_core.music.recommender import STRATEGIES, default_strategy
from awsome_core.services import recommendations
from awsome_core.services.recommendations import Recommendations, RecommendedItem
from awsome_core.text import escape_markdown
from ui.runtime import get_sessionmaker, show_errors

logger = logging.getLogger(__name__)

STRATEGY_LABELS = {"match": "Match my mood", "lift": "Lift me up", "calm": "Calm me down", "energize": "Energize me"}
PLAYER_HEIGHT = 80  # Spotify's compact embed: title, artist and the play button in one row
_VOTES = "_music_votes"  # session key: {(event_id, track_id): value just set}, for the confirmation line
_KEPT_READINGS = 4  # readings whose lists (and votes) a session remembers, newest first
CONFIRMATIONS = {
    1: ":material/check_circle: Liked: more like this next time.",
    -1: ":material/block: Disliked: it won't be suggested again.",
    0: ":material/undo: Vote removed.",
}


def _picks(user_id: int, event_id: int, strategy: str) -> tuple[Recommendations, bool]:
    """Rank and record (``services.recommend_for_reading``) once per event and strategy; remember for reruns.
    Returns the list and whether it was ranked just now (its items' ``feedback`` are then the current votes).

    The session remembers the lists of its last :data:`_KEPT_READINGS` readings only (every strategy of
    each), and their vote confirmations: a session taking readings all day stays the
    same size.
    """
    cache: dict[tuple[int, str], Recommendations] = st.session_state.setdefault("_picks", {})
    key = (event_id, strategy)
    if key in cache:
        return cache[key], False
    cache[key] = recommendations.recommend_for_reading(
        sessions=get_sessionmaker(), user_id=user_id, reading_id=event_id, strategy=strategy
    )
    _forget_old_readings(cache)
    return cache[key], True


def forget_picks(event_id: int) -> None:
    """Drop this session's lists for the reading *event_id* (every strategy), so that the next draw ranks
    again, e.g. after the reading was corrected. The strategy the user sees stays."""
    cache: dict[tuple[int, str], Recommendations] = st.session_state.get("_picks") or {}
    for key in [k for k in cache if k[0] == event_id]:
        del cache[key]


def _forget_old_readings(cache: dict[tuple[int, str], Recommendations]) -> None:
    """Keep the entries (and votes) of the :data:`_KEPT_READINGS` events last added to *cache*."""
    events = list(dict.fromkeys(event for event, _ in reversed(cache)))[:_KEPT_READINGS]
    for key in [k for k in cache if k[0] not in events]:
        del cache[key]
    votes: dict[tuple[int, int], int] = st.session_state.get(_VOTES) or {}
    for key in [k for k in votes if k[0] not in events]:
        del votes[key]


def show_recommendations(*, user_id: int, event_id: int, probabilities: Mapping[str, float]) -> None:
    """Render the strategy picker and the recommended tracks for a stored reading (a fragment)."""
    _recommendations_fragment(user_id, event_id, dict(probabilities))


@st.fragment
def _recommendations_fragment(user_id: int, event_id: int, probabilities: dict[str, float]) -> None:
    default = default_strategy(probabilities)
    strategy = (
        st.segmented_control(
            "Music for this mood",
            options=list(STRATEGIES),
            format_func=lambda s: STRATEGY_LABELS.get(s, s),
            default=default,
            key=f"strategy-{event_id}",
        )
        or default
    )
    with show_errors("Finding music"):
        picks, fresh = _picks(user_id, event_id, strategy)
        if not picks.items:
            st.info("The music catalog is empty. An admin can import one on the About page.")
            return
        _catalog_note(picks.catalog_tracks)
        if fresh:  # ranked in this run: the votes read with it are current
            feedback = {pick.track_id: pick.feedback for pick in picks.items}
        else:  # a vote, here or on another page, may have changed since
            feedback = recommendations.get_feedback(sessions=get_sessionmaker(), user_id=user_id)
        for pick in picks.items:
            _render_pick(user_id, event_id, pick, feedback.get(pick.track_id, 0))


def _catalog_note(total: int) -> None:
    """Offer the full catalog while this one (*total* tracks when the list was ranked) is small."""
    if total < SMALL_CATALOG_TRACKS:
        st.caption(
            f"These come from a catalog of {total:,} tracks; the full public catalog (about 114,000) can be "
            "added on the About page."
        )
        st.page_link("app_pages/about.py", label="Music catalog", icon=":material/library_music:")


def _render_pick(user_id: int, event_id: int, pick: RecommendedItem, current: int) -> None:
    votes: dict[tuple[int, int], int] = st.session_state.setdefault(_VOTES, {})
    key = f"{event_id}-{pick.track_id}"
    with st.container(border=True, key=f"track-{key}"):
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            title = escape_markdown(pick.title or "Unknown title")
            artists = escape_markdown(display_artists(pick.artists) or "Unknown artist")
            st.markdown(f"**{title}**  \n{artists}", width="stretch")
            like = st.button(
                ":material/thumb_up:",
                key=f"like-{key}",
                type="primary" if current > 0 else "secondary",
                help="Like: more like this",
            )
            dislike = st.button(
                ":material/thumb_down:",
                key=f"dislike-{key}",
                type="primary" if current < 0 else "secondary",
                help="Not for me: don't suggest it again",
            )
        if like or dislike:  # the same vote again keeps it; "Undo" under the card removes it
            stored = _vote(user_id, pick, 1 if like else -1)
            if stored is not None:
                votes[(event_id, pick.track_id)] = stored
                st.rerun(scope="fragment")  # redraw the buttons in their new state, with the confirmation
        st.markdown(f"[Open in Spotify]({pick.open_url}) · {escape_markdown(pick.explanation)}")
        if (event_id, pick.track_id) in votes:
            _confirmation(user_id, event_id, pick, votes)
        if pick.embed_url:
            label = f"Spotify player: {pick.title} by {display_artists(pick.artists)}"  # the iframe's title
            st.iframe(pick.embed_url, height=PLAYER_HEIGHT, alt=label, tab_index=-1)


def _confirmation(user_id: int, event_id: int, pick: RecommendedItem, votes: dict[tuple[int, int], int]) -> None:
    value = votes[(event_id, pick.track_id)]
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.caption(CONFIRMATIONS[value], width="stretch")
        undo = value != 0 and st.button("Undo", key=f"undo-{event_id}-{pick.track_id}", type="tertiary",
                                        icon=":material/undo:")  # fmt: skip
        if undo and _vote(user_id, pick, 0) is not None:
            votes[(event_id, pick.track_id)] = 0
            st.rerun(scope="fragment")


def _vote(user_id: int, pick: RecommendedItem, value: int) -> int | None:
    """Store *value* (1, -1 or 0 = undo) and return it; None (with a warning shown) if saving failed."""
    with show_errors("Saving your feedback"):
        return recommendations.set_feedback(
            sessions=get_sessionmaker(),
            user_id=user_id,
            track_id=pick.track_id,
            value=value,
            recommendation_id=pick.recommendation_id,
        )
    return None
