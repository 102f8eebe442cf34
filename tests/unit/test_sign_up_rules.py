"""The sign-up form lists every rule that awsome_core.auth enforces, and each rule listed is enforced."""

from __future__ import annotations

import pytest

from awsome_core import auth
from awsome_core.errors import AuthError
from ui.signup import PASSWORD_RULES, USERNAME_RULE, rules_markdown

#: One password breaking each listed rule (and only it), for the username "alice".
BREAKS = {
    "at least 8 characters": "Sh0rt!",
    "at most 72 bytes": "é" * 40,  # 40 characters, 80 bytes
    "not containing your username": "xx-Alice-rocks-42",
    "not one of the most common passwords": "password123",
}


@pytest.mark.parametrize("rule", list(BREAKS))
def test_each_listed_password_rule_is_enforced(rule: str) -> None:
    assert any(rule in listed for listed in PASSWORD_RULES)
    with pytest.raises(AuthError):
        auth.validate_password(BREAKS[rule], username="alice")


def test_a_password_keeping_every_listed_rule_is_accepted() -> None:
    auth.validate_password("correct-horse-battery", username="alice")


def test_every_rule_auth_enforces_is_listed() -> None:
    """auth.validate_password's own messages, one per rule: each must have its line on the form."""
    messages = []
    for password in BREAKS.values():
        with pytest.raises(AuthError) as e:
            auth.validate_password(password, username="alice")
        messages.append(str(e.value))
    assert len(set(messages)) == len(BREAKS)  # as many distinct rules as the form lists
    assert "8" in rules_markdown() and "72 bytes" in rules_markdown()


def test_the_username_rule_matches_the_username_check() -> None:
    assert "3–32" in USERNAME_RULE
    for good in ("abc", "a.b_c-d", "x" * 32, "Alice"):
        auth.normalize_username(good)
    for bad in ("ab", "x" * 33, "_abc", "a b", "ä-umlaut"):
        with pytest.raises(AuthError):
            auth.normalize_username(bad)
