"""A numpy snapshot of the catalog for ranking: ids, track-plane points, feature scores, artists and genres.

The recommender never loads 114,000 ORM objects per call: it ranks on these arrays and then loads the
few tracks it picked. The snapshot is cached per engine (thread-safe, shared by all sessions of the
process; it holds no user data) and rebuilt when the catalog's largest track id, its latest
``updated_at`` or this process's write counter (:func:`~awsome_core.music.catalog.mark_catalog_changed`)
change, or after :data:`CACHE_TTL_S` seconds. Only an import writes tracks: it inserts (the largest id
grows) or updates in place (it sets ``updated_at``), in this process or another replica; both maxima are
index lookups, and there is no ``count(*)``, which InnoDB answers by scanning an index (10 ms a call at
114,000 tracks). The TTL is for edits made by hand in SQL; a track deleted by hand is also noticed when it
is picked (the recommender then clears this cache). A rebuild at 114,000 tracks costs about 1.5 s of CPU
(mostly PyMySQL decoding rows), and the Confirm that triggers it waits for it, so it happens only when
something changed, or hourly.

The hand-written songs of old installs (estimated features, no Spotify id) are left out once the catalog
holds at least :data:`STARTER_CUTOFF` other tracks. ``estimated`` marks tracks whose valence/energy come
from a mood tag (those songs and playlist imports) rather than from Spotify's audio features. The
per-track scores (``brightness``, ``arousal``, ``aggression``, ``restless``) are those of
:mod:`awsome_core.music.features`.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, cast

import numpy as np
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import awsome_core.music.features as features
from awsome_core.music.catalog import PLAYLIST_SOURCE_PREFIX, catalog_generation, tracks_by_source
from awsome_core.music.starter import LEGACY_STARTER_SOURCE
from awsome_core.storage.models import Track

logger = logging.getLogger(__name__)

CACHE_TTL_S: Final = 3600.0  # for edits made by hand in SQL; imports are seen at once (module doc)
STARTER_CUTOFF: Final = 200
_TABLE: Final = cast(Table, Track.__table__)
_LOCK = threading.Lock()
_CACHE: weakref.WeakKeyDictionary[Engine, CatalogIndex] = weakref.WeakKeyDictionary()


def artist_keys(artists: str | None) -> list[str]:
    """Normalised artist names of a ";"-separated ``artists`` string (lower-case, stripped)."""
    return [a.strip().lower() for a in (artists or "").split(";") if a.strip()]


@dataclass(frozen=True, eq=False)
class CatalogIndex:
    """Parallel arrays over the rankable tracks (non-null valence and energy), ordered by track id.

    Artists are stored CSR-style: track ``i`` has codes ``artist_codes[artist_ptr[i]:artist_ptr[i+1]]``.
    """

    key: tuple[int, str, int]
    loaded_at: float
    ids: np.ndarray
    valence: np.ndarray
    energy: np.ndarray
    brightness: np.ndarray
    arousal: np.ndarray
    aggression: np.ndarray
    restless: np.ndarray
    danceability: np.ndarray
    popularity: np.ndarray
    not_music: np.ndarray
    estimated: np.ndarray
    genre_codes: np.ndarray
    artist_ptr: np.ndarray
    artist_codes: np.ndarray
    artist_track: np.ndarray
    artist_lookup: dict[str, int]
    genre_lookup: dict[str, int]
    tracks_by_source: dict[str, int] = field(default_factory=dict)  # every track, rankable or not, when built

    def __len__(self) -> int:
        return int(self.ids.size)

    def artists_of(self, position: int) -> np.ndarray:
        return self.artist_codes[self.artist_ptr[position] : self.artist_ptr[position + 1]]

    def mask_ids(self, track_ids: Iterable[int]) -> np.ndarray:
        """Boolean mask of the positions holding *track_ids* (ids not in the index are ignored)."""
        mask = np.zeros(len(self), dtype=bool)
        wanted = np.fromiter(track_ids, dtype=np.int64)
        if wanted.size and len(self):
            pos = np.clip(np.searchsorted(self.ids, wanted), 0, len(self) - 1)
            mask[pos[self.ids[pos] == wanted]] = True
        return mask

    def mask_artists(self, names: Iterable[str]) -> np.ndarray:
        """Boolean mask of the tracks featuring any of the normalised artist *names*."""
        codes = [self.artist_lookup[n] for n in names if n in self.artist_lookup]
        mask = np.zeros(len(self), dtype=bool)
        if codes:
            wanted = np.zeros(len(self.artist_lookup), dtype=bool)
            wanted[codes] = True  # a lookup table: one gather instead of np.isin's sort
            mask[self.artist_track[wanted[self.artist_codes]]] = True
        return mask

    def mask_genres(self, names: Iterable[str]) -> np.ndarray:
        codes = [self.genre_lookup[n] for n in names if n in self.genre_lookup]
        if not codes:
            return np.zeros(len(self), dtype=bool)
        wanted = np.zeros(len(self.genre_lookup) + 1, dtype=bool)
        wanted[codes] = True
        return np.asarray(wanted[self.genre_codes])  # code -1 (no genre) reads the extra last slot: False


def load_catalog_index(*, session: Session) -> CatalogIndex:
    """Return the cached index for *session*'s engine, rebuilding it if the catalog changed."""
    bind: Any = session.get_bind()
    engine: Engine = getattr(bind, "engine", bind)
    # NOTE: two scalar subqueries in one statement: SQLite answers a lone max() from an index, not two at once
    latest = select(
        select(func.max(_TABLE.c.id)).scalar_subquery(), select(func.max(_TABLE.c.updated_at)).scalar_subquery()
    )
    max_id, updated = session.execute(latest).one()
    key = (int(max_id or 0), str(updated or ""), catalog_generation())
    with _LOCK:
        cached = _CACHE.get(engine)
        if cached is not None and cached.key == key and time.monotonic() - cached.loaded_at < CACHE_TTL_S:
            return cached
    index = _build_index(session, key)
    with _LOCK:
        _CACHE[engine] = index
    return index


