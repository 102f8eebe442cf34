"""One ``Settings`` object for the whole app, read from ``AWSOME_*`` environment variables.

``app.py`` maps ``st.secrets["awsome"]`` into it (:meth:`Settings.load`); the library never
reads secrets itself. Precedence: environment variable > secrets mapping > default.
Every field is documented in the README's configuration table (a test checks it).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from awsome_core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COOKIE_KEY = "dev-only-insecure-cookie-key-change-me"
#: Values copied from an example file (``CHANGE-ME-...``, ``replace-with-...``) are refused in production.
PLACEHOLDER_SECRET = re.compile(r"change.?me|replace.?with|example|placeholder|dev.?only|insecure", re.IGNORECASE)
DEFAULT_CATALOG_URL = "https://huggingface.co/datasets/maharshipandya/spotify-tracks-dataset/resolve/main/dataset.csv"


def _setting(default: Any, doc: str, *, secret: bool = False) -> Any:
    return field(default=default, metadata={"doc": doc, "secret": secret})


@dataclass(frozen=True)
class Settings:
    """Application settings. ``env_name(field)`` gives each field's environment variable."""

    env: str = _setting("development", "`development` or `production` (production refuses default secrets)")
    data_dir: Path = _setting(PROJECT_ROOT / "data", "Directory for the SQLite file, downloads and opted-in images")
    database_url: str = _setting("", "SQLAlchemy URL; empty means `sqlite:///<data_dir>/awsome.db`", secret=True)
    model_path: Path = _setting(PROJECT_ROOT / "models" / "emotion.tflite", "Emotion model (TFLite) to serve")
    log_level: str = _setting("INFO", "Python logging level")
    cookie_key: str = _setting(
        DEFAULT_COOKIE_KEY, "Key that signs the login cookie (required in production)", secret=True
    )
    cookie_name: str = _setting("awsome_auth", "Name of the login cookie")
    cookie_expiry_days: float = _setting(7.0, "Days a login cookie stays valid")
    max_failed_logins: int = _setting(5, "Wrong passwords in a row before an account is locked")
    lockout_minutes: int = _setting(15, "How long a locked account stays locked")
    max_upload_mb: int = _setting(10, "Largest photo upload accepted, in MB")
    catalog_url: str = _setting(DEFAULT_CATALOG_URL, "Where `awsome catalog download` fetches the public catalog")
    starter_catalog: int = _setting(1, "1: import the packaged starter music catalog on start (idempotent); 0: don't")
    spotify_client_id: str = _setting("", "Spotify Web API client id (optional)", secret=True)
    spotify_client_secret: str = _setting("", "Spotify Web API client secret (optional)", secret=True)
    ice_servers: str = _setting(
        "[]", "JSON list of WebRTC ICE servers (STUN/TURN), e.g. a coturn URL with credentials", secret=True
    )
    turn_urls: str = _setting(
        "", "Comma-separated TURN URLs that get a time-limited credential per browser session (coturn use-auth-secret)"
    )
    turn_secret: str = _setting("", "coturn's static-auth-secret; never sent to a browser", secret=True)
    turn_ttl_seconds: int = _setting(3600, "How long a minted TURN credential stays valid, in seconds")
    auto_confirm_seconds: float = _setting(0.0, "Live page: store the mood after this many stable seconds (0 = off)")
    admin_users: str = _setting("", "Comma-separated usernames allowed to import catalogs from the UI")
    api_analyses_per_minute: int = _setting(60, "HTTP API: photo analyses per token per minute (per worker)")

    # ------------------------------------------------------------------ construction

    @staticmethod
    def env_name(name: str) -> str:
        return f"AWSOME_{name.upper()}"

    @classmethod
    def load(cls, secrets: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from *secrets* (e.g. ``st.secrets["awsome"]``) overridden by *environ*."""
        environ = os.environ if environ is None else environ
        secrets = secrets or {}
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(cls.env_name(f.name))
            if raw is None and f.name in secrets:
                raw = secrets[f.name]
            if raw is None:
                continue
            values[f.name] = _coerce(f.name, f.type, raw)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse settings that would be unsafe; raise :class:`ConfigError` with a readable reason."""
        if self.env not in ("development", "production"):
            raise ConfigError(f"AWSOME_ENV must be 'development' or 'production', not {self.env!r}")
        if self.is_production and (
            not self.cookie_key
            or self.cookie_key == DEFAULT_COOKIE_KEY
            or len(self.cookie_key) < 16
            or PLACEHOLDER_SECRET.search(self.cookie_key)
        ):
            raise ConfigError(
                "Production mode needs a secret cookie key of at least 16 characters: "
                "set AWSOME_COOKIE_KEY or cookie_key in .streamlit/secrets.toml"
            )
        self.ice_server_list()  # raises on bad JSON
        self._validate_turn()
        if self.api_analyses_per_minute < 1:
            raise ConfigError("api_analyses_per_minute must be at least 1")
        if self.max_failed_logins < 1 or self.lockout_minutes < 0 or self.max_upload_mb < 1:
            raise ConfigError("max_failed_logins and max_upload_mb must be positive, lockout_minutes not negative")

    def _validate_turn(self) -> None:
        if self.turn_urls and not self.turn_secret:
            raise ConfigError("AWSOME_TURN_URLS needs AWSOME_TURN_SECRET (coturn's static-auth-secret)")
        if any(not u.startswith(("turn:", "turns:")) for u in self.turn_url_list()):
            raise ConfigError("AWSOME_TURN_URLS must be turn: or turns: URLs, separated by commas")
        if self.turn_ttl_seconds < 60:
            raise ConfigError("AWSOME_TURN_TTL_SECONDS must be at least 60")
        weak = len(self.turn_secret) < 16 or PLACEHOLDER_SECRET.search(self.turn_secret)
        if self.is_production and self.turn_secret and weak:
            raise ConfigError("Production mode needs a TURN secret of 16+ random characters (AWSOME_TURN_SECRET)")

    # ------------------------------------------------------------------ derived values

    def turn_url_list(self) -> list[str]:
        return [u.strip() for u in self.turn_urls.split(",") if u.strip()]

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{Path(self.data_dir) / 'awsome.db'}"

    def ice_server_list(self) -> list[dict[str, Any]]:
        try:
            servers = json.loads(self.ice_servers or "[]")
        except json.JSONDecodeError as e:
            raise ConfigError(f"AWSOME_ICE_SERVERS is not valid JSON: {e}") from e
        if not isinstance(servers, list) or not all(isinstance(s, dict) and "urls" in s for s in servers):
            raise ConfigError('AWSOME_ICE_SERVERS must be a JSON list of {"urls": ...} objects')
        return servers

    def admin_set(self) -> frozenset[str]:
        return frozenset(u.strip().lower() for u in self.admin_users.split(",") if u.strip())

    def __repr__(self) -> str:  # never print secrets
        shown = {
            f.name: ("***" if f.metadata.get("secret") and getattr(self, f.name) else getattr(self, f.name))
            for f in dataclasses.fields(self)
        }
        return f"Settings({shown})"


def _coerce(name: str, type_name: Any, raw: Any) -> Any:
    type_name = str(type_name)
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name == "Path":
            return Path(str(raw))
        if type_name == "str" and isinstance(raw, list | dict):
            return json.dumps(raw)
        return str(raw)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{Settings.env_name(name)}={raw!r} is not a valid {type_name}") from e
