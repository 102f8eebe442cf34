"""The theme part of Streamlit's per-run ``NewSession`` message, built once per process instead of every run.

Every script run, fragment runs included, starts with a ``NewSession`` message, and Streamlit fills its
``custom_theme`` from the config on each one: ``_populate_theme_msg`` for six sections (``theme``,
``theme.light``, ``theme.dark`` and their sidebars), each walking all of Streamlit's config options to
find that section's: a measurable share of the server's CPU under load (docs/performance.md, "Seventh pass").
The theme comes from ``.streamlit/config.toml`` and the environment, read when the server starts; nothing
changes it while the server runs (``st.set_option`` refuses theme options, and this app watches no files).

:func:`build_theme_once` replaces that function in ``streamlit.runtime.app_session`` by one that builds each
section's message once with Streamlit's own function and merges a copy of it into every later message: the
same bytes go to the browser (``tests/unit/test_theme_once.py``). Should Streamlit parse its config again,
the copies are dropped and built anew. If the function is not where this expects it (another Streamlit),
nothing is replaced and a warning is logged: the app runs as before, each message built in full.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st
from streamlit import config
from streamlit.proto.NewSession_pb2 import CustomThemeConfig
from streamlit.runtime import app_session

logger = logging.getLogger(__name__)

Populate = Callable[..., None]


class ThemeOnce:
    """A stand-in for ``_populate_theme_msg(msg, section="theme")`` that builds each section once. Two runs
    starting at once may both build a section; either copy is the same, so no lock."""

    def __init__(self, build: Populate) -> None:
        self.build = build
        self._built: dict[str, CustomThemeConfig] = {}

    def __call__(self, msg: CustomThemeConfig, section: str = "theme") -> None:
        built = self._built.get(section)
        if built is None:
            built = CustomThemeConfig()
            self.build(built, section)
            self._built[section] = built
        if built.ListFields():  # Streamlit leaves an unset section's message untouched (not even present)
            msg.MergeFrom(built)

    def forget(self) -> None:
        """Drop what was built (the config was parsed again)."""
        self._built.clear()


@st.cache_resource
def build_theme_once() -> ThemeOnce | None:
    """Install :class:`ThemeOnce` in place of Streamlit's ``_populate_theme_msg``, once per process; return it
    (None where this Streamlit has no such function)."""
    original = getattr(app_session, "_populate_theme_msg", None)
    if isinstance(original, ThemeOnce):
        return original
    if not callable(original):
        logger.warning("streamlit.runtime.app_session._populate_theme_msg not found: the theme is built every run")
        return None
    once = ThemeOnce(original)
    config.on_config_parsed(once.forget, force_connect=True)
    app_session._populate_theme_msg = once  # type: ignore[attr-defined]
    return once
