"""Recommendations for a stored reading: strategy choice, Spotify embeds, like/dislike buttons."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st
import streamlit.components.v1 as components

from awsome_core.music import STRATEGIES, embed_html
from awsome_core.music.embed import COMPACT_HEIGHT, display_artists, is_spotify_id
from awsome_core.music.recommender import default_strategy
from awsome_core.services import recommendations
from awsome_core.services.recommendations import Recommendations, RecommendedItem
from awsome_core.text import escape_markdown
from ui.runtime import get_sessionmaker, show_errors

logger = logging.getLogger(__name__)

STRATEGY_LABELS = {"match": "Match my mood", "lift": "Lift me up", "calm": "Calm me down", "energize": "Energize me"}


def _picks(user_id: int, event_id: int, strategy: str) -> Recommendations:
    """Rank and record (``services.recommend_for_reading``) once per event and strategy; remember for reruns."""
    cache: dict[tuple[int, str], Recommendations] = st.session_state.setdefault("_picks", {})
    key = (event_id, strategy)
    if key not in cache:
        cache[key] = recommendations.recommend_for_reading(
            sessions=get_sessionmaker(), user_id=user_id, reading_id=event_id, strategy=strategy
        )
    return cache[key]


def show_recommendations(*, user_id: int, event_id: int, probabilities: Mapping[str, float]) -> None:
    """Render the strategy picker and the recommended tracks for a stored reading."""
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
        picks = _picks(user_id, event_id, strategy)
        if not picks.items:
            st.info("The music catalog is empty. An admin can import one on the About page.")
            return
        if picks.catalog_small:
            st.caption("The music catalog is small: the full public catalog can be added on the About page.")
            st.page_link("pages/about.py", label="Music catalog", icon=":material/library_music:")
        feedback = _feedback(user_id)
        for pick in picks.items:
            _render_pick(user_id, event_id, pick, feedback.get(pick.track_id, 0))


def _feedback(user_id: int) -> dict[int, int]:
    return recommendations.get_feedback(sessions=get_sessionmaker(), user_id=user_id)


def _render_pick(user_id: int, event_id: int, pick: RecommendedItem, current: int) -> None:
    with st.container(border=True):
        html = embed_html(_TrackView(pick.spotify_id, pick.title, pick.artists))
        if is_spotify_id(pick.spotify_id):
            components.html(html, height=COMPACT_HEIGHT + 8)
        else:
            st.markdown(html, unsafe_allow_html=True)  # escaped "Open in Spotify" search link
        left, mid, right = st.columns([1, 1, 6])
        liked, disliked = current > 0, current < 0
        if left.button(
            "👍", key=f"like-{event_id}-{pick.track_id}", type="primary" if liked else "secondary", help="I like this"
        ):
            _set_feedback(user_id, pick, 1)
        if mid.button(
            "👎",
            key=f"dislike-{event_id}-{pick.track_id}",
            type="primary" if disliked else "secondary",
            help="Not for me: don't suggest it again",
        ):
            _set_feedback(user_id, pick, -1)
        right.caption(
            f"{escape_markdown(pick.title)} — {escape_markdown(display_artists(pick.artists))} · "
            f"{escape_markdown(pick.explanation)}"
        )


def _set_feedback(user_id: int, pick: RecommendedItem, value: int) -> None:
    with show_errors("Saving your feedback"):
        recommendations.set_feedback(
            sessions=get_sessionmaker(),
            user_id=user_id,
            track_id=pick.track_id,
            value=value,
            recommendation_id=pick.recommendation_id,
        )
        st.rerun()


@dataclass(frozen=True)
class _TrackView:
    """What ``embed_html`` needs of a track."""

    spotify_id: str | None
    title: str
    artists: str
