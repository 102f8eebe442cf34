"""What every route needs: the process-wide runtime (settings, sessions, models, limits) and the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from api.ratelimit import RateLimiter
from awsome_core.config import Settings
from awsome_core.errors import AuthError
from awsome_core.services import tokens
from awsome_core.vision.classifier import EmotionClassifier

#: Database ids: positive 32-bit integers (anything else is a 422, not a database error).
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@dataclass(frozen=True)
class Runtime:
    """One per process, built by :func:`api.app.create_app`. ``classifier`` serves photos with the card's
    photo TTA, ``live_classifier`` the stream with the live one (see ``serving_tta``)."""

    settings: Settings
    sessions: sessionmaker[Session]
    classifier: EmotionClassifier
    live_classifier: EmotionClassifier
    limiter: RateLimiter

    @property
    def max_upload_bytes(self) -> int:
        return self.settings.max_upload_mb * 1024 * 1024


@dataclass(frozen=True)
class Caller:
    """The authenticated user; ``key`` identifies their token (its hash) for rate limits, never the token."""

    user_id: int
    key: str


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A personal access token: Account page → API tokens, or `awsome token create --user NAME`.",
)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_caller(
    runtime: Annotated[Runtime, Depends(get_runtime)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("Send a personal access token: `Authorization: Bearer <token>`.")
    token = credentials.credentials
    user_id = tokens.authenticate_token(sessions=runtime.sessions, token=token)
    return Caller(user_id, tokens.hash_token(token))


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
CallerDep = Annotated[Caller, Depends(get_caller)]
