"""tracks.updated_at: when an import last wrote a track, indexed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

The recommender keeps a snapshot of the catalog per process and rebuilds it when the catalog changed
(``awsome_core/music/index.py``). An import by another replica that only updates tracks in place leaves
``max(id)`` as it was; ``max(updated_at)``, an index lookup, shows it. Rows written before this revision
keep NULL (``max`` ignores it); every insert and update by the import sets it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATETIME_UTC = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("tracks") as batch:  # batch: SQLite cannot add an indexed column otherwise
        batch.add_column(sa.Column("updated_at", DATETIME_UTC, nullable=True))
        batch.create_index("ix_tracks_updated_at", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tracks") as batch:
        batch.drop_index("ix_tracks_updated_at")
        batch.drop_column("updated_at")
