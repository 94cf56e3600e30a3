"""An archive made by an older govcrawl opens, upgraded, with today's code; data intact."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from govcrawl.store import db


def test_an_archive_at_the_first_revision_is_upgraded_in_place(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = db.make_engine(url)
    config = db._alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(text("INSERT INTO portals (id, name, extra, updated_at) VALUES ('p', '甲', '{}', '2026-01-01T00:00:00+00:00')"))
        conn.execute(text(
            "INSERT INTO channel_progress (portal_id, channel_url, backfill_complete, "
            "last_page, updated_at) VALUES ('p', 'http://x/', 0, 7, '2026-01-01T00:00:00+00:00')"))
    engine.dispose()
    archive = db.open_archive(url)
    try:
        progress = archive.get_channel_progress("p", "http://x/")
        assert progress["last_page"] == 7 and progress["resume"] is None
        with archive.read_engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == db.head_revision() != "0001"
    finally:
        archive.close()


def test_the_migrations_build_exactly_the_tables_schema_py_declares(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from govcrawl.store.schema import metadata

    archive = db.open_archive(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with archive.read_engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        archive.close()
    # The FTS5 shadow tables exist only in migrations: SQLAlchemy cannot declare them.
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("articles_fts"))]
    assert diff == []


def test_upgrading_to_two_character_search_reindexes_existing_articles(tmp_path):
    from govcrawl.store import query

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = db.make_engine(url)
    config = db._alembic_config()
    stamp = "'2026-01-01T00:00:00+00:00'"
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        conn.execute(text("INSERT INTO portals (id, name, extra, updated_at) "
                          f"VALUES ('p', '甲', '{{}}', {stamp})"))
        conn.execute(text(
            "INSERT INTO responses (url, url_key, status, method, headers, request_headers, "
            "body, body_compression, body_size, body_sha256, fetched_at, kind, replaced_bytes) "
            f"VALUES ('http://x.cn/1.html', '//x.cn/1.html', 200, 'GET', '{{}}', '{{}}', x'00', "
            f"'zlib', 1, '', {stamp}, 'article', 0)"))
        conn.execute(text(
            "INSERT INTO articles (portal_id, url, canonical_url, url_key, title, body_text, "
            "provenance, warnings, repairs, is_mirror, content_hash, first_seen, last_seen, "
            "response_id) VALUES ('p', 'http://x.cn/1.html', 'http://x.cn/1.html', "
            "'//x.cn/1.html', '某县人民法院', '本院依法公开审理此案。', '{}', '[]', '[]', 0, 'h', "
            f"{stamp}, {stamp}, 1)"))
    engine.dispose()
    archive = db.open_archive(url)
    try:
        assert [h.url for h in query.search(archive, "法院")] == ["http://x.cn/1.html"]
        assert [h.url for h in query.search(archive, "审理此案")] == ["http://x.cn/1.html"]
        with archive.engine.begin() as conn:
            conn.execute(text("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')"))
    finally:
        archive.close()
