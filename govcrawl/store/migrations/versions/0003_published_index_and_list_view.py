"""Listing by publish date uses an index; article_list gains province and publish month.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

Newest-first listings and date-range filters scanned the whole table; facets on province and
month needed joins or expressions that browsing tools cannot express.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_VIEW = """CREATE VIEW article_list AS
        SELECT a.id, a.portal_id, p.name AS portal, a.title, a.published_at, a.source, a.author,
               a.editor, a.url, COALESCE(a.duplicate_of, a.id) AS head_id,
               a.duplicate_of IS NOT NULL AS is_copy, a.similarity, a.is_mirror,
               a.first_seen, a.last_seen, a.removed_at
        FROM articles a JOIN portals p ON p.id = a.portal_id"""

NEW_VIEW = """CREATE VIEW article_list AS
        SELECT a.id, a.portal_id, p.name AS portal, p.province, p.level, a.title,
               a.published_at, substr(a.published_at, 1, 7) AS publish_month, a.source,
               a.author, a.editor, a.url, COALESCE(a.duplicate_of, a.id) AS head_id,
               a.duplicate_of IS NOT NULL AS is_copy, a.similarity, a.is_mirror,
               a.first_seen, a.last_seen, a.removed_at
        FROM articles a JOIN portals p ON p.id = a.portal_id"""


def upgrade() -> None:
    op.create_index("ix_articles_published_at", "articles", ["published_at"])
    op.execute("DROP VIEW article_list")
    op.execute(NEW_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW article_list")
    op.execute(OLD_VIEW)
    op.drop_index("ix_articles_published_at", table_name="articles")
