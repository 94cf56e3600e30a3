"""Channel backfill can resume where it stopped: keep the next list request to fetch.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

A first run killed at list page 30 of 100 must resume at page 30. The page number alone cannot
say how to get there for every dialect (Hanweb pages are POSTs; generic sites page by 下一页
links), so the request itself is kept as JSON.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_progress") as batch:
        batch.add_column(sa.Column("resume", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_progress") as batch:
        batch.drop_column("resume")
