"""`govcrawl browse`: open the archive in Datasette, read-only, on loopback unless told otherwise.

The archive is never created, migrated or written here (see `govcrawl.browse`); arbitrary SQL
needs --allow-sql, and binding to a non-loopback address prints what it exposes.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from pathlib import Path

from govcrawl.cli import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "browse", help="browse the archive in Datasette (read-only)",
        description="Serve the archive read-only in Datasette: a home page with search, "
                    "article pages with archived snapshots, facets, Chinese search (every "
                    "word, any length), canned queries, a monthly chart and Atom feeds. "
                    "Example: govcrawl browse --db output/govcrawl.db, then open "
                    "http://127.0.0.1:8001/")
    parser.add_argument("--db", metavar="PATH",
                        help="archive file or sqlite:/// URL (default: $GOVCRAWL_DATABASE_URL, "
                             "else output/govcrawl.db)")
    parser.add_argument("--port", type=int, default=8001, help="port (default 8001)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; anything else exposes the "
                             "archive to the network and prints a warning)")
    parser.add_argument("--allow-sql", action="store_true",
                        help="allow arbitrary read-only SQL queries (off by default)")
    parser.add_argument("--media", metavar="DIR",
                        help="where the crawl stored downloaded images (GOVCRAWL_FETCH_MEDIA), "
                             "shown in archived snapshots (default: $GOVCRAWL_FILES_STORE, else "
                             "output/media)")
    parser.set_defaults(func=run)


def archive_path(db: str | None) -> Path:
    """The SQLite file behind --db, $GOVCRAWL_DATABASE_URL or the default archive URL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from govcrawl.store.db import resolve_url

    value = db if db and "://" in db else None
    if db and value is None:
        return Path(db)
    url = resolve_url(value)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UsageError(f"--db: not a path or database URL: {url}") from exc
    if parsed.get_backend_name() != "sqlite":
        raise UsageError(f"browse serves SQLite archives only, not {parsed.get_backend_name()}")
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise UsageError(f"browse needs an archive file, not {url}")
    return Path(database)


def _check_port(host: str, port: int) -> None:
    """Fail with a usage error before Datasette starts if the address cannot be bound."""
    if not 0 < port < 65536:
        raise UsageError(f"--port must be 1–65535, not {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: {exc.strerror}") from exc
    family, _type, _proto, _name, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(f"port {port} is in use; pass --port") from exc
            raise UsageError(f"cannot bind {host}:{port}: {exc.strerror}") from exc


def run(args: argparse.Namespace) -> int:
    from govcrawl import settings  # FILES_STORE: $GOVCRAWL_FILES_STORE or its default
    from govcrawl.browse import ArchiveUnreadable, build_datasette, exposure_warning, is_loopback

    path = archive_path(args.db)
    try:
        ds = build_datasette(path, allow_sql=args.allow_sql,
                             media_dir=Path(args.media or settings.FILES_STORE))
    except ArchiveUnreadable as exc:
        raise UsageError(str(exc)) from exc
    _check_port(args.host, args.port)
    if not is_loopback(args.host):
        print(exposure_warning(args.host, path), file=sys.stderr)
    import uvicorn

    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"govcrawl browse: {path} read-only at http://{shown}:{args.port}/ "
          f"(arbitrary SQL {'allowed' if args.allow_sql else 'off'}); Ctrl-C stops it",
          flush=True)
    uvicorn.run(ds.app(), host=args.host, port=args.port, log_level="warning")
    return 0
