"""Music for a reading or a mood: rank (``music.recommender``), record what was shown, and the user's feedback.

What is recorded is what was recommended (shown), never what was played: nothing here can know that.
The music follows a reading's emotion as :attr:`~awsome_core.services.readings.Reading.emotion` defines it:
a corrected reading is recommended for its corrected emotion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from awsome_core.emotions import EMOTIONS, one_hot
from awsome_core.errors import InvalidInput, NotFound
from awsome_core.music.catalog import size_of
from awsome_core.music.embed import embed_url, search_url, track_url
from awsome_core.music.recommender import (
    STRATEGIES,
    RecommendedTrack,
    default_strategy,
    rankable_index,
    recommend_tracks,
)
from awsome_core.storage import repository
from awsome_core.storage.db import session_scope
from awsome_core.storage.models import MoodEvent, Track
from awsome_core.storage.repository import RecommendationItem

MAX_COUNT = 50


@dataclass(frozen=True)
class RecommendedItem:
    """One recommended track, rank 1 = best. ``spotify_id`` None: a search link instead of a player;
    ``open_url`` always opens the track (or a search for it) on open.spotify.com. ``feedback``: the user's
    vote on the track when the list was ranked (1 liked, 0 none; disliked tracks are never recommended),
    in the same transaction, so a page that draws the list at once need not read the votes again."""

    recommendation_id: int
    rank: int
    track_id: int
    spotify_id: str | None
    title: str
    artists: str
    genre: str | None
    valence: float | None
    energy: float | None
    tempo: float | None
    explanation: str
    embed_url: str | None
    open_url: str
    loudness: float | None = None  # dB
    acousticness: float | None = None
    feedback: int = 0


@dataclass(frozen=True)
class Recommendations:
    """A ranked list for one strategy; ``catalog_small``: the public catalog is worth offering;
    ``catalog_tracks``: how many tracks the catalog held when the list was ranked."""

    strategy: str
    reading_id: int | None
    emotion: str
    items: list[RecommendedItem]
    catalog_small: bool
    catalog_tracks: int = 0


def effective_probabilities(event: MoodEvent) -> dict[str, float]:
    """The probabilities the music follows: the model's, or all weight on the user's correction."""
    if event.corrected_emotion:
        return one_hot(event.corrected_emotion)
    return {e: float(getattr(event, e)) for e in EMOTIONS}


def recommend_for_reading(
    *, sessions: sessionmaker[Session], user_id: int, reading_id: int, strategy: str | None = None, count: int = 10
) -> Recommendations:
    """Rank *count* (1–50) tracks for the user's reading, record them as recommended (one commit), return them.

    *strategy* None picks the reading's default (``lift`` for sad, angry, fear, disgust; else ``match``).
    :class:`NotFound` for another user's reading, :class:`InvalidInput` for an unknown strategy or count.
    """
    _check(strategy, count)
    with session_scope(sessions) as session:
        event = session.get(MoodEvent, reading_id)
        if event is None or event.user_id != user_id:
            raise NotFound("That reading does not exist, or it is not yours.")
        probabilities = effective_probabilities(event)
        return _rank_and_record(session, user_id, event.id, probabilities, strategy, count, seed=event.id)


def recommend_for_mood(
    *,
    sessions: sessionmaker[Session],
    user_id: int,
    emotion: str,
    strategy: str | None = None,
    count: int = 10,
    seed: int = 0,
) -> Recommendations:
    """Rank and record tracks for an *emotion* alone (no stored reading), like the seed's REST call."""
    if emotion not in EMOTIONS:
        raise InvalidInput(f"Unknown emotion {emotion!r}; choose one of {', '.join(EMOTIONS)}.")
    _check(strategy, count)
    probabilities = one_hot(emotion)
    with session_scope(sessions) as session:
        return _rank_and_record(session, user_id, None, probabilities, strategy, count, seed=seed)


def set_feedback(
    *, sessions: sessionmaker[Session], user_id: int, track_id: int, value: int, recommendation_id: int | None = None
) -> int:
    """Like (+1), dislike (-1) or undo (0) the user's feedback on a track (one commit); return *value*.

    *recommendation_id*, if given, must be this user's recommendation of this track (:class:`NotFound`).
    """
    if isinstance(value, bool) or value not in (1, 0, -1):
        raise InvalidInput("Feedback must be 1 (like), -1 (dislike) or 0 (undo).")
    with session_scope(sessions) as session:
        if session.get(Track, track_id) is None:
            raise NotFound("That track is not in the catalog.")
        if value == 0:
            repository.clear_feedback(session=session, user_id=user_id, track_id=track_id)
        else:
            try:
                repository.set_feedback(
                    session=session,
                    user_id=user_id,
                    track_id=track_id,
                    value=value,
                    recommendation_id=recommendation_id,
                )
            except ValueError:
                raise NotFound("That recommendation does not exist, or it is not yours.") from None
        session.commit()
    return value


def get_feedback(*, sessions: sessionmaker[Session], user_id: int) -> dict[int, int]:
    """The user's feedback as ``{track_id: +1 or -1}``."""
    with session_scope(sessions) as session:
        return repository.get_feedback(session=session, user_id=user_id)


def _check(strategy: str | None, count: int) -> None:
    if strategy is not None and strategy not in STRATEGIES:
        raise InvalidInput(f"Unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}.")
    if not 1 <= count <= MAX_COUNT:
        raise InvalidInput(f"count must be between 1 and {MAX_COUNT}.")


def _rank_and_record(
    session: Session,
    user_id: int,
    event_id: int | None,
    probabilities: Mapping[str, float],
    strategy: str | None,
    count: int,
    *,
    seed: int,
) -> Recommendations:
    chosen = strategy or default_strategy(probabilities)
    index = rankable_index(session)  # its count per source sizes the catalog below, without another scan
    ranked = recommend_tracks(
        session=session, user_id=user_id, probabilities=probabilities, strategy=chosen, n=count, seed=seed,
        index=index,
    )  # fmt: skip
    items = [RecommendationItem(r.track.id, chosen, r.rank, r.explanation) for r in ranked]
    stored = repository.add_recommendations(session=session, user_id=user_id, mood_event_id=event_id, items=items)
    total, small = size_of(index.tracks_by_source)
    result = [_item(r, s.id) for r, s in zip(ranked, stored, strict=True)]
    session.commit()
    emotion = max(probabilities, key=lambda e: probabilities[e])
    return Recommendations(chosen, event_id, emotion, result, small, catalog_tracks=total)


def _item(pick: RecommendedTrack, recommendation_id: int) -> RecommendedItem:
    track = pick.track
    return RecommendedItem(
        recommendation_id=recommendation_id,
        rank=pick.rank,
        track_id=track.id,
        spotify_id=track.spotify_id,
        title=track.title,
        artists=track.artists,
        genre=track.genre,
        valence=track.valence,
        energy=track.energy,
        tempo=track.tempo,
        explanation=pick.explanation,
        embed_url=embed_url(track.spotify_id),
        open_url=track_url(track.spotify_id) or search_url(track.title, track.artists),
        loudness=track.loudness,
        acousticness=track.acousticness,
        feedback=1 if pick.liked else 0,
    )
