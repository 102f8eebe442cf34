from __future__ import annotations

from pathlib import Path

import pytest

from awsome_core.config import DEFAULT_COOKIE_KEY, Settings
from awsome_core.errors import ConfigError


def test_defaults_are_sqlite_under_data_dir_in_development() -> None:
    s = Settings.load(environ={})
    assert s.env == "development"
    assert s.effective_database_url == f"sqlite:///{Path(s.data_dir) / 'awsome.db'}"


def test_environment_wins_over_secrets() -> None:
    s = Settings.load({"max_upload_mb": 3, "cookie_name": "from-secrets"}, environ={"AWSOME_MAX_UPLOAD_MB": "7"})
    assert s.max_upload_mb == 7 and s.cookie_name == "from-secrets"


@pytest.mark.parametrize("key", [None, DEFAULT_COOKIE_KEY, "short"])
def test_production_refuses_missing_or_default_cookie_key(key: str | None) -> None:
    env = {"AWSOME_ENV": "production"} | ({"AWSOME_COOKIE_KEY": key} if key is not None else {})
    with pytest.raises(ConfigError, match="cookie key"):
        Settings.load(environ=env)


def test_production_accepts_a_real_key() -> None:
    s = Settings.load(environ={"AWSOME_ENV": "production", "AWSOME_COOKIE_KEY": "k" * 32})
    assert s.is_production


def test_bad_values_give_readable_errors() -> None:
    with pytest.raises(ConfigError, match="AWSOME_MAX_UPLOAD_MB"):
        Settings.load(environ={"AWSOME_MAX_UPLOAD_MB": "lots"})
    with pytest.raises(ConfigError, match="ICE"):
        Settings.load(environ={"AWSOME_ICE_SERVERS": "not json"})


def test_repr_hides_secrets() -> None:
    s = Settings.load(environ={"AWSOME_COOKIE_KEY": "super-secret-value-123", "AWSOME_SPOTIFY_CLIENT_SECRET": "sss"})
    assert "super-secret-value-123" not in repr(s) and "sss" not in repr(s)
