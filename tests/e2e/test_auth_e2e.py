"""A user registers, signs out, fails and succeeds to sign in, reloads, in a real Chromium."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.helpers import (
    cookie_value,
    expect_signed_in,
    expect_signed_out,
    open_page,
    register,
    sign_in,
    sign_out,
    wait_for_cookie,
)

PASSWORD = "correct-horse-battery"
XSS_NAME = "<script>alert(1)</script>"


def test_register_sign_out_wrong_password_sign_in_reload(app_factory, new_page) -> None:
    app = app_factory()
    page = new_page()
    page.goto(app.url)
    expect_signed_out(page)

    register(page, "alice", XSS_NAME, PASSWORD)
    expect_signed_in(page)
    # The display name is shown as text, and no script ran.
    expect(page.get_by_text(f"Signed in as {XSS_NAME}")).to_be_visible()
    assert page.dialogs == []

    sign_out(page)
    sign_in(page, "alice", "wrong-password-123")
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    expect_signed_out(page)

    old_cookie = cookie_value(page)  # revoked at sign-out (and deleted, once the component has run)
    sign_in(page, "alice", PASSWORD)
    expect_signed_in(page)
    wait_for_cookie(page, other_than=old_cookie)
    page.reload()
    expect_signed_in(page)
    open_page(page, "Account")
    assert page.dialogs == []


def test_lockout_after_five_wrong_passwords_is_explained(app_factory, new_page) -> None:
    app = app_factory()
    page = new_page()
    page.goto(app.url)
    register(page, "bob", "Bob", PASSWORD)
    expect_signed_in(page)
    sign_out(page)
    for _ in range(4):
        sign_in(page, "bob", "not-the-password")
        expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    sign_in(page, "bob", "not-the-password")
    expect(page.get_by_text("locked for 15 minutes")).to_be_visible()
    sign_in(page, "bob", PASSWORD)  # even the right password is refused while locked
    expect(page.get_by_text("Too many failed sign-ins")).to_be_visible()
    expect_signed_out(page)


def test_two_replicas_share_one_mysql_database(app_factory, new_page, mysql_database_url) -> None:
    first = app_factory(mysql_database_url)
    second = app_factory(mysql_database_url)
    page_a, page_b = new_page(), new_page()
    page_a.goto(first.url)
    register(page_a, "carol", "Carol", PASSWORD)
    expect_signed_in(page_a)

    page_b.goto(second.url)
    expect_signed_out(page_b)
    sign_in(page_b, "carol", PASSWORD)
    expect_signed_in(page_b)
