"""ui/theme_once.py: the theme of Streamlit's NewSession message, built once, is what Streamlit builds."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from streamlit import config
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import app_session
from streamlit.runtime.app_session import AppSession

from ui.theme_once import ThemeOnce, build_theme_once

SECTIONS = ("theme", "theme.light", "theme.dark", "theme.sidebar", "theme.light.sidebar", "theme.dark.sidebar")
ORIGINAL = app_session._populate_theme_msg  # as imported, before any test installs the stand-in


def _theme(populate: object) -> bytes:
    """The custom_theme of a NewSession message filled as AppSession fills it (six sections, nested)."""
    msg = ForwardMsg()
    theme = msg.new_session.custom_theme
    targets = (theme, theme.light, theme.dark, theme.sidebar, theme.light.sidebar, theme.dark.sidebar)
    for target, section in zip(targets, SECTIONS, strict=True):
        populate(target, section)  # type: ignore[operator]
    return msg.SerializeToString()


@pytest.fixture
def themed() -> Iterator[None]:
    """A theme with every kind of option Streamlit treats specially (base, fonts, colour lists, sidebars)."""
    options = {
        "theme.base": "dark",
        "theme.primaryColor": "#1db954",
        "theme.font": "serif",
        "theme.chartCategoricalColors": ["#111111", "#222222", "#333333"],
        "theme.sidebar.backgroundColor": "#101010",
        "theme.light.primaryColor": "#0a0a0a",
        "theme.dark.sidebar.textColor": "#fafafa",
    }
    for key, value in options.items():
        config.set_option(key, value, "test")
    yield
    config.get_config_options(force_reparse=True)


def test_built_once_it_gives_the_same_message_as_streamlit(themed: None) -> None:
    once = ThemeOnce(ORIGINAL)
    expected = _theme(ORIGINAL)
    assert expected != _theme(lambda msg, section: None)  # the options above do reach the message
    assert _theme(once) == expected
    assert _theme(once) == expected  # and again, from what was built


def test_it_is_built_again_after_the_config_is_parsed_again(themed: None) -> None:
    once = ThemeOnce(ORIGINAL)
    before = _theme(once)
    config.set_option("theme.primaryColor", "#ff0000", "test")
    assert _theme(once) == before  # the server's theme does not change while it runs...
    once.forget()  # ...unless Streamlit parses its config again (on_config_parsed)
    assert _theme(once) == _theme(ORIGINAL) != before


def test_installed_in_place_of_streamlits_function_once() -> None:
    try:
        once = build_theme_once()
        assert isinstance(once, ThemeOnce)
        assert app_session._populate_theme_msg is once
        build_theme_once.clear()
        assert build_theme_once() is once  # not wrapped twice
    finally:
        app_session._populate_theme_msg = ORIGINAL  # type: ignore[attr-defined]
        build_theme_once.clear()


def test_streamlit_still_builds_the_theme_through_that_function() -> None:
    """If this fails, Streamlit builds its NewSession theme another way: ui/theme_once.py no longer saves
    anything (nothing breaks); look again at AppSession._create_new_session_message."""
    source = inspect.getsource(AppSession._create_new_session_message)
    assert source.count("_populate_theme_msg(") == len(SECTIONS)
