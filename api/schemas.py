"""Request and response bodies of the API (pydantic), with the conventions of the library.

Probabilities are the 7 FER2013 emotions, each in [0, 1], summing to 1; boxes are pixels, top-left
``(x, y)`` first, in the analysed (EXIF-rotated, possibly downscaled) image; times are ISO 8601 UTC.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from awsome_core.emotions import EMOTIONS
from awsome_core.services.readings import Reading
from awsome_core.services.recommendations import Recommendations, RecommendedItem
from awsome_core.services.tokens import TokenInfo
from awsome_core.vision.analyze import FaceEmotion

Emotion = Literal["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
Source = Literal["live", "photo", "manual"]
Strategy = Literal["match", "lift", "calm", "energize"]
assert set(Emotion.__args__) == set(EMOTIONS)  # type: ignore[attr-defined]  # one source of truth: emotions.py

_P = Field(ge=0.0, le=1.0, allow_inf_nan=False)


class Probabilities(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    angry: float = _P
    disgust: float = _P
    fear: float = _P
    happy: float = _P
    sad: float = _P
    surprise: float = _P
    neutral: float = _P

    @model_validator(mode="after")
    def _sums_to_one(self) -> Probabilities:
        total = math.fsum(self.model_dump().values())
        if not 0.99 <= total <= 1.01:
            raise ValueError(f"probabilities must sum to 1 (they sum to {total:.4f})")
        return self

    @classmethod
    def of(cls, probabilities: dict[str, float]) -> Probabilities:
        values = {e: round(float(probabilities[e]), 6) for e in EMOTIONS}
        return cls.model_construct(None, **values)


class BoxOut(BaseModel):
    x: int
    y: int
    w: int
    h: int
    score: float = Field(description="detector confidence in [0, 1]")


class FaceOut(BaseModel):
    index: int = Field(
        description="0 = the most face-like face (a confident detector score, then score × size); use it as `face` "
        "when storing a reading"
    )
    box: BoxOut
    emotion: Emotion
    confidence: float
    probabilities: Probabilities

    @classmethod
    def of(cls, index: int, face: FaceEmotion) -> FaceOut:
        b = face.box
        return cls(
            index=index,
            box=BoxOut(x=b.x, y=b.y, w=b.w, h=b.h, score=round(float(b.score), 4)),
            emotion=face.top_emotion,  # type: ignore[arg-type]
            confidence=round(face.confidence, 6),
            probabilities=Probabilities.of(face.probabilities),
        )


class AnalysisOut(BaseModel):
    model_version: str
    width: int
    height: int
    faces: list[FaceOut]


class ReadingCreate(BaseModel):
    """A reading from the probabilities of an earlier analysis (``POST /v1/analyze``) or another source."""

    model_config = ConfigDict(extra="forbid", strict=True)

    probabilities: Probabilities
    source: Source = "photo"
    face_count: int = Field(1, ge=1, le=100)
    corrected_emotion: Emotion | None = Field(None, description="the user's own reading, if the model's is wrong")


class ReadingUpload(BaseModel):
    """Multipart form of ``POST /v1/readings``: the photo is analysed, then stored as a reading."""

    image: bytes = Field(json_schema_extra={"format": "binary"})
    face: int | None = Field(
        None, ge=0, description="which face (an `index` of the analysis); default: 0, the most face-like"
    )
    group: bool = Field(False, description="store the mean of all faces instead of one face")
    corrected_emotion: Emotion | None = None


class ReadingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    corrected_emotion: Emotion | None = Field(description="null removes the correction")


class ReadingOut(BaseModel):
    id: int
    created_at: datetime
    source: str
    emotion: Emotion = Field(description="the correction where there is one, else the model's top emotion")
    top_emotion: Emotion
    corrected_emotion: Emotion | None
    probabilities: Probabilities
    valence: float
    arousal: float
    face_count: int
    model_version: str
    has_photo: bool

    @classmethod
    def of(cls, r: Reading) -> ReadingOut:
        return cls.model_construct(
            id=r.id,
            created_at=r.created_at,
            source=r.source,
            emotion=r.emotion,
            top_emotion=r.top_emotion,
            corrected_emotion=r.corrected_emotion,
            probabilities=Probabilities.of(r.probabilities),
            valence=r.valence,
            arousal=r.arousal,
            face_count=r.face_count,
            model_version=r.model_version,
            has_photo=r.has_photo,
        )


class ReadingList(BaseModel):
    items: list[ReadingOut]
    next: str | None = Field(description="pass as `cursor` for the next page; null after the last")


class TrackOut(BaseModel):
    recommendation_id: int
    rank: int
    track_id: int
    spotify_id: str | None
    title: str
    artists: list[str]
    genre: str | None
    valence: float | None
    energy: float | None
    tempo: float | None
    explanation: str
    embed_url: str | None = Field(description="Spotify's embed player; null for tracks without a Spotify id")
    open_url: str = Field(description="the track (or a search for it) on open.spotify.com")

    @classmethod
    def of(cls, t: RecommendedItem) -> TrackOut:
        return cls(
            recommendation_id=t.recommendation_id,
            rank=t.rank,
            track_id=t.track_id,
            spotify_id=t.spotify_id,
            title=t.title,
            artists=[a.strip() for a in t.artists.split(";") if a.strip()],
            genre=t.genre,
            valence=t.valence,
            energy=t.energy,
            tempo=t.tempo,
            explanation=t.explanation,
            embed_url=t.embed_url,
            open_url=t.open_url,
        )


class RecommendationList(BaseModel):
    strategy: Strategy
    emotion: Emotion
    reading_id: int | None
    catalog_small: bool
    items: list[TrackOut]
    next: str | None = None

    @classmethod
    def of(cls, r: Recommendations) -> RecommendationList:
        return cls(
            strategy=r.strategy,  # type: ignore[arg-type]
            emotion=r.emotion,  # type: ignore[arg-type]
            reading_id=r.reading_id,
            catalog_small=r.catalog_small,
            items=[TrackOut.of(t) for t in r.items],
        )


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    track_id: int = Field(ge=1, le=2**31 - 1)
    value: int = Field(ge=-1, le=1, description="1 like, -1 dislike, 0 undo")
    recommendation_id: int | None = Field(None, ge=1, le=2**31 - 1)


class FeedbackOut(BaseModel):
    track_id: int
    value: int


class Deleted(BaseModel):
    deleted: int


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    model_version: str


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, t: TokenInfo) -> TokenOut:
        return cls(id=t.id, name=t.name, prefix=t.prefix, created_at=t.created_at, last_used_at=t.last_used_at)


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, object]] | None = None