def clear_catalog_index_cache() -> None:
    """Forget every cached index (e.g. after deleting tracks)."""
    with _LOCK:
        _CACHE.clear()


def _build_index(session: Session, key: tuple[int, str, int]) -> CatalogIndex:
    started = time.perf_counter()
    c = _TABLE.c
    query = (
        select(c.id, c.valence, c.energy, c.artists, c.genre, c.source, c.danceability, c.acousticness,
               c.loudness, c.tempo, c.speechiness, c.instrumentalness, c.popularity)
        .where(c.valence.is_not(None), c.energy.is_not(None))
        .order_by(c.id)
    )  # fmt: skip
    rows = session.execute(query).all()
    if sum(1 for row in rows if row.source != LEGACY_STARTER_SOURCE) >= STARTER_CUTOFF:
        rows = [row for row in rows if row.source != LEGACY_STARTER_SOURCE]
    artist_ptr, artist_codes, artist_lookup = _artist_table([row.artists for row in rows])
    genre_lookup: dict[str, int] = {}
    genre_names = [(row.genre or "").strip().lower() for row in rows]
    n = len(rows)

    def column(name: str, default: float | None = None) -> np.ndarray:
        value = np.fromiter((_nan_if_none(getattr(row, name)) for row in rows), dtype=np.float64, count=n)
        return value if default is None else np.where(np.isnan(value), default, value)

    valence, energy = column("valence"), column("energy")
    dance = column("danceability", features.DEFAULTS["danceability"])
    acoustic = column("acousticness", features.DEFAULTS["acousticness"])
    tempo = column("tempo", features.DEFAULTS["tempo"])
    speech = column("speechiness", features.DEFAULTS["speechiness"])
    aggressive_genre = np.fromiter((g in features.AGGRESSIVE_GENRES for g in genre_names), dtype=bool, count=n)
    index = CatalogIndex(
        key=key,
        loaded_at=time.monotonic(),
        ids=np.fromiter((row.id for row in rows), dtype=np.int64, count=n),
        valence=valence,
        energy=energy,
        brightness=features.brightness(valence, dance),
        arousal=features.arousal(energy, column("loudness", features.DEFAULTS["loudness"]), tempo, acoustic),
        aggression=features.aggression(valence, energy, aggressive_genre),
        restless=features.restlessness(
            acoustic, tempo, speech, column("instrumentalness", features.DEFAULTS["instrumentalness"])
        ),
        danceability=dance,
        popularity=column("popularity", 0.0) / 100.0,
        not_music=np.fromiter((g in features.NOT_MUSIC_GENRES for g in genre_names), dtype=bool, count=n)
        | (speech > features.SPOKEN),
        estimated=np.fromiter((_is_estimated(row.source) for row in rows), dtype=bool, count=n),
        genre_codes=np.fromiter(
            (genre_lookup.setdefault(g, len(genre_lookup)) if g else -1 for g in genre_names), dtype=np.int32, count=n
        ),
        artist_ptr=artist_ptr,
        artist_codes=artist_codes,
        artist_track=np.repeat(np.arange(n, dtype=np.int64), np.diff(artist_ptr)),
        artist_lookup=artist_lookup,
        genre_lookup=genre_lookup,
        tracks_by_source=tracks_by_source(session=session),
    )
    logger.info("catalog index: %d tracks in %.0f ms", len(index), 1000 * (time.perf_counter() - started))
    return index


def _artist_table(artists: list[str]) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """CSR arrays (pointers, codes) of each track's artists, and the name → code lookup."""
    lookup: dict[str, int] = {}
    ptr: list[int] = [0]
    codes: list[int] = []
    for names in artists:
        codes.extend(lookup.setdefault(a, len(lookup)) for a in artist_keys(names))
        ptr.append(len(codes))
    return np.asarray(ptr, dtype=np.int64), np.asarray(codes, dtype=np.int32), lookup


def _nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _is_estimated(source: str | None) -> bool:
    return source == LEGACY_STARTER_SOURCE or (source or "").startswith(PLAYLIST_SOURCE_PREFIX)
