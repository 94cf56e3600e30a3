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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)

from govcrawl import dedup
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
MAX_CANDIDATES = 8  #: candidates verified on text per new article (best MinHash estimate first)


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


def _band_rows_with_keys(conn: Connection, keys: list[int]) -> list[tuple[int, int]]:
    """(key, article_id) of the stored band rows with one of `keys` (the LSH candidates).

    Driver-level: an expanding IN of a batch's thousands of keys took SQLAlchemy longer to
    render than the index lookups take SQLite.
    """
    marks = ", ".join([_marker(conn)] * len(keys))
    return conn.exec_driver_sql(
        f'SELECT "key", article_id FROM article_bands WHERE "key" IN ({marks})', tuple(keys)
    ).all()


def _head_rank(row: Any) -> tuple:
    """Head rule: official copy before a mirror, then earliest published, then first seen."""
    published = row.published_at or "9999"
    return (bool(row.is_mirror), published[:10], published, row.first_seen, row.id)


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
                url = e.page.url or e.raw.url
                reject_rows.append({
                    "url": url, "url_key": dedup.url_key(url), "portal_id": e.portal_id,
                    "run_id": e.run_id, "kind": e.page.kind, "reason": e.page.reason,
                    "detail": None, "response_id": resp_ids[i], "at": e.raw.fetched_at})
                outcomes[i] = StoreOutcome("reject", resp_ids[i])
        if reject_rows:
            conn.execute(insert(rejects), reject_rows)
        keys = {i: seg[i].key for i in art}
        cols = [articles.c.id, articles.c.url_key, articles.c.duplicate_of,
                *(articles.c[f] for f in VERSIONED)]
        existing = {}
        for chunk in _chunks(list(keys.values())):
            existing.update((r.url_key, r) for r in conn.execute(
                select(*cols).where(articles.c.url_key.in_(chunk))))
        seen_rows, new = [], []
        for i in art:
            row = existing.get(keys[i])
            e = seg[i].entry
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
        # candidates for the whole segment in two IN queries (they include this segment's rows)
        by_hash: dict[str, list[int]] = {}
        hashes = list({k.content_hash for k in body_keys.values() if k.content_hash})
        for chunk in _chunks(hashes):
            for r in conn.execute(select(articles.c.id, articles.c.content_hash)
                                  .where(articles.c.content_hash.in_(chunk))):
                by_hash.setdefault(r.content_hash, []).append(r.id)
        by_band: dict[int, list[int]] = {}
        for chunk in _chunks(list({b for bs in bands.values() for b in bs})):
            for key, article_id in _band_rows_with_keys(conn, chunk):
                by_band.setdefault(key, []).append(article_id)
        tops: dict[int, list[int]] = {}  # LSH candidates to verify, most shared bands first
        for i in new:
            me, k = ids[i], body_keys[i]
            if any(a < me for a in by_hash.get(k.content_hash or "", ())):
                continue
            hits: dict[int, int] = {}
            for b in bands[i]:
                for a in by_band.get(b, ()):
                    if a < me:  # only articles stored before this one can be its head
                        hits[a] = hits.get(a, 0) + 1
            if hits:
                tops[i] = sorted(hits, key=lambda a: -hits[a])[:64]
        # the candidates' texts in one IN query per chunk, not one query per new article
        cand_rows: dict[int, Any] = {}
        for chunk in _chunks(list({a for top in tops.values() for a in top})):
            for r in conn.execute(select(articles.c.id, articles.c.fingerprint,
                                         articles.c.body_text).where(articles.c.id.in_(chunk))):
                cand_rows[r.id] = r
        for i in new:
            me, k, body = ids[i], body_keys[i], seg[i].entry.page.body_text or ""
            found = None
            older = [a for a in by_hash.get(k.content_hash or "", ()) if a < me]
            if older:
                found = (min(older), 1.0)
            elif i in tops:
                found = self._verify([cand_rows[a] for a in tops[i]], k.fingerprint, body)
            if found is None:
                outcomes[i] = StoreOutcome("new", resp_ids[i], me, me)
                continue
            target = conn.execute(select(articles.c.duplicate_of)
                                  .where(articles.c.id == found[0])).scalar()
            head, sim = self._link(conn, me, target or found[0], found[1], body)
            outcomes[i] = StoreOutcome("new" if head == me else "duplicate", resp_ids[i], me,
                                       head, sim)

    @staticmethod
    def _verify(rows: list[Any], fp: dedup.Fingerprint | None, body: str
                ) -> tuple[int, float] | None:
        """The best candidate (by containment) that `dedup.compare` accepts as the same article.

        `rows` are the candidates' (id, fingerprint, body_text). They go best MinHash estimate
        first; those whose estimate rules them out (`dedup.could_be_same`, mostly template
        twins) are not compared on text."""
        if fp is not None:
            length = dedup.form_length(body)
            scored = [(fp.estimate_hex(r.fingerprint) if r.fingerprint else None, r)
                      for r in rows]
            scored.sort(key=lambda s: -(s[0] or 0.0))
            rows = [r for est, r in scored if est is None or dedup.could_be_same(
                est, length, dedup.form_length(r.body_text or ""))]
        best: tuple[int, float] | None = None
        for r in rows[:MAX_CANDIDATES]:
            cmp = dedup.compare(body, r.body_text or "")
            if cmp.same and (best is None or cmp.containment > best[1]):
                best = (r.id, cmp.containment)
        return best

    def _apply_page(
        self, conn: Connection, e: StoreEntry, response_id: int, seen: datetime
    ) -> StoreOutcome:
        page = e.page
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
        if "body_text" in changed:
            head = self._relink_after_edit(conn, row.id, row.duplicate_of, keys,
                                           page.body_text or "")
        return StoreOutcome("updated", response_id, row.id, head, changed=changed)

    def _relink_after_edit(self, conn: Connection, article_id: int, old_head: int | None,
                           keys: dedup.BodyKeys, body: str) -> int:
        """An edited body may leave its group, or join one: check the links it is part of.

        Members that no longer match their head are detached and look for a group again, in
        head-rank order, so copies that still match each other end up together.
        """
        head = old_head or article_id
        cols = (articles.c.id, articles.c.duplicate_of, articles.c.body_text, articles.c.is_mirror,
                articles.c.published_at, articles.c.first_seen, articles.c.content_hash)
        group = conn.execute(select(*cols).where(
            (articles.c.id == head) | (articles.c.duplicate_of == head))).all()
        head_row = next(r for r in group if r.id == head)
        detached = [r for r in group if r.id != head
                    and not dedup.compare(r.body_text or "", head_row.body_text or "").same]
        for r in detached:
            conn.execute(update(articles).where(articles.c.id == r.id)
                         .values(duplicate_of=None, similarity=None))
            conn.execute(insert(article_events), {"article_id": r.id, "at": utc_now(),
                         "event": "unlinked", "detail": {"old_head": head, "reason": "edited"}})
        if old_head is None and not any(r.duplicate_of for r in group):
            detached.append(head_row)  # a lone article: its new text may match another group
        for r in sorted(detached, key=_head_rank):
            linked = conn.execute(select(articles.c.id).where(
                (articles.c.id == r.id) & articles.c.duplicate_of.is_not(None)
                | (articles.c.duplicate_of == r.id)).limit(1)).first()
            if linked is not None:  # an earlier detached member already took it into a group
                continue
            member_keys = keys if r.id == article_id else dedup.body_keys(r.body_text)
            found = self._find_head(conn, r.id, member_keys, r.body_text or "")
            if found is not None and found[0] != r.id:
                self._link(conn, r.id, found[0], found[1], r.body_text or "")
        return conn.execute(select(articles.c.duplicate_of)
                            .where(articles.c.id == article_id)).scalar() or article_id

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
        found = self._find_head(conn, article_id, keys, page.body_text or "")
        if found is None:
            return StoreOutcome("new", response_id, article_id, article_id)
        head, similarity = self._link(conn, article_id, found[0], found[1], page.body_text or "")
        status = "new" if head == article_id else "duplicate"
        return StoreOutcome(status, response_id, article_id, head, similarity)

    def _find_head(
        self, conn: Connection, article_id: int, keys: dedup.BodyKeys, body: str
    ) -> tuple[int, float] | None:
        """The head of the group this body belongs to (exact hash, then verified LSH candidate)."""
        if keys.content_hash:
            hit = conn.execute(
                select(articles.c.id, articles.c.duplicate_of)
                .where(articles.c.content_hash == keys.content_hash, articles.c.id != article_id)
                .limit(1)
            ).first()
            if hit is not None:
                return (hit.duplicate_of or hit.id, 1.0)
        fp = keys.fingerprint
        if fp is None:
            return None
        band_key = [k for _, k in dedup.band_keys(fp)]
        cands = conn.execute(
            select(articles.c.id, articles.c.duplicate_of, articles.c.fingerprint,
                   articles.c.body_text)
            .where(articles.c.id.in_(
                select(article_bands.c.article_id)
                .where(article_bands.c.key.in_(band_key), article_bands.c.article_id != article_id)
                .distinct()
                .limit(64)
            ))
        ).all()
        found = self._verify(cands, fp, body)
        if found is None:
            return None
        heads = {r.id: r.duplicate_of or r.id for r in cands}
        return (heads[found[0]], found[1])

    def _link(
        self, conn: Connection, new_id: int, head_id: int, similarity: float, body: str
    ) -> tuple[int, float | None]:
        """Join `new_id` to `head_id`'s group, or make it the head of the whole group if better."""
        cols = (articles.c.id, articles.c.is_mirror, articles.c.published_at,
                articles.c.first_seen, articles.c.content_hash, articles.c.body_text)
        members = conn.execute(
            select(*cols).where((articles.c.id == head_id) | (articles.c.duplicate_of == head_id))
        ).all()
        me = conn.execute(select(*cols).where(articles.c.id == new_id)).one()
        if _head_rank(me) >= _head_rank(min(members, key=_head_rank)):
            conn.execute(
                update(articles)
                .where(articles.c.id == new_id)
                .values(duplicate_of=head_id, similarity=similarity)
            )
            return head_id, similarity
        for m in members:  # the newcomer is the better head: every member points at it directly
            sim = 1.0 if m.content_hash == me.content_hash else dedup.compare(
                body, m.body_text or "").containment
            conn.execute(
                update(articles).where(articles.c.id == m.id)
                .values(duplicate_of=new_id, similarity=sim)
            )
        conn.execute(
            insert(article_events),
            {"article_id": head_id, "at": utc_now(), "event": "relinked",
             "detail": {"new_head": new_id}},
        )
        return new_id, None

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

    def apply_reprocessed(self, response_id: int, page: PageResult) -> StoreOutcome:
        """Store a re-extraction of a stored response: updates (with a version) or creates."""
        with self._write() as conn:
            r = conn.execute(
                select(responses.c.portal_id, responses.c.run_id, responses.c.url)
                .where(responses.c.id == response_id)
            ).one()
            conn.execute(
                update(responses).where(responses.c.id == response_id).values(
                    kind=page.kind, reason=page.reason, encoding=page.encoding,
                    encoding_reason=page.encoding_reason,
                    encoding_confidence=page.encoding_confidence,
                    replaced_bytes=page.replaced_bytes,
                )
            )
            raw = RawResponse(url=r.url, status=page.status, headers={}, body=b"",
                              fetched_at=utc_now())
            entry = StoreEntry(raw, page, r.portal_id, r.run_id)
            return self._apply_page(conn, entry, response_id, utc_now())

    # -- small counts used by tests and the CLI -------------------------------------------------
    def count(self, table: str) -> int:
        with self.read_engine.connect() as conn:
            return conn.execute(text(f"SELECT COUNT(*) FROM {_TABLES[table]}")).scalar_one()


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

    def __exit__(self, *exc: object) -> None:
        try:
            self._ctx.__exit__(*exc)
        finally:
            self.archive._lock.release()
