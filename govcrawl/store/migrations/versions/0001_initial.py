"""Initial govcrawl archive: tables, full-text search, triggers and views.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Tables are spelled out here (not taken from schema.py) so this revision stays what it was when
later revisions change the schema. Timestamps are TEXT (ISO 8601 with offset).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, body_text, content='articles', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, body_text) VALUES (new.id, new.title, new.body_text);
    END""",
    """CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, body_text)
        VALUES ('delete', old.id, old.title, old.body_text);
    END""",
    """CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, body_text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, body_text)
        VALUES ('delete', old.id, old.title, old.body_text);
        INSERT INTO articles_fts(rowid, title, body_text) VALUES (new.id, new.title, new.body_text);
    END""",
]

POSTGRES_TRGM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_articles_title_trgm ON articles USING gin (title gin_trgm_ops)",
    "CREATE INDEX ix_articles_body_trgm ON articles USING gin (body_text gin_trgm_ops)",
]


def _views(dialect: str) -> list[str]:
    concat = (
        "group_concat(DISTINCT p.name)"
        if dialect == "sqlite"
        else "string_agg(DISTINCT p.name, ', ')"
    )
    return [
        """CREATE VIEW article_list AS
        SELECT a.id, a.portal_id, p.name AS portal, a.title, a.published_at, a.source, a.author,
               a.editor, a.url, COALESCE(a.duplicate_of, a.id) AS head_id,
               a.duplicate_of IS NOT NULL AS is_copy, a.similarity, a.is_mirror,
               a.first_seen, a.last_seen, a.removed_at
        FROM articles a JOIN portals p ON p.id = a.portal_id""",
        f"""CREATE VIEW syndication_groups AS
        SELECT h.id AS head_id, h.title AS head_title, h.published_at AS head_published_at,
               hp.name AS head_portal, COUNT(c.id) AS copies, {concat} AS copy_portals,
               MIN(c.similarity) AS min_similarity
        FROM articles h
        JOIN portals hp ON hp.id = h.portal_id
        JOIN articles c ON c.duplicate_of = h.id
        JOIN portals p ON p.id = c.portal_id
        WHERE h.duplicate_of IS NULL
        GROUP BY h.id, h.title, h.published_at, hp.name""",
        """CREATE VIEW rejects_by_kind AS
        SELECT kind, reason, portal_id, COUNT(*) AS n, MIN(at) AS first_at, MAX(at) AS last_at
        FROM rejects GROUP BY kind, reason, portal_id""",
        """CREATE VIEW run_summary AS
        SELECT r.id, r.spider, r.status, r.started_at, r.finished_at,
               (SELECT COUNT(*) FROM responses s WHERE s.run_id = r.id) AS responses,
               (SELECT COUNT(*) FROM rejects j WHERE j.run_id = r.id) AS rejects
        FROM runs r""",
    ]


