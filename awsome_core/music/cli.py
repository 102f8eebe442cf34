"""``awsome catalog``: fill and inspect the music catalog.

    awsome catalog import FILE [FILE...] [--source NAME]   # CSV layouts: see awsome_core/music/layouts.py
    awsome catalog download [--url URL] [--blob-id ID | --no-verify] [--no-import]
    awsome catalog starter                                 # import the packaged starter catalog
    awsome catalog stats
    awsome recommend --emotion happy [--strategy match] [--count 10] [--user NAME] [--json] [--seed N]

``awsome recommend`` ranks exactly as the app does (``music.recommender``). With ``--user`` the user's likes,
dislikes and last day's picks count, and the list is recorded as recommended to them (as the API's
``GET /v1/recommendations`` does); without it nothing is stored.
The database is ``AWSOME_DATABASE_URL`` (or the SQLite file under ``AWSOME_DATA_DIR``); run
``awsome db upgrade`` first. The download goes to ``<data_dir>/catalog/`` and resumes where an
interrupted one stopped. Progress bars go to stderr; results are one line each on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from awsome_core.config import Settings
from awsome_core.emotions import EMOTIONS, one_hot
from awsome_core.errors import NotFound, StorageUnavailable
from awsome_core.music.catalog import catalog_stats, import_catalog_file
from awsome_core.music.download import CATALOG_BLOB_ID, default_catalog_path, download_catalog
from awsome_core.music.embed import embed_url, search_url, track_url
from awsome_core.music.recommender import STRATEGIES, recommend_tracks
from awsome_core.music.starter import ensure_starter_catalog

logger = logging.getLogger(__name__)


class ProgressBar:
    """``progress(done, total)`` callback drawing ``label [#####.....]  45%  9.1/20.1 MB`` on *stream*.

    Redraws at most every 0.1 s in place on a terminal; elsewhere (logs, CI) it writes a line per 10%.
    """

    def __init__(self, label: str, *, unit: str = "rows", stream: TextIO | None = None, width: int = 30) -> None:
        self.label, self.unit, self.width = label, unit, width
        self.stream = stream or sys.stderr
        self._tty = self.stream.isatty()
        self._last_draw = 0.0
        self._last_tenth = -1

    def __call__(self, done: int, total: int | None) -> None:
        finished = total is not None and done >= total
        if self._tty:
            now = time.monotonic()
            if finished or now - self._last_draw >= 0.1:
                self._last_draw = now
                self.stream.write("\r" + self._line(done, total) + ("\n" if finished else ""))
                self.stream.flush()
            return
        tenth = int(10 * done / total) if total else -1
        if tenth > self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(self._line(done, total) + "\n")

    def _line(self, done: int, total: int | None) -> str:
        amount = self._amount(done) + (f"/{self._amount(total)}" if total else "")
        amount += " MB" if self.unit == "bytes" else f" {self.unit}"
        if not total:
            return f"{self.label} {amount}"
        filled = int(self.width * min(done, total) / total)
        bar = "#" * filled + "." * (self.width - filled)
        return f"{self.label} [{bar}] {100 * done / total:3.0f}% {amount}"

    def _amount(self, n: int) -> str:
        return f"{n / 1e6:.1f}" if self.unit == "bytes" else f"{n:,}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="awsome catalog", description="Fill and inspect the music catalog.")
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import catalog CSV files (layout detected from the header)")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--source", help="value stored in tracks.source (default: the layout name)")
    down = commands.add_parser("download", help="download the ~114k-track Spotify Tracks Dataset and import it")
    down.add_argument("--url", help="where to fetch it (default: AWSOME_CATALOG_URL)")
    down.add_argument("--blob-id", default=CATALOG_BLOB_ID, help="git blob id the file must have")
    down.add_argument("--no-verify", action="store_true", help="skip the integrity check")
    down.add_argument("--no-import", action="store_true", help="only download the file")
    commands.add_parser("starter", help="import the packaged starter catalog (no network needed; idempotent)")
    commands.add_parser("stats", help="print how many tracks the catalog has, per source")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings.load()
    if args.command == "download":
        url = args.url or settings.catalog_url
        path = download_catalog(
            url=url,
            dest=default_catalog_path(settings.data_dir),
            expected_blob_id=None if args.no_verify else args.blob_id,
            progress=ProgressBar("download", unit="bytes"),
        )
        sys.stdout.write(f"catalog file: {path}\n")
        if args.no_import:
            return 0
        args.files, args.source = [path], "spotify_tracks_dataset"
    with _session(settings) as session:
        if args.command in ("import", "download"):
            return _import_files(session, args.files, args.source)
        if args.command == "starter":
            sys.stdout.write(f"added {ensure_starter_catalog(session=session)} starter tracks\n")
            return 0
        stats = catalog_stats(session=session)
        sources = ", ".join(f"{name}: {n:,}" for name, n in sorted(stats.by_source.items())) or "empty"
        sys.stdout.write(f"{stats.total:,} tracks ({stats.with_spotify_id:,} playable by id); {sources}\n")
        return 0


def _import_files(session: Session, files: list[Path], source: str | None) -> int:
    failed = 0
    for path in files:
        try:
            report = import_catalog_file(session=session, path=path, source=source, progress=ProgressBar(path.name))
        except (OSError, ValueError) as e:
            sys.stderr.write(f"awsome catalog: {path}: {e}\n")
            failed += 1
            continue
        sys.stdout.write(report.summary() + "\n")
    return 1 if failed else 0


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    from awsome_core.storage.db import check_database, make_engine, make_sessionmaker

    engine = make_engine(settings.effective_database_url)
    try:
        check_database(engine)
        if not inspect(engine).has_table("tracks"):
            raise StorageUnavailable("The database has no catalog table yet: run `awsome db upgrade` first.")
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _recommend_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="awsome recommend", description="Recommend tracks for a mood.")
    parser.add_argument("--emotion", required=True, choices=EMOTIONS)
    parser.add_argument("--strategy", choices=STRATEGIES, help="default: lift for sad/angry/fear/disgust, else match")
    parser.add_argument("--count", type=int, default=10, help="how many tracks (1-50, default 10)")
    parser.add_argument("--user", help="rank for this user's likes and dislikes, and record the list for them")
    parser.add_argument("--seed", type=int, default=0, help="another seed gives a slightly different list")
    parser.add_argument("--json", action="store_true", help="print JSON instead of one line per track")
    return parser


def recommend_main(argv: list[str] | None = None) -> int:
    """``awsome recommend``: print the ranked tracks (Spotify ids, titles, artists, features, explanations)."""
    args = _recommend_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if not 1 <= args.count <= 50:
        sys.stderr.write("awsome recommend: --count must be between 1 and 50\n")
        return 2
    with _session(Settings.load()) as session:
        tracks, strategy = _ranked(session, args)
    if args.json:
        payload = {"emotion": args.emotion, "strategy": strategy, "user": args.user, "tracks": tracks}
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return 0
    sys.stdout.write(f"{strategy} for {args.emotion}{f' ({args.user})' if args.user else ''}:\n")
    for t in tracks:
        features = ", ".join(
            f"{name} {t[name]:{spec}}{unit}"
            for name, spec, unit in (("valence", ".2f", ""), ("energy", ".2f", ""), ("tempo", ".0f", " BPM"),
                                     ("loudness", ".1f", " dB"))
            if t[name] is not None
        )  # fmt: skip
        artists, genre = str(t["artists"]).replace(";", ", "), t["genre"] or "?"
        line = f"{t['rank']:>2}. {t['spotify_id'] or '-':<22}  {t['title']} — {artists} [{genre}; {features}]"
        sys.stdout.write(f"{line}\n    {t['explanation']}\n")
    return 0


def _ranked(session: Session, args: argparse.Namespace) -> tuple[list[dict[str, object]], str]:
    """The picks as dicts; with ``--user``, ranked and recorded through the service the app and the API use."""
    probabilities = one_hot(args.emotion)
    if args.user:
        from awsome_core.services.recommendations import recommend_for_mood
        from awsome_core.storage.repository import get_user_by_username

        user = get_user_by_username(session=session, username=args.user.strip().lower())
        if user is None:
            raise NotFound(f"There is no user {args.user!r}.")
        factory = sessionmaker(bind=session.get_bind())
        result = recommend_for_mood(
            sessions=factory, user_id=user.id, emotion=args.emotion, strategy=args.strategy, count=args.count,
            seed=args.seed,
        )  # fmt: skip
        fields = ("rank", "spotify_id", "title", "artists", "genre", "valence", "energy", "tempo", "loudness",
                  "acousticness", "explanation", "open_url", "embed_url")  # fmt: skip
        return [{f: getattr(item, f) for f in fields} for item in result.items], result.strategy
    picks = recommend_tracks(
        session=session, user_id=None, probabilities=probabilities, strategy=args.strategy, n=args.count,
        seed=args.seed,
    )  # fmt: skip
    strategy = picks[0].strategy if picks else (args.strategy or "match")
    return [
        {
            "rank": p.rank, "spotify_id": p.track.spotify_id, "title": p.track.title, "artists": p.track.artists,
            "genre": p.track.genre, "valence": p.track.valence, "energy": p.track.energy, "tempo": p.track.tempo,
            "loudness": p.track.loudness, "acousticness": p.track.acousticness, "explanation": p.explanation,
            "open_url": track_url(p.track.spotify_id) or search_url(p.track.title, p.track.artists),
            "embed_url": embed_url(p.track.spotify_id),
        }
        for p in picks
    ], strategy  # fmt: skip
