"""The browse plugin's own pages: home, snapshot of an archived response, stored media, feeds.

Thin adapters: each reads the archive through Datasette's read-only connection and hands the
rows to a template, `snapshot.render_snapshot` or feedgen.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import urllib.parse
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from datasette.utils.asgi import Request, Response

from govcrawl.browse.metadata import search_form
from govcrawl.browse.plugin import PLUGIN_NAME, _archive_name
from govcrawl.browse.queries import FEED, LATEST_ARTICLES, PORTAL_HEALTH
from govcrawl.browse.snapshot import SNAPSHOT_CSP, Capture, render_snapshot

#: The portals' time zone: a published_at without an offset is local time there.
CHINA_TIME = ZoneInfo("Asia/Shanghai")
LATEST = 15


def _not_found(what: str) -> Response:
    return Response.text(f"{what} not found", status=404)


async def home(datasette: Any, request: Request) -> Response:
    """Search first, then the newest articles and how each portal is doing."""
    name = _archive_name(datasette)
    db = datasette.get_database(name)
    latest = await db.execute(LATEST_ARTICLES, {"n": LATEST})
    health = await db.execute(PORTAL_HEALTH)
    portals = []
    for row in health.rows:
        state = ("bad" if row["articles"] == 0 or row["last_run_status"] in ("failed", "aborted")
                 else "warn" if row["last_run_refused"] else "ok")
        portals.append({**dict(row), "state": state})
    html = await datasette.render_template("govcrawl-home.html", {
        "database": name,
        "search_form": search_form(datasette.urls.table(name, "article_list")),
        "latest": [dict(r) for r in latest.rows],
        "portals": portals,
        "metadata": datasette.metadata(),
    }, request=request)
    return Response.html(html)


async def snapshot(datasette: Any, request: Request) -> Response:
    """The captured page of one response, cleaned, under a banner saying what it is."""
    name = _archive_name(datasette)
    db = datasette.get_database(name)
    response_id = int(request.url_vars["response_id"])
    found = await db.execute(
        "SELECT url, final_url, status, headers, body, body_compression, fetched_at "
        "FROM responses WHERE id = ?", [response_id])
    if not found.rows:
        return _not_found(f"response {response_id}")
    row = found.rows[0]
    article = await db.execute(
        "SELECT id FROM articles WHERE response_id = ? UNION "
        "SELECT article_id FROM article_versions WHERE response_id = ? LIMIT 1",
        [response_id, response_id])
    article_id = article.rows[0][0] if article.rows else None
    images: dict[str, str] = {}
    if article_id is not None:
        stored = await db.execute(
            "SELECT id, url FROM media WHERE article_id = ? AND path IS NOT NULL", [article_id])
        images = {m["url"]: datasette.urls.path(f"/{name}/-/media/{m['id']}")
                  for m in stored.rows}
    capture = Capture(
        url=row["final_url"] or row["url"], fetched_at=row["fetched_at"], status=row["status"],
        article_href=(datasette.urls.row(name, "articles", str(article_id))
                      if article_id is not None else None))
    html = await asyncio.to_thread(_page, row["body"], row["body_compression"], row["headers"],
                                   capture, images)
    return Response.html(html, headers={"Content-Security-Policy": SNAPSHOT_CSP,
                                        "X-Content-Type-Options": "nosniff",
                                        "Referrer-Policy": "no-referrer"})


def _page(body: bytes | None, compression: str | None, headers: str | None, capture: Capture,
          images: dict[str, str]) -> str:
    """Decode the stored body as the crawler did, then clean it (CPU work, off the loop)."""
    from govcrawl.store.bodies import unpack
    from govcrawl.text.decode import decode_body

    raw = unpack(body, compression or "zstd") if body else b""
    parsed = json.loads(headers) if headers else {}
    text = decode_body(raw, parsed if isinstance(parsed, dict) else None).text
    return render_snapshot(text, capture, images)


async def media_file(datasette: Any, request: Request) -> Response:
    """A downloaded image or attachment from the media store (--media), never outside it."""
    name = _archive_name(datasette)
    media_id = int(request.url_vars["media_id"])
    found = await datasette.get_database(name).execute(
        "SELECT path FROM media WHERE id = ? AND path IS NOT NULL", [media_id])
    config = datasette.plugin_config(PLUGIN_NAME) or {}
    if not found.rows or not config.get("media_dir"):
        return _not_found(f"stored media {media_id}")
    root = Path(config["media_dir"]).resolve()
    target = (root / found.rows[0]["path"]).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return _not_found(f"stored media {media_id}")
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    headers = {"X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'none'; sandbox"}
    if not kind.startswith("image/"):
        headers["Content-Disposition"] = "attachment"
    return Response(target.read_bytes(), content_type=kind, headers=headers)


def _aware(value: str | None) -> datetime | None:
    """An ISO timestamp with a time zone (none written means China time), or None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TIME)


async def feed(datasette: Any, request: Request) -> Response:
    """Atom feed of new articles containing every word of ?q=, titled by that query, each
    entry with its publication date (datasette-atom titles every feed alike and has none)."""
    from feedgen.feed import FeedGenerator

    name = _archive_name(datasette)
    q = request.args.get("q", "").strip()
    rows = (await datasette.get_database(name).execute(FEED, {"q": q})).rows
    search_page = datasette.absolute_url(
        request, datasette.urls.table(name, "article_list")
        + ("?" + urllib.parse.urlencode({"_search": q}) if q else ""))
    fg = FeedGenerator()
    fg.id(request.url)
    fg.title(f"govcrawl 搜索「{q}」 search: {q}" if q else "govcrawl 新文章 New articles")
    fg.link(href=request.url, rel="self")
    fg.link(href=search_page, rel="alternate")
    updated: list[datetime] = []
    for r in rows:
        moment = _aware(r["atom_updated"])
        # first_seen is NOT NULL, written as ISO by IsoTimestamp; the placeholder's date is fixed
        assert moment is not None
        updated.append(moment)
    fg.updated(max(updated))
    for row in reversed(rows):
        entry = fg.add_entry()
        entry.id(row["atom_id"])
        entry.title(row["atom_title"] or "（无标题 untitled）")
        entry.updated(_aware(row["atom_updated"]))
        published = _aware(row["atom_published"])
        if published is not None:
            entry.published(published)
        entry.link(href=row["atom_link"])
        entry.author({"name": row["atom_author_name"]})
        entry.content(row["atom_content"], type="text")
    return Response(fg.atom_str(pretty=True), content_type="application/atom+xml; charset=utf-8")