def upgrade() -> None:
    op.create_table(
        "fetch_state",
        sa.Column("url_key", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("last_kind", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_try_at", sa.Text(), nullable=False),
        sa.Column("next_try_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("url_key", name=op.f("pk_fetch_state")),
    )
    op.create_index(
        op.f("ix_fetch_state_next_try_at"), "fetch_state", ["next_try_at"], unique=False
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meta")),
    )
    op.create_table(
        "portals",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=True),
        sa.Column("province", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portals")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("spider", sa.Text(), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_spider"), "runs", ["spider"], unique=False)
    op.create_table(
        "channel_progress",
        sa.Column("portal_id", sa.Text(), nullable=False),
        sa.Column("channel_url", sa.Text(), nullable=False),
        sa.Column("backfill_complete", sa.Boolean(), nullable=False),
        sa.Column("last_page", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_channel_progress_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("portal_id", "channel_url", name=op.f("pk_channel_progress")),
    )
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("request_headers", sa.JSON(), nullable=False),
        sa.Column("request_body", sa.LargeBinary(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("body_compression", sa.Text(), nullable=False),
        sa.Column("body_size", sa.Integer(), nullable=False),
        sa.Column("body_sha256", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.Text(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("encoding", sa.Text(), nullable=True),
        sa.Column("encoding_reason", sa.Text(), nullable=True),
        sa.Column("encoding_confidence", sa.Float(), nullable=True),
        sa.Column("replaced_bytes", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("portal_id", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_responses_portal_id_portals")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_responses_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
    )
    op.create_index(op.f("ix_responses_portal_id"), "responses", ["portal_id"], unique=False)
    op.create_index(op.f("ix_responses_run_id"), "responses", ["run_id"], unique=False)
    op.create_index(op.f("ix_responses_url_key"), "responses", ["url_key"], unique=False)
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("portal_id", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("canonical_url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("editor", sa.Text(), nullable=True),
        sa.Column("published_at", sa.Text(), nullable=True),
        sa.Column("published_precision", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_original", sa.Text(), nullable=True),
        sa.Column("byline_raw", sa.Text(), nullable=True),
        sa.Column("script", sa.Text(), nullable=True),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("repairs", sa.JSON(), nullable=False),
        sa.Column("is_mirror", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.Text(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("first_seen", sa.Text(), nullable=False),
        sa.Column("last_seen", sa.Text(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["articles.id"], name=op.f("fk_articles_duplicate_of_articles")
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_articles_portal_id_portals")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["responses.id"], name=op.f("fk_articles_response_id_responses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("url_key", name=op.f("uq_articles_url_key")),
    )
    op.create_index(op.f("ix_articles_content_hash"), "articles", ["content_hash"], unique=False)
    op.create_index(op.f("ix_articles_duplicate_of"), "articles", ["duplicate_of"], unique=False)
    op.create_index(op.f("ix_articles_portal_id"), "articles", ["portal_id"], unique=False)
    op.create_table(
        "rejects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.Text(), nullable=False),
        sa.Column("portal_id", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_rejects_portal_id_portals")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["responses.id"], name=op.f("fk_rejects_response_id_responses")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_rejects_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejects")),
    )
    op.create_index(op.f("ix_rejects_kind"), "rejects", ["kind"], unique=False)
    op.create_index(op.f("ix_rejects_run_id"), "rejects", ["run_id"], unique=False)
    op.create_index(op.f("ix_rejects_url_key"), "rejects", ["url_key"], unique=False)
    op.create_table(
        "article_bands",
        sa.Column("band", sa.SmallInteger(), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_bands_article_id_articles")
        ),
    )
    op.create_index(
        op.f("ix_article_bands_article_id"), "article_bands", ["article_id"], unique=False
    )
    op.create_index("ix_article_bands_key_band", "article_bands", ["key", "band"], unique=False)
    op.create_table(
        "article_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_events_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_events")),
    )
    op.create_index(
        op.f("ix_article_events_article_id"), "article_events", ["article_id"], unique=False
    )
    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("observed_at", sa.Text(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("old_values", sa.JSON(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_versions_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_article_versions_response_id_responses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_versions")),
    )
    op.create_index(
        op.f("ix_article_versions_article_id"), "article_versions", ["article_id"], unique=False
    )
    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_media_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
    )
    op.create_index(op.f("ix_media_article_id"), "media", ["article_id"], unique=False)

    op.bulk_insert(
        sa.table("meta", sa.column("key", sa.Text()), sa.column("value", sa.Text())),
        [{"key": "format", "value": "govcrawl-archive"}],
    )
    dialect = op.get_bind().dialect.name
    for statement in (SQLITE_FTS if dialect == "sqlite" else POSTGRES_TRGM) + _views(dialect):
        op.execute(statement)


def downgrade() -> None:
    for view in ("run_summary", "rejects_by_kind", "syndication_groups", "article_list"):
        op.execute(f"DROP VIEW IF EXISTS {view}")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS articles_fts")
    for table in (
        "article_bands",
        "media",
        "article_versions",
        "article_events",
        "rejects",
        "articles",
        "responses",
        "fetch_state",
        "channel_progress",
        "runs",
        "portals",
        "meta",
    ):
        op.drop_table(table)
