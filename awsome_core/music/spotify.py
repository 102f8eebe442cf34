"""Optional Spotify Web API (spotipy, client-credentials flow): track search and public-playlist import.

Nothing here may hang or crash a page. The client uses a :class:`~spotipy.cache_handler.MemoryCacheHandler`
(no ``.cache`` files), a plain ``requests.Session`` with ``retries=0``/``status_retries=0`` (spotipy's own
urllib3 retries would sleep for as long as ``Retry-After`` says), a 3 s timeout per request, and its own
429 rule: wait ``Retry-After`` seconds and retry once only if that is at most :data:`MAX_RETRY_AFTER_S`.
Every failure (no credentials, 401, 403, 404, 429, timeouts, no network) becomes a local fallback plus a
short note from :func:`search_tracks` / :func:`import_playlist`.

Spotify closed audio features to new apps (Nov 2024), so tracks from a playlist get rough valence/energy
from the mood the user names (:data:`~awsome_core.music.starter.MOOD_POINTS`); tracks already in the
catalog keep their real features. Development-mode apps (2026) get at most 10 search results and may be
refused playlists they don't own (403): both degrade to the local catalog.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.exceptions import SpotifyBaseException, SpotifyException
from spotipy.oauth2 import SpotifyClientCredentials
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from awsome_core.config import Settings
from awsome_core.errors import MusicProviderError
from awsome_core.music.catalog import PLAYLIST_SOURCE_PREFIX, upsert_tracks
from awsome_core.music.embed import is_spotify_id
from awsome_core.music.records import ImportReport, TrackRecord
from awsome_core.music.starter import mood_tag_point
from awsome_core.storage.models import Track

logger = logging.getLogger(__name__)

DEFAULT_API_BASE: Final = "https://api.spotify.com/v1/"
DEFAULT_TOKEN_URL: Final = "https://accounts.spotify.com/api/token"
REQUEST_TIMEOUT_S: Final = 3.0
MAX_RETRY_AFTER_S: Final = 2.0
SEARCH_LIMIT: Final = 10  # the most a development-mode app may ask for since February 2026
PLAYLIST_MAX_TRACKS: Final = 500
_PLAYLIST_ID_RE: Final = re.compile(r"(?:playlist[/:])?([0-9A-Za-z]{22})(?:[/?#].*)?$")
_STATUS_NOTES: Final = {
    401: "Spotify rejected the app's access token (HTTP 401)",
    403: "Spotify refused access (HTTP 403; development-mode apps may only read some content)",
    404: "Spotify could not find it (HTTP 404: private, deleted or a wrong link)",
}


@dataclass(frozen=True)
class SearchResult:
    """Tracks found, whether they came from Spotify, and a short note for the user when they did not."""

    tracks: tuple[TrackRecord, ...]
    from_spotify: bool
    note: str | None = None


@dataclass(frozen=True)
class PlaylistImport:
    """Outcome of :func:`import_playlist`: the report, or None and a note saying why nothing changed."""

    report: ImportReport | None
    note: str | None = None


class SpotifyClient:
    """Client-credentials access to the Spotify Web API. Calls are serialised by a lock (thread-safe).

    :param api_base: / :param token_url: point at a fake server in tests.
    :param sleep: injectable for tests; only ever called with at most *max_retry_after* seconds.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        token_url: str = DEFAULT_TOKEN_URL,
        timeout: float = REQUEST_TIMEOUT_S,
        max_retry_after: float = MAX_RETRY_AFTER_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("a Spotify client id and secret are both required")
        http = requests.Session()  # no urllib3 Retry adapter: no hidden sleeps
        auth = SpotifyClientCredentials(
            client_id=client_id,
            client_secret=client_secret,
            cache_handler=MemoryCacheHandler(),
            requests_session=http,
            requests_timeout=timeout,
        )
        auth.OAUTH_TOKEN_URL = token_url  # instance attribute shadows the class constant
        self._sp = spotipy.Spotify(
            auth_manager=auth, requests_session=http, requests_timeout=timeout, retries=0, status_retries=0
        )
        self._sp.prefix = api_base if api_base.endswith("/") else api_base + "/"
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SpotifyClient | None:
        """A client from ``spotify_client_id``/``spotify_client_secret``, or None if either is empty."""
        if not settings.spotify_client_id or not settings.spotify_client_secret:
            return None
        return cls(settings.spotify_client_id, settings.spotify_client_secret)

    def search_tracks(self, query: str, *, limit: int = SEARCH_LIMIT) -> list[TrackRecord]:
        """Tracks matching *query* (at most :data:`SEARCH_LIMIT`). :raises MusicProviderError:"""
        limit = max(1, min(limit, SEARCH_LIMIT))
        found = self._call(self._sp.search, q=query, limit=limit, type="track")
        items = ((found or {}).get("tracks") or {}).get("items") or []
        return [r for r in (_record_from_api(item, source="spotify_search") for item in items) if r]

    def playlist_tracks(self, playlist: str) -> tuple[str, list[TrackRecord]]:
        """(name, tracks) of a public playlist given by URL, URI or id. :raises MusicProviderError:"""
        playlist_id = parse_playlist_id(playlist)
        name = (self._call(self._sp.playlist, playlist_id, fields="name") or {}).get("name") or playlist_id
        page = self._call(self._sp.playlist_items, playlist_id, limit=50, additional_types=("track",))
        records: list[TrackRecord] = []
        while page and len(records) < PLAYLIST_MAX_TRACKS:
            for entry in page.get("items") or []:
                item = (entry or {}).get("item") or (entry or {}).get("track")  # "item" since Feb 2026
                record = _record_from_api(item, source=PLAYLIST_SOURCE_PREFIX + name)
                if record is not None:
                    records.append(record)
            page = self._call(self._sp.next, page) if page.get("next") else None
        return str(name), records[:PLAYLIST_MAX_TRACKS]

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            for attempt in range(2):
                try:
                    return method(*args, **kwargs)
                except SpotifyException as e:
                    wait = _retry_after(e) if e.http_status == 429 else None
                    if attempt == 0 and wait is not None and wait <= self._max_retry_after:
                        logger.info("Spotify rate limit: retrying once in %.1f s", wait)
                        self._sleep(wait)
                        continue
                    raise _error_for(e, wait) from e
                except SpotifyBaseException as e:  # token request refused: bad client id/secret
                    raise MusicProviderError(
                        "Spotify refused the app's credentials (check the client id/secret)"
                    ) from e
                except requests.Timeout as e:
                    raise MusicProviderError("Spotify did not answer in time") from e
                except (requests.RequestException, ValueError) as e:
                    raise MusicProviderError("Spotify cannot be reached right now (offline?)") from e
        raise MusicProviderError("Spotify is rate-limiting requests")  # pragma: no cover -- loop always returns


