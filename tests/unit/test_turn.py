"""Time-limited TURN credentials (awsome_core/turn.py) and their settings."""

from __future__ import annotations

import pytest

from awsome_core.config import Settings
from awsome_core.errors import ConfigError
from awsome_core.turn import ice_server, is_valid, mint_credential, sign_username

SECRET = "s3cret-shared"


def test_sign_username_matches_an_independent_hmac_sha1() -> None:
    # printf '%s' 1700000000:u42 | openssl dgst -sha1 -hmac s3cret-shared -binary | base64
    assert sign_username(SECRET, "1700000000:u42") == "cosMndM9uvnZZnzcjyXsmIM6gWI="


def test_mint_credential_puts_the_expiry_first_and_signs_the_whole_username() -> None:
    credential = mint_credential(SECRET, "u42", ttl_seconds=600, now=1_700_000_000.7)
    assert credential.username == "1700000600:u42"
    assert credential.expires_at == 1_700_000_600
    assert credential.password == sign_username(SECRET, "1700000600:u42")
    assert credential.remaining_seconds(now=1_700_000_100) == 500


def test_mint_credential_sanitises_the_label_so_the_separator_stays_unique() -> None:
    credential = mint_credential(SECRET, "a:b c/é", ttl_seconds=60, now=0)
    assert credential.username == "60:a_b_c__"
    assert credential.username.count(":") == 1


@pytest.mark.parametrize(
    ("secret", "label", "ttl", "match"),
    [("", "u1", 600, "secret"), (SECRET, "u1", 59, "ttl"), (SECRET, "", 600, "label")],
)
def test_mint_credential_refuses_bad_input(secret: str, label: str, ttl: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        mint_credential(secret, label, ttl_seconds=ttl)


def test_is_valid_checks_signature_and_expiry() -> None:
    credential = mint_credential(SECRET, "u7", ttl_seconds=300, now=1000)
    assert is_valid(SECRET, credential.username, credential.password, now=1299)
    assert not is_valid(SECRET, credential.username, credential.password, now=1301), "expired"
    assert not is_valid("other-secret", credential.username, credential.password, now=1000)
    assert not is_valid(SECRET, "1300:u8", credential.password, now=1000), "password of another user"
    assert not is_valid(SECRET, "u7", credential.password, now=1000)


def test_ice_server_carries_the_credential_never_the_secret() -> None:
    credential = mint_credential(SECRET, "u1", ttl_seconds=600)
    server = ice_server(["turn:turn.example.com:3478?transport=udp"], credential)
    assert server == {
        "urls": ["turn:turn.example.com:3478?transport=udp"],
        "username": credential.username,
        "credential": credential.password,
    }
    assert SECRET not in repr(server)


def test_settings_read_turn_urls_secret_and_ttl() -> None:
    env = {
        "AWSOME_TURN_URLS": "turn:t.example:3478?transport=udp, turn:t.example:3478?transport=tcp",
        "AWSOME_TURN_SECRET": "x" * 8 + "-long-random-value",
        "AWSOME_TURN_TTL_SECONDS": "900",
    }
    settings = Settings.load({}, environ=env)
    assert settings.turn_url_list() == ["turn:t.example:3478?transport=udp", "turn:t.example:3478?transport=tcp"]
    assert settings.turn_ttl_seconds == 900
    assert "long-random" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"AWSOME_TURN_URLS": "turn:t.example:3478"}, "TURN_SECRET"),
        ({"AWSOME_TURN_URLS": "stun:t.example:3478", "AWSOME_TURN_SECRET": "abc"}, "turn: or turns:"),
        ({"AWSOME_TURN_TTL_SECONDS": "10"}, "at least 60"),
        (
            {"AWSOME_ENV": "production", "AWSOME_COOKIE_KEY": "k" * 32, "AWSOME_TURN_SECRET": "CHANGE-ME-turn-secret"},
            "TURN secret",
        ),
    ],
)
def test_settings_refuse_unusable_turn_configuration(env: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Settings.load({}, environ=env)
