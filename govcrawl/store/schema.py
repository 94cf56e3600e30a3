"""The archive's tables: one SQLAlchemy Core definition for SQLite and PostgreSQL.

Timestamps are ISO 8601 TEXT with an explicit offset (`IsoTimestamp`): SQLAlchemy's DateTime on
SQLite silently drops the offset. Instants the archive makes itself are stored in UTC so TEXT
comparison orders them; a page's `published_at` is kept exactly as extracted (a bare date stays a
bare date, never midnight). The migrations in `migrations/versions` create these tables
explicitly; this module is what the code reads and writes through.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

#: Written to `meta` by the first migration: how open_archive recognises a govcrawl archive.
ARCHIVE_MARKER = ("format", "govcrawl-archive")

RUN_STATUSES = ("running", "finished", "failed", "aborted")


def utc_iso(value: datetime) -> str:
    """A timezone-aware datetime as ISO 8601 text in UTC (`…+00:00`); naive values are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the archive stores aware timestamps only")
    return value.astimezone(UTC).isoformat()


class IsoTimestamp(TypeDecorator):
    """An aware datetime stored as ISO 8601 TEXT with its offset (normalised to UTC)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: datetime | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return utc_iso(parsed)
        return utc_iso(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

portals = Table(
    "portals",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("level", Text),
    Column("province", Text),
    Column("extra", JSON, nullable=False, default=dict),
    Column("updated_at", IsoTimestamp, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("spider", Text, nullable=False, index=True),
    Column("arguments", JSON, nullable=False, default=dict),
    Column("started_at", IsoTimestamp, nullable=False),
    Column("finished_at", IsoTimestamp),
    Column("status", Text, nullable=False),
    Column("stats", JSON, nullable=False, default=dict),
    Column("pid", Integer),
)

responses = Table(
    "responses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    Column("url_key", Text, nullable=False, index=True),
    Column("final_url", Text),
    Column("status", Integer, nullable=False),
    Column("method", Text, nullable=False, default="GET"),
    Column("headers", JSON, nullable=False),
    Column("request_headers", JSON, nullable=False, default=dict),
    Column("request_body", LargeBinary),
    Column("body", LargeBinary, nullable=False),  # compressed: see store/bodies.py
    Column("body_compression", Text, nullable=False, default="zstd"),
    Column("body_size", Integer, nullable=False),
    Column("body_sha256", Text, nullable=False),
    Column("fetched_at", IsoTimestamp, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("encoding", Text),
    Column("encoding_reason", Text),
    Column("encoding_confidence", Float),
    Column("replaced_bytes", Integer, nullable=False, default=0),
    Column("kind", Text, nullable=False),
    Column("reason", Text),
    Column("portal_id", Text, ForeignKey("portals.id"), index=True),
    Column("run_id", Integer, ForeignKey("runs.id"), index=True),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portal_id", Text, ForeignKey("portals.id"), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("canonical_url", Text, nullable=False),
    # The identity: canonical URL without its scheme (http and https are one article).
    Column("url_key", Text, nullable=False, unique=True),
    Column("title", Text),
    Column("source", Text),
    Column("author", Text),
    Column("editor", Text),
    # As extracted: "2022-05-10" or "2022-05-10T10:23:00+08:00".
    Column("published_at", Text, index=True),
    Column("published_precision", Text),
    Column("body_text", Text),
    Column("body_original", Text),
    Column("byline_raw", Text),
    Column("script", Text),
    Column("provenance", JSON, nullable=False, default=dict),
    Column("warnings", JSON, nullable=False, default=list),
    Column("repairs", JSON, nullable=False, default=list),
    Column("is_mirror", Boolean, nullable=False, default=False),
    Column("content_hash", Text, index=True),
    Column("fingerprint", Text),
    Column("duplicate_of", Integer, ForeignKey("articles.id"), index=True),
    Column("similarity", Float),
    Column("first_seen", IsoTimestamp, nullable=False),
    Column("last_seen", IsoTimestamp, nullable=False),
    Column("response_id", Integer, ForeignKey("responses.id")),
    Column("removed_at", IsoTimestamp),
)

article_events = Table(
    "article_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False, index=True),
    Column("at", IsoTimestamp, nullable=False),
    Column("event", Text, nullable=False),  # removed, relinked, reprocessed, …
    Column("detail", JSON, nullable=False, default=dict),
)

article_versions = Table(
    "article_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False, index=True),
    Column("observed_at", IsoTimestamp, nullable=False),
    Column("changed", JSON, nullable=False),  # names of the fields that changed
    Column("old_values", JSON, nullable=False),  # their values before the change
    Column("response_id", Integer, ForeignKey("responses.id")),
)

media = Table(
    "media",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("text", Text),
    Column("path", Text),  # stored file, when downloaded
)

article_bands = Table(
    "article_bands",
    metadata,
    Column("band", SmallInteger, nullable=False),
    Column("key", BigInteger, nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False, index=True),
    Index("ix_article_bands_key_band", "key", "band"),
)

rejects = Table(
    "rejects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    Column("url_key", Text, nullable=False, index=True),
    Column("portal_id", Text, ForeignKey("portals.id")),
    Column("run_id", Integer, ForeignKey("runs.id"), index=True),
    Column("kind", Text, nullable=False, index=True),
    Column("reason", Text),
    Column("detail", Text),
    Column("response_id", Integer, ForeignKey("responses.id")),
    Column("at", IsoTimestamp, nullable=False),
)

channel_progress = Table(
    "channel_progress",
    metadata,
    Column("portal_id", Text, ForeignKey("portals.id"), primary_key=True),
    Column("channel_url", Text, primary_key=True),
    Column("backfill_complete", Boolean, nullable=False, default=False),
    Column("last_page", Integer, nullable=False, default=0),
    Column("updated_at", IsoTimestamp, nullable=False),
    # The next list request of an unfinished backfill.
    Column("resume", JSON(none_as_null=True), nullable=True),
)

fetch_state = Table(
    "fetch_state",
    metadata,
    Column("url_key", Text, primary_key=True),
    Column("url", Text, nullable=False),
    Column("last_kind", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_try_at", IsoTimestamp, nullable=False),
    Column("next_try_at", IsoTimestamp, nullable=False, index=True),
)
