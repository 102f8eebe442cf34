"""Spotify embed player HTML for a track, safe for any title or artist string.

A track with a valid Spotify id (``^[0-9A-Za-z]{22}$``) becomes an ``<iframe>`` of
``https://open.spotify.com/embed/track/<id>`` (no API key needed), 152 px high (compact) or 352 px.
Anything else -- starter tracks, which have no id -- becomes an "Open in Spotify" search link.
Every string from the catalog is passed through :func:`html.escape`, and only a validated id or a
percent-encoded search query ever goes into a URL. The app itself draws its cards in a custom component
from ``embed_url(...)`` and the plain strings (``ui/music_cards.py``); this HTML is for other front ends.
"""

from __future__ import annotations

import html
import re
from typing import Final, Protocol
from urllib.parse import quote

SPOTIFY_ID_RE: Final = re.compile(r"^[0-9A-Za-z]{22}\Z")
COMPACT_HEIGHT: Final = 152
FULL_HEIGHT: Final = 352
_EMBED_ALLOW: Final = "autoplay; clipboard-write; encrypted-media; fullscreen; picture-in-picture"


class TrackLike(Protocol):
    """What embedding needs: an ORM :class:`~awsome_core.storage.models.Track` or a ``TrackRecord``."""

    @property
    def spotify_id(self) -> str | None: ...
    @property
    def title(self) -> str: ...
    @property
    def artists(self) -> str: ...


def is_spotify_id(value: object) -> bool:
    """True if *value* is a 22-character base-62 Spotify id."""
    return isinstance(value, str) and SPOTIFY_ID_RE.match(value) is not None


def embed_url(spotify_id: str | None) -> str | None:
    """The embed player URL of a valid id, else None."""
    return f"https://open.spotify.com/embed/track/{spotify_id}" if is_spotify_id(spotify_id) else None


def track_url(spotify_id: str | None) -> str | None:
    """The ``open.spotify.com`` page of a valid id, else None."""
    return f"https://open.spotify.com/track/{spotify_id}" if is_spotify_id(spotify_id) else None


def search_url(title: str, artists: str) -> str:
    """A Spotify search for ``"<title> <first artist>"``, percent-encoded."""
    first_artist = (artists or "").split(";")[0].strip()
    query = " ".join(part for part in ((title or "").strip(), first_artist) if part)
    return "https://open.spotify.com/search/" + quote(query, safe="")


def display_artists(artists: str | None) -> str:
    """``"A;B"`` → ``"A, B"`` (plain text: escape it before putting it into HTML)."""
    return ", ".join(a.strip() for a in (artists or "").split(";") if a.strip())


def embed_html(track: TrackLike, *, compact: bool = True) -> str:
    """HTML for one track: the Spotify embed player, or a search link when it has no valid id.

    :param compact: 152 px high player (True) or the 352 px one with artwork (False).
    """
    title = track.title or "Unknown title"
    artists = display_artists(track.artists) or "Unknown artist"
    label = html.escape(f"{title} by {artists}", quote=True)
    url = embed_url(track.spotify_id)
    if url is None:
        link = html.escape(search_url(track.title, track.artists), quote=True)
        return (
            f'<div class="awsome-track awsome-track--search"><strong>{html.escape(title)}</strong> · '
            f"{html.escape(artists)} · "
            f'<a href="{link}" target="_blank" rel="noopener noreferrer" aria-label="Open {label} in Spotify">'
            "Open in Spotify</a></div>"
        )
    height = COMPACT_HEIGHT if compact else FULL_HEIGHT
    return (
        f'<iframe class="awsome-track" title="Spotify player: {label}" src="{url}?utm_source=generator" '
        f'width="100%" height="{height}" frameborder="0" allow="{_EMBED_ALLOW}" loading="lazy" '
        'style="border-radius:12px"></iframe>'
    )