def parse_playlist_id(value: str) -> str:
    """The 22-character id of a playlist URL (``open.spotify.com/playlist/<id>?si=...``), URI or id."""
    match = _PLAYLIST_ID_RE.search((value or "").strip())
    if match is None:
        raise ValueError("not a Spotify playlist link: paste a link like https://open.spotify.com/playlist/<id>")
    return match.group(1)


def search_tracks(
    *, session: Session, client: SpotifyClient | None, query: str, limit: int = SEARCH_LIMIT
) -> SearchResult:
    """Search Spotify, or the local catalog when Spotify is not configured or fails (with a note)."""
    if client is None:
        note = "Spotify search is not configured; showing matches from the local catalog."
        return SearchResult(tuple(search_local_tracks(session=session, query=query, limit=limit)), False, note)
    try:
        return SearchResult(tuple(client.search_tracks(query, limit=limit)), True)
    except MusicProviderError as e:
        logger.warning("Spotify search failed, using the local catalog: %s", e)
        local = search_local_tracks(session=session, query=query, limit=limit)
        return SearchResult(tuple(local), False, f"{e}; showing matches from the local catalog.")


def search_local_tracks(*, session: Session, query: str, limit: int = SEARCH_LIMIT) -> list[TrackRecord]:
    """Catalog tracks whose title or artists contain every word of *query* (most popular first)."""
    words = [w for w in query.split() if w][:8]
    if not words:
        return []
    matches = [
        or_(Track.title.icontains(w, autoescape=True), Track.artists.icontains(w, autoescape=True)) for w in words
    ]
    rows = session.scalars(select(Track).where(and_(*matches)).order_by(Track.popularity.desc(), Track.id).limit(limit))
    return [_record_from_row(track) for track in rows]


