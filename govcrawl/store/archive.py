"""Writes to the archive: raw responses, articles and their versions, media, duplicate links
(the crawl state, from runs to retry backoff, is `store/state.py`).

One `Archive` per process, one writer: the crawl pipeline calls it from a worker thread
(asyncio.to_thread), so every public method opens its own short transaction and a lock keeps
calls from two threads from interleaving. `store_batch` is one transaction: outcomes count only
once it returns. Concurrent writers in other processes are serialised by BEGIN IMMEDIATE on
SQLite and by a transaction-level advisory lock on PostgreSQL, so two copies of one story stored
at the same moment end linked, not both heads.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)

from govcrawl import dedup, syndication
from govcrawl.records import Media, PageResult, RawResponse
from govcrawl.store import bodies
from govcrawl.store.schema import (
    article_bands,
    article_events,
    article_versions,
    articles,
    fetch_state,
    media,
    portals,
    rejects,
    responses,
    runs,
)
from govcrawl.store.state import CrawlState, utc_now

#: pg_advisory_xact_lock key taken by every write batch on PostgreSQL: duplicate detection reads
#: then writes, so two writers must not both see "no head yet" for one story.
DEDUP_LOCK = 0x676F76_6465647570
#: Fields whose change on a re-fetch creates an article_versions row.
VERSIONED = (
    "title", "source", "author", "editor", "published_at", "published_precision",
    "body_text", "body_original", "byline_raw",
)


@dataclass
class StoreEntry:
    """One fetched response and what extraction made of it, for `store_batch`."""

    raw: RawResponse | None  # None only in spill files: a failure with no response
    page: PageResult
    portal_id: str
    run_id: int | None = None
    # dedup.body_keys(page.body_text) when the caller already has them (the extraction
    # workers compute them beside the page); computed here otherwise
    keys: dedup.BodyKeys | None = None


@dataclass
class StoreOutcome:
    """What `store_batch` did with one entry: new, updated, unchanged, duplicate or reject."""

    status: str
    response_id: int
    article_id: int | None = None
    head_id: int | None = None
    similarity: float | None = None
    changed: list[str] = field(default_factory=list)


def _header(headers: dict[str, str], name: str) -> str | None:
    lower = name.lower()
    for k, v in headers.items():
        if k.lower() == lower:
            return v
    return None


def _response_row(e: StoreEntry, packed: tuple[bytes, str]) -> dict[str, Any]:
    raw, page = e.raw, e.page
    assert raw is not None, "store_batch callers pass only entries with a response"
    blob, sha256 = packed
    return {
        "url": raw.url, "url_key": dedup.url_key(raw.url), "final_url": raw.final_url,
        "status": raw.status, "method": raw.request_method, "headers": raw.headers,
        "request_headers": raw.request_headers, "request_body": raw.request_body,
        "body": blob, "body_compression": bodies.COMPRESSION,
        "body_size": len(raw.body), "body_sha256": sha256,
        "fetched_at": raw.fetched_at, "etag": _header(raw.headers, "ETag"),
        "last_modified": _header(raw.headers, "Last-Modified"),
        "encoding": page.encoding, "encoding_reason": page.encoding_reason,
        "encoding_confidence": page.encoding_confidence,
        "replaced_bytes": page.replaced_bytes, "kind": page.kind, "reason": page.reason,
        "portal_id": e.portal_id, "run_id": e.run_id,
    }


@dataclass
class _Prepared:
    """A batch entry with the work that needs no database done before the write transaction."""

    entry: StoreEntry
    url: str | None  # the article's URL and its identity key (None for non-articles)
    key: str | None
    packed: tuple[bytes, str]  # the body as stored (see bodies.pack)
    keys: dedup.BodyKeys | None = None  # duplicate keys, for articles not archived yet
    bands: list[int] = field(default_factory=list)  # LSH band keys of keys.fingerprint

    def compute_keys(self) -> None:
        self.keys = self.entry.keys or dedup.body_keys(self.entry.page.body_text)
        fp = self.keys.fingerprint
        self.bands = [k for _, k in dedup.band_keys(fp)] if fp else []


def _unique_url_segments(batch: list[_Prepared]) -> Iterator[list[_Prepared]]:
    """Split a batch where an article URL repeats, so each segment sees the previous one."""
    seg: list[_Prepared] = []
    keys: set[str] = set()
    for p in batch:
        if p.key is not None and p.key in keys:
            yield seg
            seg, keys = [], set()
        if p.key is not None:
            keys.add(p.key)
        seg.append(p)
    if seg:
        yield seg


def _chunks(values: list, size: int = 5000) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _marker(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _insert_band_rows(conn: Connection, rows: list[tuple[int, int, int]]) -> None:
    """(band, key, article_id) rows in one driver-level executemany.

    Sixteen rows per article are most of a batch's rows; plain integers need none of
    SQLAlchemy's per-row parameter processing, which cost more than the insert itself.
    """
    m = _marker(conn)
    conn.exec_driver_sql(
        f'INSERT INTO article_bands (band, "key", article_id) VALUES ({m}, {m}, {m})', rows)


def _band_rows_with_keys(conn: Connection, keys: list[int]) -> Sequence[Row[int, int]]:
    """(key, article_id) of the stored band rows with one of `keys` (the LSH candidates).

    Driver-level: an expanding IN of a batch's thousands of keys took SQLAlchemy longer to
    render than the index lookups take SQLite.
    """
    marks = ", ".join([_marker(conn)] * len(keys))
    return conn.exec_driver_sql(
        f'SELECT "key", article_id FROM article_bands WHERE "key" IN ({marks})', tuple(keys)
    ).all()


_GROUP_COLS = ("id", "is_mirror", "published_at", "url_key", "duplicate_of", "similarity",
               "content_hash", "fingerprint", "body_text")


def _head_rank(row: Any) -> tuple:
    """The head rule on an article row (see `syndication.head_rank`)."""
    return syndication.head_rank(row.is_mirror, row.published_at, row.url_key)


@dataclass
class RelinkReport:
    """What `Archive.relink` changed: links added, removed, re-pointed at another head."""

    articles: int
    added: int = 0
    removed: int = 0
    repointed: int = 0


class _SqlGrouping:
    """`syndication.Grouping` over one write transaction: the stored links as they were before
    it, the head rank, and each article's verified copies (exact hash, or an LSH candidate
    `dedup.compare` accepts). Every candidate is verified, none capped: a cap would make the
    copies found depend on what else is archived."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.rows: dict[int, Any] = {}
        self.near: dict[int, dict[int, float]] = {}
        self._pairs: dict[tuple[int, int], float | None] = {}

    def load(self, ids: Iterable[int]) -> None:
        missing = [i for i in ids if i not in self.rows]
        for chunk in _chunks(missing):
            for r in self.conn.execute(select(*(articles.c[c] for c in _GROUP_COLS))
                                       .where(articles.c.id.in_(chunk))):
                self.rows[r.id] = r

    def rank(self, x: int) -> tuple:
        self.load([x])
        return _head_rank(self.rows[x])

    def link(self, x: int) -> syndication.Link:
        self.load([x])
        r = self.rows[x]
        return (r.duplicate_of, r.similarity)

    def members(self, h: int) -> list[int]:
        return self.members_of([h]).get(h, [])

    def members_of(self, heads: list[int]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for chunk in _chunks(heads):
            for r in self.conn.execute(select(*(articles.c[c] for c in _GROUP_COLS))
                                       .where(articles.c.duplicate_of.in_(chunk))):
                self.rows.setdefault(r.id, r)
                out.setdefault(r.duplicate_of, []).append(r.id)
        return out

    def neighbours(self, x: int) -> dict[int, float]:
        if x not in self.near:
            self.find_neighbours([x])
        return self.near[x]

    def find_neighbours(self, ids: list[int]) -> None:
        """The verified copies of every article in `ids`, with a few IN queries for all."""
        ids = [x for x in ids if x not in self.near]
        self.load(ids)
        by_hash: dict[str, list[int]] = {}
        hashes = list({self.rows[x].content_hash for x in ids if self.rows[x].content_hash})
        for chunk in _chunks(hashes):
            for r in self.conn.execute(select(articles.c.id, articles.c.content_hash)
                                       .where(articles.c.content_hash.in_(chunk))):
                by_hash.setdefault(r.content_hash, []).append(r.id)
        keys: dict[int, list[int]] = {}
        for x in ids:
            fp = self.rows[x].fingerprint
            keys[x] = [k for _, k in dedup.band_keys(dedup.Fingerprint.from_hex(fp))] if fp else []
        by_band: dict[int, list[int]] = {}
        for chunk in _chunks(list({k for ks in keys.values() for k in ks})):
            for key, article_id in _band_rows_with_keys(self.conn, chunk):
                by_band.setdefault(key, []).append(article_id)
        cands = {x: {a for k in keys[x] for a in by_band.get(k, ())} - {x} for x in ids}
        self.load({a for c in cands.values() for a in c})
        for x in ids:
            me = self.rows[x]
            near = {a: 1.0 for a in by_hash.get(me.content_hash or "", ()) if a != x}
            for a in cands[x] - near.keys():
                sim = self._verify(me, self.rows[a])
                if sim is not None:
                    near[a] = sim
            self.near[x] = near

    def _verify(self, a: Any, b: Any) -> float | None:
        """Containment if `dedup.compare` accepts the pair (symmetric, so computed once)."""
        pair = (min(a.id, b.id), max(a.id, b.id))
        if pair not in self._pairs:
            body_a, body_b = a.body_text or "", b.body_text or ""
            estimate = dedup.estimate_stored(a.fingerprint, b.fingerprint)
            sim = None
            if dedup.could_be_same(estimate, dedup.form_length(body_a),
                                   dedup.form_length(body_b)):
                cmp = dedup.compare(body_a, body_b)
                sim = cmp.containment if cmp.same else None
            self._pairs[pair] = sim
        return self._pairs[pair]


class Archive(CrawlState):
    """The write API of one archive database (see `govcrawl.store.db.open_archive`); what a
    crawl remembers between runs comes from `CrawlState`."""

    def __init__(self, engine: Engine, read_engine: Engine, url: str) -> None:
        self.engine = engine
        self.read_engine = read_engine
        self.url = url
        self._lock = threading.RLock()

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self):
        return _WriteTxn(self)

    # -- portals ------------------------------------------------------------------------------
    def ensure_portal(
        self, id: str, name: str, level: str | None = None, province: str | None = None, **extra
    ) -> None:
        """Insert or refresh a portal row (declarations may change between runs)."""
        values = {"name": name, "level": level, "province": province, "extra": extra,
                  "updated_at": utc_now()}
        with self._write() as conn:
            found = conn.execute(update(portals).where(portals.c.id == id).values(**values))
            if not found.rowcount:
                conn.execute(insert(portals).values(id=id, **values))

    # -- the batch write -----------------------------------------------------------------------
    def store_batch(self, entries: list[StoreEntry]) -> list[StoreOutcome]:
        """Store responses and what was extracted from them, all in one transaction.

        Set-based: rows are written with executemany and looked up with one IN query per kind
        of key, so a batch costs a handful of round trips, not a few per entry. The work that
        needs no database (compression, duplicate keys) is done first, outside the write
        transaction, so other writers wait less for the lock.
        """
        batch = self._prepare(entries)
        out: list[StoreOutcome] = []
        with self._write() as conn:
            for segment in _unique_url_segments(batch):
                out += self._store_segment(conn, segment)
        return out

    def _prepare(self, entries: list[StoreEntry]) -> list[_Prepared]:
        """Compress the bodies, compute URL keys, and the duplicate keys of articles whose URL
        is not archived yet (a re-fetched article needs them only if its body changed:
        _update_existing computes them then)."""
        batch = []
        for e in entries:
            assert e.raw is not None, "store_batch callers pass only entries with a response"
            url = key = None
            if e.page.kind == "article":
                url = e.page.url or e.raw.final_url or e.raw.url
                key = dedup.url_key(url)
            batch.append(_Prepared(e, url, key, bodies.pack(e.raw.body)))
        wanted = list({p.key for p in batch if p.key is not None})
        known: set[str] = set()
        if wanted:
            with self.read_engine.connect() as conn:
                for chunk in _chunks(wanted):
                    known.update(conn.execute(
                        select(articles.c.url_key).where(articles.c.url_key.in_(chunk))
                    ).scalars())
        for p in batch:
            if p.key is not None and p.key not in known:
                p.compute_keys()
        return batch

    def _alloc_ids(self, conn: Connection, table: Any, n: int) -> list[int]:
        """Ids for n new rows, known before the insert so one executemany writes them all."""
        if n == 0:
            return []
        if conn.dialect.name == "postgresql":
            ids = conn.execute(
                text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                     "FROM generate_series(1, :n)"), {"n": n}
            ).scalars()
            return sorted(ids)
        start = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        return list(range(start + 1, start + n + 1))  # safe: BEGIN IMMEDIATE holds the lock

    def _insert_responses(self, conn: Connection, seg: list[_Prepared], ids: list[int]) -> None:
        conn.execute(insert(responses), [
            {"id": rid, **_response_row(p.entry, p.packed)}
            for rid, p in zip(ids, seg, strict=True)
        ])

    def _store_segment(self, conn: Connection, seg: list[_Prepared]) -> list[StoreOutcome]:
        resp_ids = self._alloc_ids(conn, responses, len(seg))
        self._insert_responses(conn, seg, resp_ids)
        outcomes: list[StoreOutcome | None] = [None] * len(seg)
        reject_rows, art = [], []
        for i, p in enumerate(seg):
            e = p.entry
            if p.key is not None:
                art.append(i)
            else:
                assert e.raw is not None, "store_batch entries all have a response"
                url = e.page.url or e.raw.url
                reject_rows.append({
                    "url": url, "url_key": dedup.url_key(url), "portal_id": e.portal_id,
                    "run_id": e.run_id, "kind": e.page.kind, "reason": e.page.reason,
                    "detail": None, "response_id": resp_ids[i], "at": e.raw.fetched_at})
                outcomes[i] = StoreOutcome("reject", resp_ids[i])
        if reject_rows:
            conn.execute(insert(rejects), reject_rows)
        keys = {i: k for i in art if (k := seg[i].key) is not None}  # art: entries with a key
        cols = [articles.c.id, articles.c.url_key, articles.c.duplicate_of,
                *(articles.c[f] for f in VERSIONED)]
        existing: dict[str, Any] = {}  # url_key -> article row
        for chunk in _chunks(list(keys.values())):
            existing.update((r.url_key, r) for r in conn.execute(
                select(*cols).where(articles.c.url_key.in_(chunk))))
        seen_rows, new = [], []
        for i in art:
            row = existing.get(keys[i])
            e = seg[i].entry
            assert e.raw is not None, "store_batch entries all have a response"
            if row is None:
                new.append(i)
            elif all(getattr(row, f) == getattr(e.page, f) for f in VERSIONED):
                seen_rows.append({"b_id": row.id, "b_seen": e.raw.fetched_at,
                                  "b_resp": resp_ids[i]})
                outcomes[i] = StoreOutcome("unchanged", resp_ids[i], row.id,
                                           row.duplicate_of or row.id)
            else:
                outcomes[i] = self._update_existing(conn, row, e.page, resp_ids[i],
                                                    e.raw.fetched_at, e.keys)
        if seen_rows:
            conn.execute(
                update(articles).where(articles.c.id == bindparam("b_id"))
                .values(last_seen=bindparam("b_seen"), response_id=bindparam("b_resp")),
                seen_rows,
            )
        if new:
            self._insert_new_batch(conn, seg, new, resp_ids, outcomes)
        return [o for o in outcomes if o is not None]

    def _insert_new_batch(
        self, conn: Connection, seg: list[_Prepared], new: list[int], resp_ids: list[int],
        outcomes: list[StoreOutcome | None],
    ) -> None:
        ids = dict(zip(new, self._alloc_ids(conn, articles, len(new)), strict=True))
        for i in new:
            if seg[i].keys is None:  # archived when _prepare looked, deleted since
                seg[i].compute_keys()
        body_keys = {i: seg[i].keys for i in new}
        bands = {i: seg[i].bands for i in new}
        rows, band_rows, media_rows = [], [], []
        for i in new:
            e, k, url = seg[i].entry, body_keys[i], seg[i].url
            assert e.raw is not None, "store_batch entries all have a response"
            assert k is not None, "compute_keys ran above for every new article"
            rows.append({
                "id": ids[i], "portal_id": e.portal_id, "url": url,
                "canonical_url": dedup.canonical_url(url), "url_key": seg[i].key,
                **{f: getattr(e.page, f) for f in VERSIONED}, "script": e.page.script,
                "provenance": e.page.provenance, "warnings": e.page.warnings,
                "repairs": e.page.repairs, "is_mirror": e.page.is_mirror,
                "content_hash": k.content_hash,
                "fingerprint": k.fingerprint.hex() if k.fingerprint else None,
                "duplicate_of": None, "similarity": None,
                "first_seen": e.raw.fetched_at, "last_seen": e.raw.fetched_at,
                "response_id": resp_ids[i]})
            band_rows += [(b, key, ids[i]) for b, key in enumerate(bands[i])]
            media_rows += [{"article_id": ids[i], "url": m.url, "kind": m.kind, "text": m.text,
                            "path": m.path} for m in e.page.media]
        conn.execute(insert(articles), rows)
        if band_rows:
            _insert_band_rows(conn, band_rows)
        if media_rows:
            conn.execute(insert(media), media_rows)
        links = self._regroup(conn, [ids[i] for i in new], [], "regrouped")
        for i in new:
            me = ids[i]
            head, sim = links[me]
            outcomes[i] = StoreOutcome("new" if head is None else "duplicate", resp_ids[i], me,
                                       head or me, sim)

    def _regroup(self, conn: Connection, added: list[int], changed: list[int], reason: str
                 ) -> dict[int, syndication.Link]:
        """Bring the stored groups up to date after `added` were inserted or `changed` edited
        (`syndication.settle`), recording each link removed or re-pointed as an event; returns
        the links of `added` and `changed` now."""
        g = _SqlGrouping(conn)
        g.find_neighbours([*added, *changed])
        changes = syndication.settle(g, added, changed)
        self._write_links(conn, g, changes, reason)
        return {x: changes.get(x, g.link(x)) for x in [*added, *changed]}

    def _write_links(self, conn: Connection, g: _SqlGrouping,
                     changes: dict[int, syndication.Link], reason: str) -> None:
        if not changes:
            return
        conn.execute(
            update(articles).where(articles.c.id == bindparam("b_id"))
            .values(duplicate_of=bindparam("b_head"), similarity=bindparam("b_sim")),
            [{"b_id": x, "b_head": h, "b_sim": sim} for x, (h, sim) in sorted(changes.items())],
        )
        now = utc_now()
        events = [
            {"article_id": x, "at": now, "event": "unlinked" if h is None else "relinked",
             "detail": {"old_head": g.link(x)[0], "new_head": h, "reason": reason}}
            for x, (h, _) in sorted(changes.items())
            if g.link(x)[0] is not None and g.link(x)[0] != h
        ]
        if events:
            conn.execute(insert(article_events), events)

    def _apply_page(
        self, conn: Connection, e: StoreEntry, response_id: int, seen: datetime
    ) -> StoreOutcome:
        page = e.page
        assert e.raw is not None, "_reapply builds the entry with a response"
        if page.kind != "article":
            conn.execute(
                insert(rejects),
                {"url": page.url or e.raw.url, "url_key": dedup.url_key(page.url or e.raw.url),
                 "portal_id": e.portal_id, "run_id": e.run_id, "kind": page.kind,
                 "reason": page.reason, "detail": None, "response_id": response_id,
                 "at": seen},
            )
            return StoreOutcome("reject", response_id)
        url = page.url or e.raw.final_url or e.raw.url
        key = dedup.url_key(url)
        cols = [articles.c.id, articles.c.duplicate_of, *(articles.c[f] for f in VERSIONED)]
        row = conn.execute(select(*cols).where(articles.c.url_key == key)).first()
        if row is not None:
            return self._update_existing(conn, row, page, response_id, seen)
        return self._insert_new(conn, e, url, key, response_id, seen)

    def _update_existing(
        self, conn: Connection, row: Any, page: PageResult, response_id: int, seen: datetime,
        keys: dedup.BodyKeys | None = None,
    ) -> StoreOutcome:
        new = {f: getattr(page, f) for f in VERSIONED}
        changed = [f for f in VERSIONED if getattr(row, f) != new[f]]
        values: dict[str, Any] = {"last_seen": seen, "response_id": response_id}
        head = row.duplicate_of or row.id
        if not changed:
            conn.execute(update(articles).where(articles.c.id == row.id).values(**values))
            return StoreOutcome("unchanged", response_id, row.id, head)
        conn.execute(
            insert(article_versions),
            {"article_id": row.id, "observed_at": seen, "changed": changed,
             "old_values": {f: getattr(row, f) for f in changed}, "response_id": response_id},
        )
        values.update(new, provenance=page.provenance, warnings=page.warnings,
                      repairs=page.repairs, is_mirror=page.is_mirror)
        if "body_text" in changed:  # keys follow the body
            keys = keys or dedup.body_keys(page.body_text)
            values.update(content_hash=keys.content_hash,
                          fingerprint=keys.fingerprint.hex() if keys.fingerprint else None)
            conn.execute(delete(article_bands).where(article_bands.c.article_id == row.id))
            self._insert_bands(conn, row.id, keys.fingerprint)
        conn.execute(update(articles).where(articles.c.id == row.id).values(**values))
        conn.execute(delete(media).where(media.c.article_id == row.id))
        self._insert_media(conn, row.id, page.media)
        if "body_text" in changed or "published_at" in changed:  # copies, or the head order
            head = self._relink_after_edit(conn, row.id)
        return StoreOutcome("updated", response_id, row.id, head, changed=changed)

    def _relink_after_edit(self, conn: Connection, article_id: int) -> int:
        """An edited body (or publication time) may leave its group, take others in, join one
        or head it: re-decide the links it is part of (`syndication.settle`). Returns its head
        now."""
        head, _ = self._regroup(conn, [], [article_id], "edited")[article_id]
        return head or article_id

    def _insert_bands(self, conn: Connection, article_id: int, fp: dedup.Fingerprint | None):
        if fp is not None:
            _insert_band_rows(conn, [(b, k, article_id) for b, k in dedup.band_keys(fp)])

    def _insert_media(self, conn: Connection, article_id: int, items: list[Media]) -> None:
        if items:
            conn.execute(
                insert(media),
                [{"article_id": article_id, "url": m.url, "kind": m.kind, "text": m.text,
                  "path": m.path} for m in items],
            )

    def _insert_new(
        self, conn: Connection, e: StoreEntry, url: str, key: str, response_id: int, seen: datetime
    ) -> StoreOutcome:
        page = e.page
        keys = dedup.body_keys(page.body_text)
        fp = keys.fingerprint
        article_id = conn.execute(
            insert(articles).returning(articles.c.id),
            {
                "portal_id": e.portal_id, "url": url, "canonical_url": dedup.canonical_url(url),
                "url_key": key, **{f: getattr(page, f) for f in VERSIONED},
                "script": page.script, "provenance": page.provenance, "warnings": page.warnings,
                "repairs": page.repairs, "is_mirror": page.is_mirror,
                "content_hash": keys.content_hash, "fingerprint": fp.hex() if fp else None,
                "first_seen": seen, "last_seen": seen, "response_id": response_id,
            },
        ).scalar_one()
        self._insert_bands(conn, article_id, fp)
        self._insert_media(conn, article_id, page.media)
        head, similarity = self._regroup(conn, [article_id], [], "regrouped")[article_id]
        status = "new" if head is None else "duplicate"
        return StoreOutcome(status, response_id, article_id, head or article_id, similarity)

    # -- syndication groups --------------------------------------------------------------------
    def relink(self, portal_id: str | None = None) -> RelinkReport:
        """Recompute the groups from the articles themselves (after a rule or threshold change).

        With a portal, the articles considered are the portal's and everything reachable from
        them through verified copies and stored links, so every group they are part of is
        recomputed whole. Removed and re-pointed links are recorded as events. A second run
        changes nothing: the result depends only on the articles.
        """
        with self._write() as conn:
            g = _SqlGrouping(conn)
            query = select(articles.c.id)
            if portal_id is not None:
                query = query.where(articles.c.portal_id == portal_id)
            frontier = sorted(conn.execute(query).scalars())
            reached = set(frontier)
            while frontier:
                for chunk in _chunks(frontier, 1000):
                    g.find_neighbours(chunk)
                nxt = {y for x in frontier for y in g.neighbours(x)}
                nxt |= {h for x in frontier if (h := g.link(x)[0]) is not None}
                nxt |= {m for ms in g.members_of(frontier).values() for m in ms}
                frontier = sorted(nxt - reached)
                reached |= nxt
            links = syndication.group({x: g.rank(x) for x in reached},
                                      {x: g.neighbours(x) for x in reached})
            changes = {x: link for x, link in links.items() if link != g.link(x)}
            report = RelinkReport(len(reached))
            for x, (h, _) in changes.items():
                old = g.link(x)[0]
                report.added += old is None and h is not None
                report.removed += old is not None and h is None
                report.repointed += old is not None and h is not None and old != h
            self._write_links(conn, g, changes, "relink")
            return report

    def copies_among(self, article_ids: list[int]) -> int:
        """How many of these articles are copies now: a run's report counts the articles it
        stored as new or duplicate by the groups at its end, not as they were when stored
        (a better head arriving later turns an earlier head into a copy)."""
        n = 0
        with self.read_engine.connect() as conn:
            for chunk in _chunks(sorted(set(article_ids))):
                n += conn.execute(select(func.count()).where(
                    articles.c.id.in_(chunk), articles.c.duplicate_of.is_not(None))).scalar_one()
        return n

    # -- reprocess -----------------------------------------------------------------------------
    def iter_responses(
        self, portal_id: str | None = None, chunk: int = 200
    ) -> Iterator[tuple[int, RawResponse]]:
        """Every stored response as fetched, oldest first, read in chunks (keyset paging)."""
        last = 0
        while True:
            query = select(responses).where(responses.c.id > last).order_by(responses.c.id)
            if portal_id is not None:
                query = query.where(responses.c.portal_id == portal_id)
            with self.read_engine.connect() as conn:
                rows = conn.execute(query.limit(chunk)).all()
            if not rows:
                return
            for r in rows:
                yield r.id, RawResponse(
                    url=r.url, status=r.status, headers=dict(r.headers),
                    body=bodies.unpack(r.body, r.body_compression), fetched_at=r.fetched_at,
                    final_url=r.final_url, request_method=r.method,
                    request_headers=dict(r.request_headers), request_body=r.request_body,
                )
            last = rows[-1].id

    def apply_reprocessed(self, items: list[tuple[int, PageResult]]) -> list[StoreOutcome]:
        """Store re-extractions of stored responses, an outcome each: an article updated (with
        a version) or created, a response reclassified, or nothing changed.

        Compared first on the read connection, so re-running reprocess over a large archive
        writes nothing: an item whose response row and article would stay as they are is
        `unchanged` without a write, and a batch with no change opens no write transaction.
        The others share one write transaction. Every lookup is by primary key or url_key.
        """
        if not items:
            return []
        resp_cols = (responses.c.id, responses.c.portal_id, responses.c.run_id,
                     responses.c.url, *(responses.c[c] for c in _REPROCESSED))
        art_cols = (articles.c.id, articles.c.url_key, articles.c.duplicate_of,
                    articles.c.response_id, *(articles.c[f] for f in VERSIONED))
        resp: dict[int, Any] = {}
        with self.read_engine.connect() as conn:
            for chunk in _chunks(sorted({rid for rid, _ in items})):
                resp.update((r.id, r) for r in conn.execute(
                    select(*resp_cols).where(responses.c.id.in_(chunk))))
            keys = [dedup.url_key(page.url or resp[rid].url) for rid, page in items]
            stored: dict[str, Any] = {}
            for chunk in _chunks(sorted(set(keys))):
                stored.update((r.url_key, r) for r in conn.execute(
                    select(*art_cols).where(articles.c.url_key.in_(chunk))))
        repeated = {k for k, n in Counter(keys).items() if n > 1}  # applied in order, below
        out: list[StoreOutcome | None] = [None] * len(items)
        todo = []
        for i, ((rid, page), key) in enumerate(zip(items, keys, strict=True)):
            row, r = stored.get(key), resp[rid]
            if (page.kind == "article" and row is not None and row.response_id == rid
                    and key not in repeated
                    and all(getattr(r, c) == getattr(page, c) for c in _REPROCESSED)
                    and all(getattr(row, f) == getattr(page, f) for f in VERSIONED)):
                out[i] = StoreOutcome("unchanged", rid, row.id, row.duplicate_of or row.id)
            else:
                todo.append(i)
        if todo:
            with self._write() as conn:
                for i in todo:
                    out[i] = self._reapply(conn, resp[items[i][0]], items[i][1], keys[i])
        return [o for o in out if o is not None]

    def _reapply(self, conn: Connection, r: Any, page: PageResult, key: str) -> StoreOutcome:
        """One re-extraction in a write transaction: the response row takes its new kind and
        decoding, the page is applied as a fetch would be, but re-extracting fetched nothing,
        so the article it came from keeps its last_seen."""
        conn.execute(update(responses).where(responses.c.id == r.id)
                     .values(**{c: getattr(page, c) for c in _REPROCESSED}))
        raw = RawResponse(url=r.url, status=page.status, headers={}, body=b"",
                          fetched_at=utc_now())
        kept = conn.execute(select(articles.c.id, articles.c.last_seen).where(
            articles.c.url_key == key, articles.c.response_id == r.id)).first()
        outcome = self._apply_page(conn, StoreEntry(raw, page, r.portal_id, r.run_id), r.id,
                                   utc_now())
        if kept is not None:  # the only article _apply_page may have touched
            conn.execute(update(articles).where(articles.c.id == kept.id)
                         .values(last_seen=kept.last_seen))
        return outcome

    # -- small counts used by tests and the CLI -------------------------------------------------
    def count(self, table: str) -> int:
        with self.read_engine.connect() as conn:
            return conn.execute(text(f"SELECT COUNT(*) FROM {_TABLES[table]}")).scalar_one()


#: The response columns a re-extraction rewrites (see `Archive.apply_reprocessed`).
_REPROCESSED = ("kind", "reason", "encoding", "encoding_reason", "encoding_confidence",
                "replaced_bytes")
_TABLES = {t.name: t.name for t in (articles, responses, rejects, article_versions, media,
                                    article_bands, runs, portals, article_events, fetch_state)}


class _WriteTxn:
    """Thread lock + one write transaction (+ the dedup advisory lock on PostgreSQL)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def __enter__(self) -> Connection:
        self.archive._lock.acquire()
        try:
            self._ctx = self.archive.engine.begin()
            conn = self._ctx.__enter__()
        except BaseException:
            self.archive._lock.release()
            raise
        if conn.dialect.name == "postgresql":
            try:
                conn.execute(select(func.pg_advisory_xact_lock(DEDUP_LOCK)))
            except BaseException as exc:
                self.__exit__(type(exc), exc, exc.__traceback__)
                raise
        return conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self._ctx.__exit__(exc_type, exc, tb)
        finally:
            self.archive._lock.release()
