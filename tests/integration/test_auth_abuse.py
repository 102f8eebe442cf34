"""Sign-in abuse against a real database (SQLite and MariaDB): issue #7, item 3.

Complements ``test_auth.py`` (lockout, client cap, same message for unknown names): every attempt costs one
bcrypt check against a cost-12 hash whether the name exists, is unknown or is not even a valid username (so
timing tells nothing); the lockout cannot be dodged by changing the letter case or padding of a name; locked
messages do not tell real accounts from unknown ones; the client cap stops one address spraying many names.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import bcrypt
import pytest

from awsome_core import auth
from awsome_core.errors import AccountLocked, AuthError

PASSWORD = "correct-horse-battery"


@pytest.fixture
def checkpw_calls(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The hashes bcrypt.checkpw was asked to check (the real check still runs)."""
    calls: list[bytes] = []
    real = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(auth.bcrypt, "checkpw", counting)
    return calls


@pytest.fixture
def cheap_dummy_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown names are checked against a cost-4 dummy hash: tests with many attempts stay fast."""
    monkeypatch.setattr(auth, "_DUMMY_HASH", bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds=4)))


def _cost(hashed: bytes) -> int:
    return int(hashed.split(b"$")[2])


def test_every_failed_attempt_costs_one_full_bcrypt_check(
    session, checkpw_calls: list[bytes], report_figure: Callable[[str], None]
) -> None:
    auth.register_user(session=session, username="alice", display_name="A", password=PASSWORD)  # cost 12
    seconds = {}
    for username in ("alice", "nobody", "<script>", "x" * 200, "", "ALICE "):
        checkpw_calls.clear()
        start = time.perf_counter()
        with pytest.raises(AuthError) as refused:
            auth.authenticate(session=session, username=username, password="wrong-password-1")
        seconds[username[:10] or "(empty)"] = time.perf_counter() - start
        assert str(refused.value) == auth.WRONG_CREDENTIALS, username
        assert len(checkpw_calls) == 1 and _cost(checkpw_calls[0]) == auth.BCRYPT_ROUNDS, username
    # the figures, not asserted: timing on a shared machine is noisy
    report_figure("[auth] failed sign-in: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in seconds.items()))


def test_lockout_cannot_be_dodged_by_case_or_spaces(session) -> None:
    auth.register_user(session=session, username="alice", display_name="A", password=PASSWORD, rounds=4)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for name in ("alice", "ALICE", " Alice", "alice  ", "aLiCe"):
        with pytest.raises(AuthError):
            auth.authenticate(session=session, username=name, password="wrong-password-1", now=t0)
    with pytest.raises(AccountLocked):
        auth.authenticate(session=session, username="Alice", password=PASSWORD, now=t0 + timedelta(minutes=1))


def test_locked_messages_do_not_tell_real_accounts_from_unknown_ones(session, cheap_dummy_hash: None) -> None:
    auth.register_user(session=session, username="alice", display_name="A", password=PASSWORD, rounds=4)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    messages = {}
    for name in ("alice", "ghost"):
        for _ in range(5):
            with pytest.raises(AuthError) as last:
                auth.authenticate(session=session, username=name, password="wrong-password-1", now=t0)
        with pytest.raises(AccountLocked) as locked:
            auth.authenticate(session=session, username=name, password="wrong-password-1", now=t0)
        messages[name] = (str(last.value), str(locked.value))
    assert messages["alice"] == messages["ghost"]


def test_one_address_spraying_many_names_is_stopped_even_with_the_right_password(
    session, cheap_dummy_hash: None
) -> None:
    auth.register_user(session=session, username="alice", display_name="A", password=PASSWORD, rounds=4)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(auth.CLIENT_FAILURE_LIMIT):  # one failure each: no single name gets locked
        with pytest.raises(AuthError):
            auth.authenticate(session=session, username=f"user{i}", password="123456", client="203.0.113.7", now=t0)
    with pytest.raises(AccountLocked, match="this device"):
        auth.authenticate(session=session, username="alice", password=PASSWORD, client="203.0.113.7", now=t0)
    # Another address, and the same one after the lockout, get in.
    assert auth.authenticate(session=session, username="alice", password=PASSWORD, client="198.51.100.1", now=t0)
    later = t0 + timedelta(minutes=16)
    assert auth.authenticate(session=session, username="alice", password=PASSWORD, client="203.0.113.7", now=later)


@pytest.mark.parametrize(
    "password, reason",
    [("short", "at least 8"), ("alice2026!", "username"), ("qwerty123", "most common"), ("p" * 73, "72 bytes")],
)
def test_registration_enforces_the_password_policy(session, password: str, reason: str) -> None:
    with pytest.raises(AuthError, match=reason):
        auth.register_user(session=session, username="alice", display_name="A", password=password, rounds=4)
    assert auth.repository.get_user_by_username(session=session, username="alice") is None