def import_playlist(
    *, session: Session, client: SpotifyClient | None, playlist: str, mood: str, name: str | None = None
) -> PlaylistImport:
    """Import a public playlist as a mood playlist: its tracks join the catalog tagged with *mood*.

    New tracks get *mood*'s rough (valence, energy) and ``source = "playlist:<name>"`` (*name* defaults to
    the playlist's own); tracks already in the catalog keep their features and only gain missing fields.

    :raises ValueError: *mood* is not one of the mood tags, or *playlist* is not a playlist link.
    """
    valence, energy = mood_tag_point(mood)
    parse_playlist_id(playlist)
    if client is None:
        return PlaylistImport(
            None, "Spotify is not configured, so nothing was imported; the local catalog is unchanged."
        )
    try:
        playlist_name, records = client.playlist_tracks(playlist)
    except MusicProviderError as e:
        logger.warning("playlist import failed: %s", e)
        return PlaylistImport(None, f"{e}; nothing was imported, recommendations use the local catalog.")
    source = (PLAYLIST_SOURCE_PREFIX + (name or playlist_name).strip())[:64]
    unique = list({r.spotify_id: r for r in records}.values())
    tagged = [
        dataclasses.replace(r, mood_tag=mood.lower(), valence=valence, energy=energy, source=source) for r in unique
    ]
    inserted, updated, unchanged = upsert_tracks(session=session, records=tagged, prefer="old")
    skipped = {"duplicate track in the playlist": len(records) - len(unique)} if len(records) > len(unique) else {}
    report = ImportReport(playlist, "spotify_playlist", source, len(records), inserted, updated, unchanged, skipped)
    return PlaylistImport(report, None)


def _retry_after(error: SpotifyException) -> float | None:
    raw = (error.headers or {}).get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else 1.0
    except ValueError:
        return None  # an HTTP-date: don't wait for it


def _error_for(error: SpotifyException, wait: float | None) -> MusicProviderError:
    if error.http_status == 429:
        after = f" for {wait:.0f} s" if wait is not None else ""
        return MusicProviderError(f"Spotify is rate-limiting requests{after}")
    note = _STATUS_NOTES.get(error.http_status, f"Spotify answered with an error (HTTP {error.http_status})")
    return MusicProviderError(note)


def _record_from_api(item: Any, *, source: str) -> TrackRecord | None:
    if not isinstance(item, dict) or item.get("type", "track") != "track" or item.get("is_local"):
        return None
    spotify_id = item.get("id")
    if not is_spotify_id(spotify_id):
        return None
    popularity, duration = item.get("popularity"), item.get("duration_ms")  # popularity: gone for dev-mode apps
    explicit = item.get("explicit")
    return TrackRecord(
        title=str(item.get("name") or "")[:255],
        artists=";".join(
            str(a.get("name")) for a in item.get("artists") or [] if isinstance(a, dict) and a.get("name")
        )[:512],
        spotify_id=spotify_id,
        album=(str((item.get("album") or {}).get("name") or "")[:255] or None),
        popularity=popularity if isinstance(popularity, int) and 0 <= popularity <= 100 else None,
        duration_ms=duration if isinstance(duration, int) and duration > 0 else None,
        explicit=explicit if isinstance(explicit, bool) else None,
        source=source[:64],
    )


def _record_from_row(track: Track) -> TrackRecord:
    names = [f.name for f in dataclasses.fields(TrackRecord)]
    return TrackRecord(**{name: getattr(track, name) for name in names})
