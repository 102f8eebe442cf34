"""Music catalog management in the app: status, the public-catalog download, CSV and playlist import.

Who may change the catalog (it is shared by every user): the usernames in ``AWSOME_ADMIN_USERS``; in
development mode (a local, single-user install) also every signed-in user.
"""

from __future__ import annotations

import logging

import streamlit as st

from awsome_core.music.catalog import STARTER_SOURCES, catalog_is_small, catalog_stats, import_catalog_file
from awsome_core.music.download import install_public_catalog
from awsome_core.music.spotify import SpotifyClient, import_playlist
from awsome_core.music.starter import MOOD_POINTS
from awsome_core.text import escape_markdown
from ui.runtime import db_session, get_settings, show_errors

logger = logging.getLogger(__name__)


def may_manage_catalog() -> bool:
    settings = get_settings()
    username = (st.session_state.get("username") or "").lower()
    return bool(username) and (not settings.is_production or username in settings.admin_set())


def show_catalog_section() -> None:
    """Catalog size, and for admins: download the public catalog, import a CSV or a Spotify playlist.

    The counts are drawn last, into a placeholder at the top, so they include an import made in this run."""
    counts = st.empty()
    if may_manage_catalog():
        _manage()
    with show_errors("Reading the catalog"), db_session() as session:
        stats = catalog_stats(session=session)
    starter = sum(n for source, n in stats.by_source.items() if source in STARTER_SOURCES)
    note = f" ({starter:,} of them from the starter catalog that comes with the app)" if starter else ""
    counts.markdown(f"**{stats.total:,} tracks**, {stats.with_spotify_id:,} playable in the Spotify player{note}.")


def _manage() -> None:
    with show_errors("Reading the catalog"), db_session() as session:
        small = catalog_is_small(session=session)
    if small:
        st.info("The catalog is small. Download the public Spotify Tracks Dataset (about 114,000 tracks, 20 MB).")
    if st.button("Download the public catalog", key="catalog-download", disabled=not small):
        _download()
    upload = st.file_uploader("Import a catalog CSV", type=["csv"], key="catalog-csv")
    if upload is not None and st.button("Import this file", key="catalog-import"):
        with show_errors("Importing the file"), st.spinner("Importing…"), db_session() as session:
            report = import_catalog_file(session=session, path=upload, source=None)
            st.success(escape_markdown(report.summary()))
    _playlist_form()


def _download() -> None:
    settings = get_settings()
    bar = st.progress(0.0, text="Connecting…")

    def progress(phase: str, done: int, total: int | None) -> None:
        fraction = min(1.0, done / total) if total else 0.0
        unit = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if phase == "download" and total else f"{done:,} rows"
        bar.progress(fraction, text=f"{'Downloading' if phase == 'download' else 'Importing'}: {unit}")

    with show_errors("Downloading the catalog"), db_session() as session:
        report = install_public_catalog(
            session=session, url=settings.catalog_url, data_dir=settings.data_dir, progress=progress
        )
        bar.progress(1.0, text="Done")
        st.success(escape_markdown(report.summary()))


def _playlist_form() -> None:
    client = SpotifyClient.from_settings(get_settings())
    if client is None:
        st.caption("Spotify playlist import needs a client id and secret (see the README); the catalog works without.")
        return
    with st.form("playlist-import"):
        link = st.text_input("Public Spotify playlist link", key="playlist-link")
        name = st.text_input("Name it", key="playlist-name")
        mood = st.selectbox("Mood of this playlist", sorted(MOOD_POINTS), key="playlist-mood")
        if st.form_submit_button("Import playlist"):
            with show_errors("Importing the playlist"), db_session() as session:
                try:
                    result = import_playlist(
                        session=session, client=client, playlist=link, mood=mood, name=name or None
                    )
                except ValueError as e:  # not a playlist link
                    st.warning(str(e))
                    return
                if result.report is None:
                    st.warning(result.note or "Nothing was imported.")
                else:
                    st.success(escape_markdown(result.note or result.report.summary()))  # names a user typed
