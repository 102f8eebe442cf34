"""The login cookie under attack, in a real Chromium (issue #7, item 3).

A valid cookie replayed in a fresh browser signs in (so the forging below is done right), and expires after
``AWSOME_COOKIE_EXPIRY_DAYS``. Forged ones -- a flipped signature, ``alg: none``, a wrong key, an expired
date, a date that is not a number, an unknown user, garbage -- sign nobody in and show no error. After
signing out, the cookie issued before is refused everywhere (revoked server-side), even replayed elsewhere.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import expect_signed_in, expect_signed_out, register, sign_out, wait_for_cookie

PASSWORD = "correct-horse-battery"
COOKIE = "awsome_auth"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _open_with_cookie(new_page: Any, url: str, value: str) -> Any:
    page = new_page()
    page.context.add_cookies([{"name": COOKIE, "value": value, "url": url}])
    page.goto(url)
    return page


def _expect_refused(page: Any) -> None:
    expect_signed_out(page)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


def test_cookie_replay_forgery_expiry_and_revocation(app_factory: Any, new_page: Any) -> None:
    app = app_factory()
    key = app.env["AWSOME_COOKIE_KEY"]
    page = new_page()
    page.goto(app.url)
    register(page, "carol", "Carol", PASSWORD)
    expect_signed_in(page)
    token = wait_for_cookie(page)
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    days = (cookie["expires"] - time.time()) / 86400
    assert days == pytest.approx(7, abs=0.1)  # AWSOME_COOKIE_EXPIRY_DAYS: the browser drops it after 7 days
    claims = jwt.decode(token, key, algorithms=["HS256"])
    assert claims["username"] == "carol" and claims["exp_date"] == pytest.approx(cookie["expires"], abs=120)

    # The genuine cookie, replayed in another browser, signs in: the forgeries below are well formed.
    expect_signed_in(_open_with_cookie(new_page, app.url, token))
    future = time.time() + 8 * 86400
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    forged = {
        "flipped signature": f"{header}.{payload}.{flipped}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'username': 'carol', 'exp_date': future})}.",
        "wrong key": jwt.encode({"username": "carol", "exp_date": future}, "not-the-key-" + "x" * 20),
        "expired": jwt.encode({"username": "carol", "exp_date": time.time() - 60}, key),
        "date not a number": jwt.encode({"username": "carol", "exp_date": "9999999999"}, key),
        "unknown user": jwt.encode({"username": "mallory", "exp_date": future}, key),
        "username not a string": jwt.encode({"username": ["carol"], "exp_date": future}, key),
        "garbage": "not-a-jwt",
    }
    for name, value in forged.items():
        forged_page = _open_with_cookie(new_page, app.url, value)
        try:
            _expect_refused(forged_page)
        except AssertionError as e:
            raise AssertionError(f"forged cookie '{name}' was not refused cleanly") from e

    # Signing out revokes every cookie issued before, wherever it is replayed.
    sign_out(page)
    _expect_refused(_open_with_cookie(new_page, app.url, token))
    assert "Traceback" not in app.log()
