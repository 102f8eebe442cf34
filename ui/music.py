"""Recommendations for a stored reading: strategy choice, Spotify embeds, like/dislike buttons."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st
import streamlit.components.v1 as components

from awsome_core.music import STRATEGIES, embed_html, recommend_tracks
from awsome_core.music.catalog import catalog_is_small
from awsome_core.music.embed import COMPACT_HEIGHT, display_artists, is_spotify_id
from awsome_core.music.recommender import default_strategy
from awsome_core.storage import repository
from awsome_core.text import escape_markdown
from ui.runtime import db_session, show_errors

logger = logging.getLogger(__name__)

STRATEGY_LABELS = {"match": "Match my mood", "lift": "Lift me up", "calm": "Calm me down", "energize": "Energize me"}


@dataclass(frozen=True)
class Pick:
    track_id: int
    recommendation_id: int
    title: str
    artists: str
    spotify_id: str | None
    explanation: str
    html: str


@dataclass(frozen=True)
class Picks:
    items: list[Pick]
    catalog_small: bool  # worth offering the public catalog (checked once, with the ranking)


def _picks(user_id: int, event_id: int, probabilities: Mapping[str, float], strategy: str) -> Picks:
    """Rank, store as recommendations (once per event and strategy), and remember for reruns."""
    cache: dict[tuple[int, str], Picks] = st.session_state.setdefault("_picks", {})
    key = (event_id, strategy)
    if key not in cache:
        with db_session() as session:
            ranked = recommend_tracks(
                session=session, user_id=user_id, probabilities=probabilities, strategy=strategy, seed=event_id
            )
            items = [
                repository.RecommendationItem(
                    track_id=r.track.id, strategy=strategy, rank=r.rank, explanation=r.explanation
                )
                for r in ranked
            ]
            stored = repository.add_recommendations(
                session=session, user_id=user_id, mood_event_id=event_id, items=items
            )
            session.commit()
            picks = [
                Pick(
                    r.track.id,
                    s.id,
                    r.track.title,
                    r.track.artists,
                    r.track.spotify_id,
                    r.explanation,
                    embed_html(r.track),
                )
                for r, s in zip(ranked, stored, strict=True)
            ]
            cache[key] = Picks(picks, catalog_is_small(session=session))
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
        picks = _picks(user_id, event_id, probabilities, strategy)
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
    with db_session() as session:
        return repository.get_feedback(session=session, user_id=user_id)


def _render_pick(user_id: int, event_id: int, pick: Pick, current: int) -> None:
    with st.container(border=True):
        if is_spotify_id(pick.spotify_id):
            components.html(pick.html, height=COMPACT_HEIGHT + 8)
        else:
            st.markdown(pick.html, unsafe_allow_html=True)  # escaped "Open in Spotify" search link
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


def _set_feedback(user_id: int, pick: Pick, value: int) -> None:
    with show_errors("Saving your feedback"), db_session() as session:
        repository.set_feedback(
            session=session,
            user_id=user_id,
            track_id=pick.track_id,
            value=value,
            recommendation_id=pick.recommendation_id,
        )
        session.commit()
        st.rerun()
