"""Time-limited TURN credentials: the TURN REST API scheme that coturn checks with ``use-auth-secret``.

The TURN server and the app share one long-term secret (``AWSOME_TURN_SECRET``, coturn's
``static-auth-secret``). For each browser session the app mints

* ``username = "<expiry>:<label>"``, where *expiry* is a Unix time in whole seconds (UTC) and *label* names
  the holder (``u<user id>``; characters outside ``[A-Za-z0-9._-]`` become ``_``);
* ``password = base64(HMAC-SHA1(secret, username))`` (standard alphabet, with padding).

coturn recomputes the HMAC and refuses the credential once *expiry* has passed, so a credential that leaks
from a browser stops working by itself, and the secret never leaves the server side. Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any, Final

MIN_TTL_SECONDS: Final = 60
_LABEL_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class TurnCredential:
    """A TURN username/password pair valid until *expires_at* (Unix seconds, UTC)."""

    username: str
    password: str
    expires_at: int

    def remaining_seconds(self, now: float | None = None) -> float:
        return self.expires_at - (time.time() if now is None else now)


def sign_username(secret: str, username: str) -> str:
    """``base64(HMAC-SHA1(secret, username))``: the password coturn expects for *username*."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def mint_credential(secret: str, label: str, *, ttl_seconds: int, now: float | None = None) -> TurnCredential:
    """A credential for *label* that expires *ttl_seconds* from *now* (default: the current time).

    :raises ValueError: empty secret or label, or a TTL under :data:`MIN_TTL_SECONDS`.
    """
    if not secret:
        raise ValueError("a TURN secret is required")
    if ttl_seconds < MIN_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be at least {MIN_TTL_SECONDS}, not {ttl_seconds}")
    safe = _LABEL_UNSAFE.sub("_", label)
    if not safe:
        raise ValueError("a credential needs a label")
    expires_at = int(time.time() if now is None else now) + ttl_seconds
    username = f"{expires_at}:{safe}"
    return TurnCredential(username, sign_username(secret, username), expires_at)


def is_valid(secret: str, username: str, password: str, *, now: float | None = None) -> bool:
    """What coturn checks: the signature matches and the expiry in *username* has not passed."""
    expiry, sep, _ = username.partition(":")
    if not sep or not expiry.isdigit() or int(expiry) < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(sign_username(secret, username), password)


def ice_server(urls: list[str], credential: TurnCredential) -> dict[str, Any]:
    """One RTCIceServer entry (``{"urls", "username", "credential"}``) for *urls* with *credential*."""
    return {"urls": list(urls), "username": credential.username, "credential": credential.password}
