"""Accounts against a real database (SQLite and MariaDB through the `session` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from awsome_core import auth
from awsome_core.errors import AccountLocked, AuthError

PASSWORD = "correct-horse-battery"


def _register(session, username: str = "alice"):
    return auth.register_user(session=session, username=username, display_name="Alice", password=PASSWORD, rounds=4)


def test_register_user_stores_bcrypt_hash_not_password(session) -> None:
    user = _register(session)
    assert user.username == "alice"
    assert user.password_hash != PASSWORD and user.password_hash.startswith("$2")


def test_register_user_refuses_taken_name_case_insensitively(session) -> None:
    _register(session)
    with pytest.raises(AuthError, match="taken"):
        _register(session, "ALICE")


def test_authenticate_accepts_right_password_any_case(session) -> None:
    user = _register(session)
    assert auth.authenticate(session=session, username="Alice", password=PASSWORD).id == user.id


def test_authenticate_same_message_for_unknown_user_and_wrong_password(session) -> None:
    _register(session)
    with pytest.raises(AuthError) as wrong:
        auth.authenticate(session=session, username="alice", password="nope-nope-nope")
    with pytest.raises(AuthError) as unknown:
        auth.authenticate(session=session, username="nobody", password="nope-nope-nope")
    assert str(wrong.value) == str(unknown.value) == auth.WRONG_CREDENTIALS


def test_authenticate_locks_after_five_failures_for_fifteen_minutes(session) -> None:
    _register(session)
    t0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    for i in range(4):
        with pytest.raises(AuthError) as e:
            auth.authenticate(session=session, username="alice", password="bad-password", now=t0 + timedelta(seconds=i))
        assert not isinstance(e.value, AccountLocked)
    with pytest.raises(AccountLocked, match="15 minutes"):
        auth.authenticate(session=session, username="alice", password="bad-password", now=t0 + timedelta(seconds=5))
    with pytest.raises(AccountLocked):  # the right password does not help while locked
        auth.authenticate(session=session, username="alice", password=PASSWORD, now=t0 + timedelta(minutes=14))
    user = auth.authenticate(session=session, username="alice", password=PASSWORD, now=t0 + timedelta(minutes=16))
    assert user.username == "alice"


def test_unknown_usernames_lock_like_real_ones(session) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(4):
        with pytest.raises(AuthError):
            auth.authenticate(session=session, username="ghost", password="x-x-x-x-x", now=t0)
    with pytest.raises(AccountLocked):
        auth.authenticate(session=session, username="ghost", password="x-x-x-x-x", now=t0)


def test_client_cap_locks_an_address_trying_many_accounts(session) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(auth.CLIENT_FAILURE_LIMIT - 1):
        with pytest.raises(AuthError):
            auth.authenticate(session=session, username=f"user{i}", password="x-x-x-x-x", client="10.0.0.9", now=t0)
    with pytest.raises(AccountLocked, match="this device"):
        auth.authenticate(session=session, username="another", password="x-x-x-x-x", client="10.0.0.9", now=t0)


def test_change_password_requires_old_one_and_revokes_cookies(session) -> None:
    user = _register(session)
    issued = datetime.now(UTC).timestamp() - 1
    assert auth.user_for_cookie(session=session, username="alice", issued_at=issued) is not None
    with pytest.raises(AuthError, match="current password"):
        auth.change_password(session=session, user_id=user.id, old_password="wrong-one-1", new_password="new-pass-123")
    auth.change_password(session=session, user_id=user.id, old_password=PASSWORD, new_password="new-pass-123", rounds=4)
    assert auth.user_for_cookie(session=session, username="alice", issued_at=issued) is None
    assert auth.authenticate(session=session, username="alice", password="new-pass-123").id == user.id


def test_end_all_sessions_revokes_earlier_cookies_only(session) -> None:
    user = _register(session)
    before = datetime.now(UTC).timestamp() - 5
    auth.end_all_sessions(session=session, user_id=user.id)
    assert auth.user_for_cookie(session=session, username="alice", issued_at=before) is None
    later = datetime.now(UTC).timestamp() + 5
    assert auth.user_for_cookie(session=session, username="alice", issued_at=later) is not None


def test_deleting_an_account_clears_its_sign_in_throttle(session) -> None:
    from awsome_core.storage import repository
    from awsome_core.storage.models import LoginThrottle

    user = _register(session)
    with pytest.raises(AuthError):
        auth.authenticate(session=session, username="alice", password="bad-password")
    assert session.get(LoginThrottle, "user:alice") is not None
    repository.delete_user(session=session, user_id=user.id)
    session.commit()
    session.expire_all()
    assert session.get(LoginThrottle, "user:alice") is None
