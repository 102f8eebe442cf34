"""The account's own settings and data: the photo opt-in, export, and deleting the whole account."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from awsome_core.errors import NotFound
from awsome_core.history import userdata
from awsome_core.storage import repository
from awsome_core.storage.db import session_scope

ExportFormat = Literal["csv", "json"]
ExportKind = Literal["readings", "music"]


def set_store_images(*, sessions: sessionmaker[Session], user_id: int, enabled: bool) -> bool:
    """Turn keeping photos on or off (one commit); return the new value.

    Off stops keeping new photos; photos already kept stay with their readings until those (or the history,
    or the account) are deleted.
    """
    with session_scope(sessions) as session:
        user = repository.get_user(session=session, user_id=user_id)
        if user is None:
            raise NotFound("Your account could not be found.")
        user.store_images = bool(enabled)
        session.commit()
        return user.store_images


def delete_account(*, sessions: sessionmaker[Session], user_id: int, data_dir: Path | None = None) -> None:
    """Delete the user with every reading, photo, recommendation, like and API token (one commit).

    Photo files from before photos moved into the database are removed after the commit.
    """
    with session_scope(sessions) as session:
        if repository.get_user(session=session, user_id=user_id) is None:
            raise NotFound("Your account could not be found.")
        paths = repository.list_image_paths(session=session, user_id=user_id)
        repository.delete_user(session=session, user_id=user_id)
        session.commit()
    if paths and data_dir is not None:
        userdata.remove_image_files(paths, base_dir=data_dir)


def export(
    *,
    sessions: sessionmaker[Session],
    user_id: int,
    fmt: ExportFormat,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Collection[str] | None = None,
    tz: str | None = None,
    digits: int | None = None,
    what: ExportKind = "readings",
) -> str:
    """The user's readings in ``[since, until)`` as CSV or JSON text (columns: ``userdata.EXPORT_COLUMNS``),
    or with ``what="music"`` every track recommended to them with their rating (``userdata.MUSIC_COLUMNS``;
    the range and sources do not apply). Times in *tz* (None: UTC); floats rounded to *digits* decimals (None:
    exact). The corrected emotion wins where there is one (``userdata``'s docstring says how)."""
    with session_scope(sessions) as session:
        if what == "music":
            rows = list(userdata.music_rows(session=session, user_id=user_id, tz=tz))
        else:
            rows = list(
                userdata.export_rows(
                    session=session, user_id=user_id, since=since, until=until, sources=sources, tz=tz, digits=digits
                )
            )
    columns = userdata.MUSIC_COLUMNS if what == "music" else userdata.EXPORT_COLUMNS
    return userdata.export_csv(rows, columns) if fmt == "csv" else userdata.export_json(rows)
