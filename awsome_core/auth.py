"""Users in the database: validation, bcrypt hashes, lockout, cookie validity, and the bridge to
streamlit-authenticator's credentials dictionary.

Decisions (see README "Accounts"):

* Usernames are 3–32 characters of ``a-z 0-9 . _ -``, stored lower-case; sign-in is case-insensitive.
  Display names are free text (1–64 printable characters) and are always rendered escaped.
* Passwords: 8–72 bytes (bcrypt's limit), not containing the username, not one of the most common.
* Lockout: after ``max_failed_logins`` wrong passwords in a row for a username the name is locked for
  ``lockout_minutes``. Unknown usernames are counted the same way, so neither the error message nor the
  lockout reveals whether an account exists. A client address that fails ``CLIENT_FAILURE_LIMIT`` times
  across any accounts is locked the same way. Wrong-password checks always run bcrypt (a dummy hash for
  unknown names) so timing does not reveal it either.
* Functions that change the database commit themselves: a failed sign-in must be recorded even though
  the caller gets an exception.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from awsome_core.errors import AccountLocked, AuthError
from awsome_core.storage import repository
from awsome_core.storage.models import LoginThrottle, User

logger = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
BCRYPT_ROUNDS = 12
CLIENT_FAILURE_LIMIT = 20
WRONG_CREDENTIALS = "Wrong username or password."
COMMON_PASSWORDS = frozenset(
    """123456 123456789 12345678 password qwerty123 qwerty 1q2w3e4r 12345 111111 1234567890 123123 abc123
    password1 iloveyou 000000 1234567 qwertyuiop 654321 555555 dragon 123321 monkey letmein football
    baseball welcome admin sunshine princess master shadow 666666 superman michael trustno1 passw0rd
    password123 qwerty12 1qaz2wsx zaq12wsx starwars whatever 987654321 asdfghjkl access login freedom
    hello123 charlie aa123456 donald 11111111 00000000 12341234 88888888 computer internet secret
    changeme changethis administrator p@ssw0rd awsome123 awesome1 mustang jordan23 batman""".split()
)
# Verified against when the username does not exist, so a miss costs the same time as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds=BCRYPT_ROUNDS))


def _now() -> datetime:
    return datetime.now(UTC)


# ----------------------------------------------------------------------------- validation


def normalize_username(raw: str) -> str:
    """Return the canonical (lower-case) username or raise :class:`AuthError` saying what is allowed."""
    name = (raw or "").strip().lower()
    if not USERNAME_RE.fullmatch(name):
        raise AuthError(
            "Usernames are 3 to 32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit."
        )
    return name


def validate_display_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not 1 <= len(name) <= 64:
        raise AuthError("Your name must be 1 to 64 characters.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise AuthError("Your name may not contain control characters.")
    return name


def validate_password(password: str, *, username: str) -> None:
    raw = password.encode("utf-8")
    if len(password) < 8:
        raise AuthError("Passwords must be at least 8 characters long.")
    if len(raw) > 72:
        raise AuthError("Passwords may be at most 72 bytes long.")
    if username and username.lower() in password.lower():
        raise AuthError("Your password may not contain your username.")
    if password.lower() in COMMON_PASSWORDS:
        raise AuthError("That password is one of the most common ones; please choose another.")


def hash_password(password: str, *, rounds: int = BCRYPT_ROUNDS) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """Constant-time check through bcrypt; False for malformed hashes."""
    try:
        return bcrypt.checkpw(password.encode("utf-8")[:72], password_hash.encode("ascii"))
    except ValueError:
        return False


# ----------------------------------------------------------------------------- accounts


def register_user(
    *,
    session: Session,
    username: str,
    display_name: str,
    password: str,
    email: str | None = None,
    rounds: int = BCRYPT_ROUNDS,
) -> User:
    """Create an account (commits). Raises :class:`AuthError` with a readable reason."""
    name = normalize_username(username)
    display = validate_display_name(display_name)
    validate_password(password, username=name)
    if repository.get_user_by_username(session=session, username=name) is not None:
        raise AuthError("That username is taken; please choose another.")
    password_hash = hash_password(password, rounds=rounds)
    try:
        user = repository.add_user(
            session=session, username=name, display_name=display, password_hash=password_hash, email=(email or None)
        )
        session.commit()
    except IntegrityError as e:  # registered by someone else a moment ago
        session.rollback()
        raise AuthError("That username is taken; please choose another.") from e
    logger.info("registered user id=%s", user.id)
    return user


def authenticate(
    *,
    session: Session,
    username: str,
    password: str,
    client: str | None = None,
    max_failures: int = 5,
    lockout_minutes: int = 15,
    now: datetime | None = None,
) -> User:
    """Return the user for correct credentials; otherwise record the failure (commits) and raise.

    Raises :class:`AccountLocked` while the name or the client is locked, else :class:`AuthError`
    with the same message whether the username exists or not.
    """
    now = now or _now()
    key_name = (username or "").strip().lower()[:64]
    keys = [f"user:{key_name}"] + ([f"client:{client[:90]}"] if client else [])
    _raise_if_locked(session, keys, now)
    user = (
        repository.get_user_by_username(session=session, username=key_name) if USERNAME_RE.fullmatch(key_name) else None
    )
    ok = verify_password(password or "", user.password_hash if user else _DUMMY_HASH.decode("ascii"))
    if ok and user is not None:
        row = session.get(LoginThrottle, keys[0])
        if row is not None:
            session.delete(row)
        session.commit()
        return user
    limits = {keys[0]: max_failures} | ({keys[1]: CLIENT_FAILURE_LIMIT} if client else {})
    locked = [key for key, limit in limits.items() if _record_failure(session, key, limit, lockout_minutes, now)]
    session.commit()
    logger.info("failed sign-in (locked now: %s)", bool(locked))
    if locked:
        raise AccountLocked(_locked_message(lockout_minutes, locked[0]))
    raise AuthError(WRONG_CREDENTIALS)


def _raise_if_locked(session: Session, keys: list[str], now: datetime) -> None:
    for key in keys:
        row = session.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
            raise AccountLocked(_locked_message(minutes, key))


def _locked_message(minutes: int, key: str) -> str:
    what = "this account" if key.startswith("user:") else "this device"
    return (
        f"Too many failed sign-ins: {what} is locked for {minutes} minute{'s' if minutes != 1 else ''}. "
        "Please try again later."
    )


def _record_failure(session: Session, key: str, limit: int, lockout_minutes: int, now: datetime) -> bool:
    """Count one failure for *key*; return True when this failure locks it."""
    row = session.get(LoginThrottle, key)
    window = timedelta(minutes=lockout_minutes)
    if row is None:
        row = LoginThrottle(key=key, failures=0, first_failure_at=now)
        session.add(row)
    elif row.locked_until is not None and row.locked_until <= now or now - row.first_failure_at > window * 4:
        row.failures, row.first_failure_at, row.locked_until = 0, now, None  # lock expired: start afresh
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + window
        return True
    return False


def change_password(
    *, session: Session, user_id: int, old_password: str, new_password: str, rounds: int = BCRYPT_ROUNDS
) -> User:
    """Check the old password, set the new one and invalidate every login cookie (commits)."""
    user = repository.get_user(session=session, user_id=user_id)
    if user is None or not verify_password(old_password, user.password_hash):
        raise AuthError("Your current password is not correct.")
    validate_password(new_password, username=user.username)
    now = _now()
    user.password_hash = hash_password(new_password, rounds=rounds)
    user.password_changed_at = now
    user.sessions_valid_after = now
    session.commit()
    return user


def end_all_sessions(*, session: Session, user_id: int, now: datetime | None = None) -> None:
    """Make every login cookie issued so far invalid (logout; commits)."""
    user = repository.get_user(session=session, user_id=user_id)
    if user is not None:
        user.sessions_valid_after = now or _now()
        session.commit()


def user_for_cookie(*, session: Session, username: str, issued_at: float) -> User | None:
    """The user a valid login cookie stands for, or None when the user is gone or the cookie was revoked."""
    try:
        name = normalize_username(username)
    except AuthError:
        return None
    user = repository.get_user_by_username(session=session, username=name)
    if user is None:
        return None
    if user.sessions_valid_after is not None and issued_at <= user.sessions_valid_after.timestamp():
        return None
    return user


def authenticator_credentials(user: User | None) -> dict[str, Any]:
    """streamlit-authenticator's ``credentials`` dict holding at most the one signed-in user.

    The authenticator never sees the whole users table: sign-in is checked by :func:`authenticate`;
    the library only signs, reads and deletes the cookie.
    """
    if user is None:
        return {"usernames": {}}
    return {
        "usernames": {user.username: {"name": user.display_name, "email": user.email, "password": user.password_hash}}
    }
