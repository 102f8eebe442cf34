"""Download of the public catalog (the "Spotify Tracks Dataset", ~114,000 tracks, ~20 MB CSV).

The file is streamed into ``<dest>.part`` next to its destination; an interrupted download is resumed
with an HTTP ``Range`` request (a server that ignores ``Range`` makes it start over). The finished file
is checked against its git blob id -- ``sha1(b"blob <size>\\0" + content)``, the id GitHub and Hugging
Face show for it -- and only then renamed to *dest*. Failures raise
:class:`~awsome_core.errors.MusicProviderError` with a message for the user; the catalog already in
the database keeps working.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import requests
from sqlalchemy.orm import Session

from awsome_core.errors import MusicProviderError
from awsome_core.music.catalog import ImportReport, import_catalog_file

logger = logging.getLogger(__name__)

#: Git blob id of the full ``dataset.csv`` of ``maharshipandya/spotify-tracks-dataset``.
CATALOG_BLOB_ID: Final = "623114a306a820ed68a77be900643aa1f10764f8"
CATALOG_FILENAME: Final = "spotify_tracks_dataset.csv"
CHUNK_SIZE: Final = 1 << 16

#: ``progress(done, total)`` in bytes; *total* is None when the server does not say.
ByteProgress = Callable[[int, int | None], None]
#: ``progress(phase, done, total)``: phase ``"download"`` (bytes) or ``"import"`` (rows).
PhaseProgress = Callable[[str, int, int | None], None]


def default_catalog_path(data_dir: Path) -> Path:
    """Where the downloaded catalog lives: ``<data_dir>/catalog/spotify_tracks_dataset.csv``."""
    return Path(data_dir) / "catalog" / CATALOG_FILENAME


def git_blob_id(path: Path) -> str:
    """Return the git blob id (hex SHA-1 of ``b"blob <size>\\0"`` + content) of the file at *path*."""
    path = Path(path)
    digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size)  # git's object id, not a security hash
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_catalog(
    *,
    url: str,
    dest: Path,
    expected_blob_id: str | None = CATALOG_BLOB_ID,
    progress: ByteProgress | None = None,
    timeout: float = 15.0,
    http: requests.Session | None = None,
) -> Path:
    """Download *url* to *dest* (resuming a partial download) and verify it; return *dest*.

    If *dest* already exists and matches *expected_blob_id* (or no id is expected), nothing is fetched.

    :param expected_blob_id: the git blob id the full file must have; None skips the check.
    :param timeout: seconds to wait for the connection and for each read.
    :raises MusicProviderError: offline, HTTP error, interrupted (the part is kept: run again to
        resume), or integrity failure (the part is removed).
    """
    dest = Path(dest)
    if dest.exists() and (expected_blob_id is None or git_blob_id(dest) == expected_blob_id):
        logger.info("catalog file %s is already complete", dest)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    _fetch(url, part, progress=progress, timeout=timeout, http=http or requests.Session())
    actual = git_blob_id(part)
    if expected_blob_id is not None and actual != expected_blob_id:
        part.unlink(missing_ok=True)
        raise MusicProviderError(
            f"The downloaded catalog failed its integrity check (git blob {actual}, expected "
            f"{expected_blob_id}); the file was removed. Check the catalog URL setting and try again."
        )
    os.replace(part, dest)
    logger.info("downloaded %s (%d bytes) to %s", url, dest.stat().st_size, dest)
    return dest


def _fetch(url: str, part: Path, *, progress: ByteProgress | None, timeout: float, http: requests.Session) -> None:
    offset = part.stat().st_size if part.exists() else 0
    # identity: byte ranges must refer to the file itself, not to a gzip encoding of it
    headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={offset}-"} if offset else {})}
    host = urlsplit(url).netloc or url
    done = offset
    try:
        with http.get(url, headers=headers, stream=True, timeout=timeout) as response:
            if response.status_code == 416 and offset:  # nothing left to fetch: the part is complete
                return
            response.raise_for_status()
            if offset and response.status_code != 206:
                logger.info("%s ignored the Range request: starting over", host)
                offset = done = 0
            total = _total_size(response, offset)
            with part.open("ab" if offset else "wb") as f:
                if progress is not None:
                    progress(done, total)
                for chunk in response.iter_content(CHUNK_SIZE):
                    f.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
    except (requests.ConnectionError, requests.Timeout) as e:
        if done > offset:
            raise _interrupted(done, host) from e
        raise MusicProviderError(
            f"Cannot reach {host} to download the music catalog: you seem to be offline. "
            "The app keeps working with the tracks it already has; try again later."
        ) from e
    except requests.HTTPError as e:
        status = e.response.status_code if e.response is not None else "?"
        raise MusicProviderError(f"{host} refused the catalog download (HTTP {status}); try again later.") from e
    except requests.RequestException as e:
        raise _interrupted(done, host) from e
    if total is not None and done < total:
        raise _interrupted(done, host)


def _interrupted(done: int, host: str) -> MusicProviderError:
    return MusicProviderError(
        f"The catalog download from {host} was interrupted after {done / 1e6:.1f} MB; "
        "run it again to resume where it stopped."
    )


def _total_size(response: requests.Response, offset: int) -> int | None:
    """Full size of the file from ``Content-Range: bytes a-b/TOTAL`` or ``Content-Length`` + offset."""
    match = re.match(r"bytes\s+\d+-\d+/(\d+)", response.headers.get("Content-Range", ""))
    if match:
        return int(match.group(1))
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def install_public_catalog(
    *,
    session: Session,
    url: str,
    data_dir: Path,
    expected_blob_id: str | None = CATALOG_BLOB_ID,
    progress: PhaseProgress | None = None,
) -> ImportReport:
    """Download the public catalog into *data_dir* (resumable, verified) and import it.

    :param progress: ``progress(phase, done, total)`` with phase ``"download"`` (bytes) then ``"import"`` (rows).
    :raises MusicProviderError: offline or failed download; the catalog in the database is untouched.
    """

    def on_bytes(done: int, total: int | None) -> None:
        if progress is not None:
            progress("download", done, total)

    def on_rows(done: int, total: int) -> None:
        if progress is not None:
            progress("import", done, total)

    path = download_catalog(
        url=url, dest=default_catalog_path(data_dir), expected_blob_id=expected_blob_id, progress=on_bytes
    )
    return import_catalog_file(session=session, path=path, source="spotify_tracks_dataset", progress=on_rows)
