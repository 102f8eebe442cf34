from __future__ import annotations

import pytest

from awsome_core import auth
from awsome_core.errors import AuthError


@pytest.mark.parametrize("raw, expected", [("Alice", "alice"), ("  bob_1 ", "bob_1"), ("x.y-z", "x.y-z")])
def test_normalize_username_lowercases_and_strips(raw: str, expected: str) -> None:
    assert auth.normalize_username(raw) == expected


@pytest.mark.parametrize("raw", ["", "ab", "a" * 33, "<script>", "zoë", "-start", "has space", "a;drop"])
def test_normalize_username_refuses_bad_names(raw: str) -> None:
    with pytest.raises(AuthError, match="Usernames are 3 to 32"):
        auth.normalize_username(raw)


def test_validate_display_name_keeps_markup_as_text_but_refuses_control_chars() -> None:
    assert auth.validate_display_name(" <script>alert(1)</script> ") == "<script>alert(1)</script>"
    with pytest.raises(AuthError, match="control"):
        auth.validate_display_name("bad\x00name")
    with pytest.raises(AuthError, match="1 to 64"):
        auth.validate_display_name("x" * 65)


@pytest.mark.parametrize(
    "password, match",
    [("short1", "at least 8"), ("password123", "most common"), ("xxalice-rocksxx", "username"), ("é" * 40, "72 bytes")],
)
def test_validate_password_policy(password: str, match: str) -> None:
    with pytest.raises(AuthError, match=match):
        auth.validate_password(password, username="alice")


def test_hash_and_verify_password_round_trip() -> None:
    hashed = auth.hash_password("correct-horse-battery", rounds=4)
    assert hashed.startswith("$2")
    assert auth.verify_password("correct-horse-battery", hashed)
    assert not auth.verify_password("correct-horse-batterY", hashed)
    assert not auth.verify_password("anything", "not-a-bcrypt-hash")


def test_authenticator_credentials_hold_only_the_given_user() -> None:
    assert auth.authenticator_credentials(None) == {"usernames": {}}
