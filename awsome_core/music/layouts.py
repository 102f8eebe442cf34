"""CSV layouts of public Spotify track datasets, parsed into :class:`~awsome_core.music.records.TrackRecord`.

Known layouts (detected from the header row, first match wins):

``spotify_tracks_dataset``
    Maharshi Pandya's "Spotify Tracks Dataset" (Hugging Face / Kaggle, 114,000 rows):
    ``track_id, artists (";"-separated), album_name, track_name, popularity, duration_ms, explicit,
    danceability, energy, key, loudness, mode, speechiness, acousticness, instrumentalness, liveness,
    valence, tempo, time_signature, track_genre``.
``data_moods``
    ``name, album, artist, id, release_date, popularity, length (ms), <features>, mood``.
``song_mood_data``
    ``track_name, track_id, artist_name, artist_id, album_name, album_id, popularity, mood, <features>,
    duration_ms``.
``generic``
    Any file with an id column (``id``/``track_id``/``spotify_id``), a title (``name``/``track_name``/
    ``title``), artists (``artists``/``artist``/``artist_name``; a Python-list string such as
    ``"['A', 'B']"`` is accepted) and ``valence`` + ``energy`` -- e.g. Kaggle's 600k ``tracks.csv``.

Row rules: the Spotify id must match ``^[0-9A-Za-z]{22}$``; valence and energy must be numbers in
[0, 1]; other features out of range become ``None``. A row with a valid id and features but no
title/artist is kept (the embed player shows Spotify's own metadata). Repeated ids keep the first
row, with the majority mood label across the repeats (ties: the label seen first).
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import io
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from awsome_core.music.embed import SPOTIFY_ID_RE
from awsome_core.music.records import TrackRecord

SKIP_BAD_ID: Final = "invalid or missing Spotify track id"
SKIP_BAD_FEATURES: Final = "missing or out-of-range valence/energy"
SKIP_DUPLICATE: Final = "duplicate track id in the file"
NOTE_NO_METADATA: Final = "kept without title/artist (id and audio features are valid)"

#: Columns shared by every layout that carry Spotify audio features.
_FEATURES: Final = {
    "popularity": "popularity",
    "duration_ms": "duration_ms",
    "explicit": "explicit",
    "valence": "valence",
    "energy": "energy",
    "danceability": "danceability",
    "acousticness": "acousticness",
    "instrumentalness": "instrumentalness",
    "speechiness": "speechiness",
    "liveness": "liveness",
    "loudness": "loudness",
    "tempo": "tempo",
}
_UNIT_FEATURES: Final = ("danceability", "acousticness", "instrumentalness", "speechiness", "liveness")
_MAX_LEN: Final = {"title": 255, "artists": 512, "album": 255, "genre": 64, "mood_tag": 16}


@dataclass(frozen=True)
class Layout:
    """A CSV layout: ``columns`` maps a :class:`TrackRecord` field to the CSV column holding it."""

    name: str
    columns: Mapping[str, str]


_KNOWN: Final = (
    Layout(
        "spotify_tracks_dataset",
        {"spotify_id": "track_id", "title": "track_name", "artists": "artists", "album": "album_name",
         "genre": "track_genre", **_FEATURES},
    ),
    Layout(
        "data_moods",
        {"spotify_id": "id", "title": "name", "artists": "artist", "album": "album", "mood_tag": "mood",
         **_FEATURES, "duration_ms": "length"},
    ),
    Layout(
        "song_mood_data",
        {"spotify_id": "track_id", "title": "track_name", "artists": "artist_name", "album": "album_name",
         "mood_tag": "mood", **_FEATURES},
    ),
)  # fmt: skip
_ALIASES: Final = {
    "spotify_id": ("id", "track_id", "spotify_id"),
    "title": ("name", "track_name", "title"),
    "artists": ("artists", "artist", "artist_name", "artist_names"),
    "album": ("album", "album_name"),
    "genre": ("genre", "track_genre"),
    "mood_tag": ("mood", "mood_tag"),
}


@dataclass
class ParsedFile:
    """What :func:`parse_catalog_csv` found: unique records plus counts of what was dropped and why."""

    layout: str
    rows: int = 0
    records: list[TrackRecord] = dataclasses.field(default_factory=list)
    skipped: Counter[str] = dataclasses.field(default_factory=Counter)
    notes: Counter[str] = dataclasses.field(default_factory=Counter)


def detect_layout(header: list[str]) -> Layout:
    """Return the layout whose columns are all in *header*; raise ``ValueError`` naming the known ones."""
    present = set(header)
    for layout in _KNOWN:
        required = {c for f, c in layout.columns.items() if f not in _FEATURES} | {"valence", "energy"}
        if required <= present:
            return Layout(layout.name, {f: c for f, c in layout.columns.items() if c in present})
    columns = {f: next((a for a in aliases if a in present), None) for f, aliases in _ALIASES.items()}
    columns.update({f: c for f, c in _FEATURES.items() if c in present})
    if all(columns.get(f) for f in ("spotify_id", "title", "artists", "valence", "energy")):
        return Layout("generic", {f: c for f, c in columns.items() if c})
    known = ", ".join(layout.name for layout in _KNOWN)
    raise ValueError(
        f"unrecognised CSV layout (columns: {', '.join(header[:12])}...); known layouts: {known}, or any file "
        "with id, name/track_name, artists, valence and energy columns"
    )


def parse_catalog_csv(path: Path | IO[bytes], *, source: str | None = None) -> ParsedFile:
    """Read *path* (or a binary stream such as an upload), detect its layout, return unique records."""
    with _open_text(path) as f:
        reader = csv.DictReader(f)
        layout = detect_layout(list(reader.fieldnames or []))
        parsed = ParsedFile(layout=layout.name)
        by_id: dict[str, TrackRecord] = {}
        moods: dict[str, Counter[str]] = {}
        for row in reader:
            parsed.rows += 1
            record = _parse_row(row, layout, source or layout.name, parsed)
            if record is None:
                continue
            sid = str(record.spotify_id)
            if record.mood_tag:
                moods.setdefault(sid, Counter())[record.mood_tag] += 1
            if sid in by_id:
                parsed.skipped[SKIP_DUPLICATE] += 1
                continue
            by_id[sid] = record
    parsed.records = [_with_majority_mood(r, moods.get(str(r.spotify_id))) for r in by_id.values()]
    return parsed


def _open_text(path: Path | IO[bytes]) -> IO[str]:
    if isinstance(path, str | Path):
        return Path(path).open(encoding="utf-8-sig", newline="")
    return io.TextIOWrapper(path, encoding="utf-8-sig", newline="")


def _with_majority_mood(record: TrackRecord, votes: Counter[str] | None) -> TrackRecord:
    if not votes or len(votes) == 1:
        return record
    best = max(votes.values())
    winner = next(mood for mood in votes if votes[mood] == best)  # Counter keeps first-seen order
    return dataclasses.replace(record, mood_tag=winner)


def _parse_row(row: Mapping[str, Any], layout: Layout, source: str, parsed: ParsedFile) -> TrackRecord | None:
    cols = layout.columns
    sid = _text(row.get(cols["spotify_id"]))
    if not SPOTIFY_ID_RE.match(sid):
        parsed.skipped[SKIP_BAD_ID] += 1
        return None
    valence, energy = _unit(row.get(cols["valence"])), _unit(row.get(cols["energy"]))
    if valence is None or energy is None:
        parsed.skipped[SKIP_BAD_FEATURES] += 1
        return None
    title, artists = _field(row, cols, "title"), _artists(row.get(cols["artists"]))
    if not title or not artists:
        parsed.notes[NOTE_NO_METADATA] += 1
    duration = _integer(_cell(row, cols, "duration_ms"), 0, 24 * 3600 * 1000)
    tempo = _number(_cell(row, cols, "tempo"))
    loudness = _number(_cell(row, cols, "loudness"))
    return TrackRecord(
        spotify_id=sid,
        title=title,
        artists=artists[: _MAX_LEN["artists"]],
        album=_field(row, cols, "album") or None,
        genre=_field(row, cols, "genre") or None,
        mood_tag=(_field(row, cols, "mood_tag") or "").lower() or None,
        popularity=_integer(_cell(row, cols, "popularity"), 0, 100),
        duration_ms=duration if duration else None,
        explicit=_boolean(_cell(row, cols, "explicit")),
        valence=valence,
        energy=energy,
        tempo=tempo if tempo is not None and 0 < tempo < 400 else None,
        loudness=loudness if loudness is not None and -80 <= loudness <= 10 else None,
        source=source[:64],
        **{name: _unit(_cell(row, cols, name)) for name in _UNIT_FEATURES},
    )


def _cell(row: Mapping[str, Any], cols: Mapping[str, str], name: str) -> Any:
    column = cols.get(name)
    return row.get(column) if column else None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _field(row: Mapping[str, Any], cols: Mapping[str, str], name: str) -> str:
    return _text(_cell(row, cols, name))[: _MAX_LEN[name]]


def _artists(value: Any) -> str:
    """Artists ";"-separated; a Python-list string (``"['A', 'B']"``) is unpacked."""
    text = _text(value)
    if text.startswith("[") and text.endswith("]"):
        try:
            items = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            items = None
        if isinstance(items, list | tuple):
            return ";".join(str(i).strip() for i in items if str(i).strip())
    return text


def _number(value: Any) -> float | None:
    try:
        number = float(_text(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _unit(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and 0.0 <= number <= 1.0 else None


def _integer(value: Any, low: int, high: int) -> int | None:
    number = _number(value)
    return int(number) if number is not None and low <= number <= high else None


def _boolean(value: Any) -> bool | None:
    text = _text(value).lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None
