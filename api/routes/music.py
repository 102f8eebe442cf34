"""Recommendations (for a reading, or for a mood alone), feedback, export, and the caller's own tokens."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from api.deps import CallerDep, Id, RuntimeDep
from api.schemas import Emotion, FeedbackIn, FeedbackOut, Problem, RecommendationList, Strategy, TokenOut
from awsome_core.services import account, recommendations, tokens

router = APIRouter()
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 404, 422, 503)}
Count = Annotated[int, Query(ge=1, le=recommendations.MAX_COUNT, description="how many tracks")]


@router.get(
    "/readings/{reading_id}/recommendations", response_model=RecommendationList, responses=ERRORS, tags=["music"]
)
def recommend_for_reading(
    reading_id: Id,
    runtime: RuntimeDep,
    caller: CallerDep,
    strategy: Annotated[
        Strategy | None, Query(description="default: lift for sad/angry/fear/disgust, else match")
    ] = None,
    count: Count = 10,
) -> RecommendationList:
    """Tracks for a stored reading (its correction wins), recorded as recommended to the caller."""
    result = recommendations.recommend_for_reading(
        sessions=runtime.sessions, user_id=caller.user_id, reading_id=reading_id, strategy=strategy, count=count
    )
    return RecommendationList.of(result)


@router.get("/recommendations", response_model=RecommendationList, responses=ERRORS, tags=["music"])
def recommend_for_mood(
    runtime: RuntimeDep,
    caller: CallerDep,
    emotion: Annotated[Emotion, Query()],
    strategy: Annotated[Strategy | None, Query()] = None,
    count: Count = 10,
) -> RecommendationList:
    """Tracks for an emotion alone (no stored reading), recorded as recommended to the caller."""
    result = recommendations.recommend_for_mood(
        sessions=runtime.sessions, user_id=caller.user_id, emotion=emotion, strategy=strategy, count=count
    )
    return RecommendationList.of(result)


@router.post("/feedback", response_model=FeedbackOut, responses=ERRORS, tags=["music"])
def set_feedback(body: FeedbackIn, runtime: RuntimeDep, caller: CallerDep) -> FeedbackOut:
    """Like (1), dislike (-1) or undo (0); a disliked track is not recommended again."""
    value = recommendations.set_feedback(
        sessions=runtime.sessions,
        user_id=caller.user_id,
        track_id=body.track_id,
        value=body.value,
        recommendation_id=body.recommendation_id,
    )
    return FeedbackOut(track_id=body.track_id, value=value)


@router.get(
    "/export",
    response_class=Response,
    responses={
        **ERRORS,
        200: {"content": {"text/csv": {}, "application/json": {}}, "description": "every reading, oldest first"},
    },
    tags=["readings"],
)
def export(
    runtime: RuntimeDep, caller: CallerDep, format: Annotated[Literal["csv", "json"], Query()] = "csv"
) -> Response:
    """The caller's whole history as CSV or JSON (the History page's export)."""
    text = account.export(sessions=runtime.sessions, user_id=caller.user_id, fmt=format)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
    headers = {"Content-Disposition": f'attachment; filename="awsome-history.{format}"'}
    return Response(text, media_type=media, headers=headers)


@router.get("/tokens", response_model=list[TokenOut], responses=ERRORS, tags=["tokens"])
def list_tokens(runtime: RuntimeDep, caller: CallerDep) -> list[TokenOut]:
    """The caller's live tokens (never the tokens themselves)."""
    return [TokenOut.of(t) for t in tokens.list_tokens(sessions=runtime.sessions, user_id=caller.user_id)]


@router.delete("/tokens/{token_id}", status_code=204, responses=ERRORS, tags=["tokens"])
def revoke_token(token_id: Id, runtime: RuntimeDep, caller: CallerDep) -> Response:
    """Revoke one of the caller's tokens (the one in use too: from the next request on it is refused)."""
    tokens.revoke_token(sessions=runtime.sessions, user_id=caller.user_id, token_id=token_id)
    return Response(status_code=204)
