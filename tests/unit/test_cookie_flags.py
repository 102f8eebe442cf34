"""The login cookie's attributes, through the real CookieManager's options (``ui.session.harden_cookie``)."""

from __future__ import annotations

from typing import Any

import pytest


def _options_for(page_url: str) -> dict[str, Any]:
    from extra_streamlit_components import CookieManager

    from ui.session import harden_cookie

    calls: list[dict[str, Any]] = []
    manager = CookieManager.__new__(CookieManager)  # no component call: only set() is under test
    manager.cookies = {}
    manager.cookie_manager = lambda **kwargs: calls.append(kwargs)
    harden_cookie(manager, page_url)
    manager.set("awsome_auth", "token")  # as streamlit-authenticator's CookieModel.set_cookie calls it
    assert len(calls) == 1 and calls[0]["method"] == "set"
    return dict(calls[0]["options"])


@pytest.mark.parametrize(
    ("url", "secure"),
    [("https://awsome.example.com/photo", True), ("http://127.0.0.1:8501/", None), ("", None)],
)
def test_the_login_cookie_is_strict_and_secure_over_https(url: str, secure: bool | None) -> None:
    options = _options_for(url)
    assert options["sameSite"] == "strict"
    assert options.get("secure") is secure  # None: the attribute is left out (a plain-http page)


def test_streamlit_authenticator_still_writes_through_that_manager() -> None:
    """harden_cookie relies on ``cookie_controller.cookie_model.cookie_manager.set(name, token, expires_at=)``."""
    import inspect

    from streamlit_authenticator.models.cookie_model import CookieModel

    source = inspect.getsource(CookieModel.set_cookie)
    assert "self.cookie_manager.set(self.cookie_name, token" in source
    assert "self.cookie_manager" in inspect.getsource(CookieModel.__init__)
