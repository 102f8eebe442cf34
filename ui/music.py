"""Recommendations for a stored reading: strategy choice, track cards with a Spotify player, like/dislike.

The whole block is a fragment (``st.fragment``): a vote or another strategy reruns only it, not the page.
The cards are one element (:mod:`ui.music_cards`). A card is complete without its player: title, artists,
the explanation and an "Open in Spotify" link come first; the player (Spotify's compact embed) after them,
so where open.spotify.com cannot load the card still reads and links. Votes sit beside the title, and stay
on its line on a phone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import streamlit as st

from awsome_core.music.catalog import SMALL_CATALOG_TRACKS
from awsome_core.music.recommender import STRATEGIES, default_strategy
from awsome_core.services import recommendations
from awsome_core.services.recommendations import Recommendations, RecommendedItem
from ui.music_cards import show_cards, take_vote
from ui.runtime import get_sessionmaker, show_errors

logger = logging.getLogger(__name__)

STRATEGY_LABELS = {"match": "Match my mood", "lift": "Lift me up", "calm": "Calm me down", "energize": "Energize me"}
_VOTES = "_music_votes"  # session key: {(event_id, track_id): value just set}, for the confirmation line
_FAILED_VOTES = "_music_failed_votes"  # session key: votes not saved so far (the cards are drawn again)
_KEPT_READINGS = 4  # readings whose lists (and votes) a session remembers, newest first


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
    for vote in [k for k in votes if k[0] not in events]:
        del votes[vote]


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
        votes: dict[tuple[int, int], int] = st.session_state.setdefault(_VOTES, {})
        failed: int = st.session_state.get(_FAILED_VOTES, 0)
        if (vote := take_vote(event_id, picks.items)) is not None:
            pick = next(p for p in picks.items if p.track_id == vote[0])  # take_vote accepts only these
            stored = _vote(user_id, pick, vote[1])  # a warning above the cards when not saved
            if stored is None:
                failed = st.session_state[_FAILED_VOTES] = failed + 1
            else:
                votes[(event_id, vote[0])] = stored
        if fresh:  # ranked in this run: the votes read with it are current
            feedback = {pick.track_id: pick.feedback for pick in picks.items}
        else:  # a vote, here or on another page, may have changed since
            feedback = recommendations.get_feedback(sessions=get_sessionmaker(), user_id=user_id)
        confirmed = {track: value for (event, track), value in votes.items() if event == event_id}
        show_cards(event_id, picks.items, feedback, confirmed, attempt=failed)


def _catalog_note(total: int) -> None:
    """Offer the full catalog while this one (*total* tracks when the list was ranked) is small."""
    if total < SMALL_CATALOG_TRACKS:
        st.caption(
            f"These come from a catalog of {total:,} tracks; the full public catalog (about 114,000) can be "
            "added on the About page."
        )
        st.page_link("app_pages/about.py", label="Music catalog", icon=":material/library_music:")


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
