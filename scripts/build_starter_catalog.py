"""Build the starter catalog packaged with the app: ``awsome_core/music/starter_catalog.csv.gz``.

    .venv/bin/python scripts/build_starter_catalog.py            # reads ../shared/data/music, writes the file
    .venv/bin/python scripts/build_starter_catalog.py --check    # exit 1 if the committed file differs

Input: ``spotify_tracks_114k_sample15k.csv``, a verbatim 15,000-row sample of the Spotify Tracks Dataset
(Maharshi Pandya, BSD licence per its dataset card; see NOTICE). Output: a subset of those rows, unmodified and
in the same columns, gzip-compressed with a fixed timestamp so the same input always gives the same bytes.

Selection (deterministic, no randomness):

1. Drop rows without a title or artist, repeats of a track id (the first row is kept), and every track id
   that also appears in ``data_moods.csv`` or ``song_mood_data.csv``: those two files carry no licence and
   none of their rows may ship, not even by coincidence of id.
2. Cut the valence × energy plane into :data:`GRID` × :data:`GRID` cells. Each cell gets at most
   :data:`PER_CELL` tracks; within a cell the genres take turns (the genre with the fewest picks so far,
   in the whole catalog, goes next), each genre offering its most popular track not yet taken, and no
   artist gets more than :data:`PER_ARTIST` tracks. So sparse corners (bright but quiet, dark but calm)
   keep all they have, dense middles are thinned, and no genre crowds out the others.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import logging
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[1]
MUSIC_DIR: Final = ROOT.parent / "shared" / "data" / "music"
SOURCE: Final = "spotify_tracks_114k_sample15k.csv"
UNLICENSED: Final = ("data_moods.csv", "song_mood_data.csv")
OUTPUT: Final = ROOT / "awsome_core" / "music" / "starter_catalog.csv.gz"
GRID: Final = 10
PER_CELL: Final = 30
PER_ARTIST: Final = 3

logger = logging.getLogger("build_starter_catalog")


def unlicensed_ids(music_dir: Path) -> set[str]:
    """Track ids of the two unlicensed files (read only to keep them out)."""
    ids: set[str] = set()
    for name, column in zip(UNLICENSED, ("id", "track_id"), strict=True):
        with (music_dir / name).open(encoding="utf-8", newline="") as f:
            ids.update(row[column] for row in csv.DictReader(f))
    return ids


def select_rows(header: list[str], rows: list[list[str]], banned: set[str]) -> list[list[str]]:
    """The starter subset of *rows* (see the module doc), in their original order."""
    col = {name: i for i, name in enumerate(header)}
    seen: set[str] = set()
    cells: dict[tuple[int, int], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, row in enumerate(rows):
        sid = row[col["track_id"]]
        if sid in seen or sid in banned or not row[col["track_name"]].strip() or not row[col["artists"]].strip():
            continue
        seen.add(sid)
        cell = tuple(min(GRID - 1, int(float(row[col[f]]) * GRID)) for f in ("valence", "energy"))
        cells[(cell[0], cell[1])][row[col["track_genre"]]].append(i)
    for by_genre in cells.values():
        for picks in by_genre.values():
            picks.sort(key=lambda i: (-int(rows[i][col["popularity"]]), rows[i][col["track_id"]]))
    genre_count: Counter[str] = Counter()
    artist_count: Counter[str] = Counter()
    chosen: list[int] = []
    for cell in sorted(cells):
        queues = {genre: list(picks) for genre, picks in cells[cell].items()}
        taken = 0
        while taken < PER_CELL and queues:
            genre = min(queues, key=lambda g: (genre_count[g], g))
            queue = queues[genre]
            while queue and _artist_full(rows[queue[0]][col["artists"]], artist_count):
                queue.pop(0)
            if not queue:
                del queues[genre]
                continue
            i = queue.pop(0)
            chosen.append(i)
            genre_count[genre] += 1
            artist_count.update(_artists(rows[i][col["artists"]]))
            taken += 1
    return [rows[i] for i in sorted(chosen)]


def _artists(value: str) -> list[str]:
    return [a.strip().lower() for a in value.split(";") if a.strip()]


def _artist_full(value: str, counts: Counter[str]) -> bool:
    return any(counts[a] >= PER_ARTIST for a in _artists(value))


def render(header: list[str], rows: list[list[str]]) -> bytes:
    """CSV (``\\n`` line ends) gzip-compressed with mtime 0: the same rows give the same bytes."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as f:
        f.write(text.getvalue().encode("utf-8"))
    return buffer.getvalue()


def build(music_dir: Path) -> tuple[bytes, list[list[str]], list[str]]:
    with (music_dir / SOURCE).open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    chosen = select_rows(header, rows, unlicensed_ids(music_dir))
    return render(header, chosen), chosen, header


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--music-dir", type=Path, default=MUSIC_DIR)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare with the file on disk instead of writing")
    args = parser.parse_args(argv)
    data, chosen, header = build(args.music_dir)
    genres = Counter(row[header.index("track_genre")] for row in chosen)
    logger.info("%d tracks, %d genres (%d–%d per genre), %.0f KB", len(chosen), len(genres), min(genres.values()),
                max(genres.values()), len(data) / 1024)  # fmt: skip
    if args.check:
        same = args.output.exists() and args.output.read_bytes() == data
        logger.info("%s is %s", args.output, "up to date" if same else "OUT OF DATE: run without --check")
        return 0 if same else 1
    args.output.write_bytes(data)
    logger.info("wrote %s", args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
