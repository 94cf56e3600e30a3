"""Browsing the archive in Datasette, read-only: metadata, canned queries, facets, article pages.

The archive is served as a normal *mutable* Datasette database, which Datasette reads through
`mode=ro` connections, rather than with `--immutable`: an immutable file is assumed never to
change, but a crawl may be writing the archive while someone browses it. No write path exists:
no canned query writes, the browse plugin makes every connection to the archive
`PRAGMA query_only`, the archive is never migrated or created here, and arbitrary SQL is off
unless asked for.
"""

from __future__ import annotations

import ipaddress
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govcrawl.browse.metadata import DB_NAME, PLUGIN_NAME, build_metadata, live_schema
from govcrawl.store.schema import ARCHIVE_MARKER

if TYPE_CHECKING:
    from datasette.app import Datasette

__all__ = ["DB_NAME", "ArchiveUnreadable", "build_datasette", "check_archive", "is_loopback"]


class ArchiveUnreadable(Exception):
    """The file cannot be browsed as a govcrawl archive; the message is one line."""


def check_archive(path: Path) -> None:
    """Refuse what is not an existing govcrawl SQLite archive, without writing to it."""
    if not path.is_file():
        raise ArchiveUnreadable(f"{path}: no such archive (crawl first, or pass --db)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            marker = conn.execute(
                "SELECT value FROM meta WHERE key = ?", (ARCHIVE_MARKER[0],)).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ArchiveUnreadable(f"{path}: not a govcrawl archive ({exc})") from exc
    if marker is None or marker[0] != ARCHIVE_MARKER[1]:
        raise ArchiveUnreadable(f"{path}: not a govcrawl archive (no govcrawl marker in meta)")


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server on this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, path: Path) -> str:
    """What a non-loopback bind exposes, named plainly."""
    names = sorted(live_schema(path))
    return (f"WARNING: binding to {host}, not loopback: anyone who can reach this machine can "
            f"read the archive {path.resolve()} (read-only), including the tables "
            f"{', '.join(names)}")


def _register_plugin() -> None:
    from datasette.plugins import pm

    from govcrawl.browse import plugin

    if not pm.is_registered(plugin):
        pm.register(plugin, name=plugin.__name__)


def datasette_settings(allow_sql: bool) -> dict[str, Any]:
    """Settings that keep the server read-only and the archive file itself off the web."""
    return {
        "default_allow_sql": allow_sql,
        "allow_download": False,
        "suggest_facets": False,
        "facet_time_limit_ms": 2000,
        "sql_time_limit_ms": 5000,
        "truncate_cells_html": 300,
    }


def build_datasette(path: Path, allow_sql: bool = False,
                    media_dir: Path | None = None) -> Datasette:
    """A Datasette serving the archive at `path` read-only as /govcrawl; snapshots show the
    images downloaded to `media_dir` (the crawl's FILES_STORE)."""
    from datasette.app import Datasette
    from datasette.database import Database

    path = Path(path)
    check_archive(path)
    _register_plugin()
    metadata = build_metadata(path, allow_sql)
    if media_dir is not None:
        metadata["plugins"][PLUGIN_NAME]["media_dir"] = str(Path(media_dir).resolve())
    ds = Datasette(files=[], metadata=metadata, settings=datasette_settings(allow_sql))
    # Datasette adds an in-memory database when given no files; this server has one database.
    ds.remove_database("_memory")
    ds.add_database(Database(ds, path=str(path), is_mutable=True), name=DB_NAME)
    return ds
