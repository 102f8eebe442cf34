"""Personal access tokens for the HTTP API: create (shown once), list, revoke, authenticate.

A token is ``awsome_pat_`` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored: a
fast hash is enough for a secret that is random (bcrypt's slowness protects guessable passwords, and would
cost every API call a quarter of a second). ``last_used_at`` is written at most once a minute per token,
so a busy client does not turn every read into a write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from awsome_core.errors import AuthError, InvalidInput, NotFound
from awsome_core.storage import repository
from awsome_core.storage.db import session_scope
from awsome_core.storage.models import ApiToken, utcnow

TOKEN_PREFIX = "awsome_pat_"
MAX_NAME = 64
LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID_TOKEN = "The API token is missing, unknown or revoked."


@dataclass(frozen=True)
class TokenInfo:
    """What a user sees of a token: never the token itself. Times are aware UTC."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class CreatedToken:
    """A new token: ``token`` is shown to the user once and never stored."""

    token: str
    info: TokenInfo


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(*, sessions: sessionmaker[Session], user_id: int, name: str) -> CreatedToken:
    """Make a token for the user labelled *name* (1–64 characters); one commit."""
    label = " ".join(name.split())
    if not 1 <= len(label) <= MAX_NAME:
        raise InvalidInput(f"Give the token a name of 1 to {MAX_NAME} characters.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with session_scope(sessions) as session:
        if repository.get_user(session=session, user_id=user_id) is None:
            raise NotFound("Your account could not be found.")
        row = ApiToken(user_id=user_id, name=label, token_hash=hash_token(token), prefix=token[: len(TOKEN_PREFIX) + 4])
        session.add(row)
        session.commit()
        return CreatedToken(token, _info(row))


def create_token_for_username(*, sessions: sessionmaker[Session], username: str, name: str) -> CreatedToken:
    """:func:`create_token` for the user called *username* (the ``awsome token create`` command)."""
    with session_scope(sessions) as session:
        user = repository.get_user_by_username(session=session, username=username)
        if user is None:
            raise NotFound(f"There is no user called {username!r}.")
        user_id = user.id
    return create_token(sessions=sessions, user_id=user_id, name=name)


def list_tokens(*, sessions: sessionmaker[Session], user_id: int) -> list[TokenInfo]:
    """The user's tokens that are not revoked, newest first."""
    with session_scope(sessions) as session:
        query = (
            select(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
        return [_info(row) for row in session.scalars(query)]


def revoke_token(*, sessions: sessionmaker[Session], user_id: int, token_id: int) -> None:
    """Revoke one of the user's tokens (one commit); from then on it authenticates nothing."""
    with session_scope(sessions) as session:
        row = session.get(ApiToken, token_id)
        if row is None or row.user_id != user_id or row.revoked_at is not None:
            raise NotFound("That token does not exist, or it is not yours.")
        row.revoked_at = utcnow()
        session.commit()


def authenticate_token(*, sessions: sessionmaker[Session], token: str) -> int:
    """The id of the user whose live token *token* is; :class:`~awsome_core.errors.AuthError` otherwise."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        raise AuthError(INVALID_TOKEN)
    with session_scope(sessions) as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).one_or_none()
        if row is None or row.revoked_at is not None:
            raise AuthError(INVALID_TOKEN)
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            row.last_used_at = now
            session.commit()
        return row.user_id


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.name, row.prefix, row.created_at, row.last_used_at)
