"""Getting pages into the archive without crawling: saved pages, WARC files, and reprocessing.

Every input goes the crawl's way — `extract_page` then `Archive.store_batch` — so an imported
page is stored, deduplicated and versioned exactly like a crawled one. A response whose URL and
body bytes (SHA-256) are already archived is skipped, so importing the same input twice adds
nothing. Pages are attributed to a declared portal by host (`allowed_domains`; the portal's
`article_pattern` breaks ties between portals sharing a host), else to the `unknown` portal;
a record of a govcrawl WARC export goes to the portal its `WARC-Govcrawl-Portal` header names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from govcrawl import dedup
from govcrawl.export import WarcDamaged, read_warc_portals
from govcrawl.extract import extract_page
from govcrawl.portals.registry import Portal
from govcrawl.records import PageResult, RawResponse
from govcrawl.store.archive import Archive, StoreEntry
from govcrawl.store.schema import articles, portals, responses

UNKNOWN_PORTAL = "unknown"
UNKNOWN_NAME = "未归属（导入，无对应门户）"
BATCH = 100
#: Re-extractions stored per write transaction by `reprocess`.
REPROCESS_BATCH = 200
Progress = Callable[[str], None]
#: A response to import and the portal its source names for it (None: tell by its host).
Named = tuple[RawResponse, str | None]


def _quiet(_: str) -> None:
    pass


class PortalResolver:
    """Host → declared portal, for responses that did not come from a portal's spider."""

    def __init__(self, portals: Iterable[Portal]) -> None:
        self.portals = list(portals)
        self.by_id = {p.id: p for p in self.portals}

    def resolve(self, url: str) -> Portal | None:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        if not host:
            return None
        hits = [p for p in self.portals
                if any(host == d.lower() or host.endswith("." + d.lower())
                       for d in p.allowed_domains)]
        if len(hits) > 1:  # several portals on one host (mirrors, the simulator): the pattern
            matching = [p for p in hits if (rx := p.article_regex()) and rx.search(url)]
            hits = matching or hits
        return hits[0] if hits else None


@dataclass
class IngestReport:
    """Counts of what an import or reprocess did, by outcome."""

    run_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # inputs read only up to their damage

    def add(self, status: str, n: int = 1) -> None:
        self.counts[status] = self.counts.get(status, 0) + n

    def get(self, status: str) -> int:
        return self.counts.get(status, 0)


# --------------------------------------------------------------------------- saved pages

PAGE_SUFFIXES = (".html", ".htm", ".shtml", ".txt", ".xhtml", ".asp", ".aspx", ".jsp", ".php")


def saved_page_files(paths: Iterable[Path]) -> list[Path]:
    """Files to import: the paths given, and in folders every page file (not sidecars)."""
    out = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.iterdir()
                          if p.is_file() and p.suffix.lower() in PAGE_SUFFIXES)
        else:
            out.append(path)
    return out


def load_saved_page(path: Path) -> RawResponse:
    """A saved page and its `<stem>.json` sidecar (url, status, headers, fetched_at)."""
    body = path.read_bytes()
    sidecar = path.with_suffix(".json")
    meta: dict[str, Any] = {}
    if sidecar != path and sidecar.is_file():
        try:
            loaded = json.loads(sidecar.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"unreadable sidecar {sidecar}: {exc}") from exc
        meta = loaded if isinstance(loaded, dict) else {}
    headers = {str(k): str(v) for k, v in (meta.get("headers") or {}).items()}
    if path.suffix.lower() == ".txt" and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "text/plain"
    if meta.get("fetched_at"):
        fetched = datetime.fromisoformat(str(meta["fetched_at"]))
        fetched = fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC)
    else:
        fetched = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    url = str(meta.get("url") or path.resolve().as_uri())
    return RawResponse(url=url, status=int(meta.get("status") or 200), headers=headers,
                       body=body, fetched_at=fetched, final_url=url)


# --------------------------------------------------------------------------- the import


class Importer:
    """Extracts and stores RawResponses in batches under one `import` run."""

    def __init__(self, archive: Archive, resolver: PortalResolver,
                 progress: Progress = _quiet) -> None:
        self.archive = archive
        self.resolver = resolver
        self.progress = progress
        self.report = IngestReport()
        self._ensured: set[str] = set()
        self._seen: set[tuple[str, str]] = set()

    def _portal_for(self, url: str, named: str | None = None) -> tuple[str, dict[str, str]]:
        """The portal id and selectors for a response: the portal its source names (declared
        or not: a WARC exported from another archive keeps its portals), else the declared
        portal of its host, else `unknown`."""
        portal = self.resolver.by_id.get(named) if named else self.resolver.resolve(url)
        if portal is None:
            portal_id = named or UNKNOWN_PORTAL
            if portal_id not in self._ensured:
                if not self._has_portal(portal_id):  # keep the name an archive already has
                    self.archive.ensure_portal(
                        portal_id, UNKNOWN_NAME if portal_id == UNKNOWN_PORTAL else portal_id,
                        level="other")
                self._ensured.add(portal_id)
            return portal_id, {}
        if portal.id not in self._ensured:
            self.archive.ensure_portal(portal.id, portal.name, level=portal.level,
                                       province=portal.province)
            self._ensured.add(portal.id)
        return portal.id, dict(portal.selectors)

    def _has_portal(self, portal_id: str) -> bool:
        with self.archive.read_engine.connect() as conn:
            return conn.execute(select(portals.c.id).where(portals.c.id == portal_id)
                                ).first() is not None

    def _already_archived(self, raws: list[RawResponse]) -> set[tuple[str, str]]:
        """The (url_key, body_sha256) pairs of `raws` already stored.

        Looked up by url_key alone, on its index, and the body hashes compared here: SQLite
        plans a row-value `IN (VALUES …)` as a scan of the whole responses table, which made
        each batch cost more the larger the archive."""
        keys = {(dedup.url_key(r.url), hashlib.sha256(r.body).hexdigest()) for r in raws}
        url_keys = sorted({k for k, _ in keys})
        found: set[tuple[str, str]] = set()
        with self.archive.read_engine.connect() as conn:
            for i in range(0, len(url_keys), 500):
                query = select(responses.c.url_key, responses.c.body_sha256).where(
                    responses.c.url_key.in_(url_keys[i:i + 500]))
                found.update((a, b) for a, b in conn.execute(query) if (a, b) in keys)
        return found

    def store(self, batch: list[Named], run_id: int) -> None:
        """Store one batch; responses already archived (same URL, same bytes) are skipped."""
        archived = self._already_archived([raw for raw, _ in batch])
        entries = []
        for raw, named in batch:
            key = (dedup.url_key(raw.url), hashlib.sha256(raw.body).hexdigest())
            if key in archived or key in self._seen:
                self.report.add("skipped")
                continue
            self._seen.add(key)
            url = raw.final_url or raw.url
            portal_id, selectors = self._portal_for(url, named)
            page = extract_page(raw.body, url, status=raw.status, headers=raw.headers,
                                selectors=selectors)
            entries.append(StoreEntry(raw, page, portal_id, run_id))
        if entries:
            for outcome in self.archive.store_batch(entries):
                self.report.add(outcome.status)

    def run(self, raws: Iterable[Named], arguments: dict[str, Any]) -> IngestReport:
        """Import everything under one run row (finished, or failed if an error escapes)."""
        run_id = self.archive.start_run("import", arguments)
        self.report.run_id = run_id
        batch: list[Named] = []
        done = 0
        try:
            for named in raws:
                batch.append(named)
                if len(batch) >= BATCH:
                    self.store(batch, run_id)
                    done += len(batch)
                    batch = []
                    self.progress(f"import: {done} responses read")
            if batch:
                self.store(batch, run_id)
                done += len(batch)
            self.progress(f"import: {done} responses read")
        except BaseException:
            self.archive.finish_run(run_id, "failed", self.report.counts)
            raise
        self.archive.finish_run(run_id, "finished", {
            **self.report.counts, "errors": len(self.report.errors) + len(self.report.damaged)})
        return self.report


def iter_saved_pages(files: list[Path], report: IngestReport) -> Iterator[Named]:
    """RawResponses of saved pages; unreadable files are reported and skipped."""
    for path in files:
        try:
            yield load_saved_page(path), None
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            report.errors.append(f"{path}: {reason}")


def iter_warc_files(files: list[Path], report: IngestReport) -> Iterator[Named]:
    """Every HTTP response record of the WARC files, in order, with the portal a govcrawl
    export names for it; a damaged file
    gives its whole records and is reported in ``report.damaged``, and the next file is read."""
    for path in files:
        with path.open("rb") as fh:
            try:
                yield from read_warc_portals(fh)
            except WarcDamaged as exc:
                report.damaged.append(f"{path}: {exc}; only the whole records before it were "
                                      "imported")


def import_saved_pages(archive: Archive, paths: list[Path], resolver: PortalResolver,
                       progress: Progress = _quiet) -> IngestReport:
    """Import saved pages (and folders of them) as a crawl would have stored them."""
    files = saved_page_files(paths)
    importer = Importer(archive, resolver, progress)
    return importer.run(iter_saved_pages(files, importer.report),
                        {"inputs": [str(p) for p in paths], "warc": False})


def import_warcs(archive: Archive, paths: list[Path], resolver: PortalResolver,
                 progress: Progress = _quiet) -> IngestReport:
    """Import the response records of WARC files."""
    files = []
    for path in paths:
        files += (sorted(p for p in path.iterdir() if p.name.endswith((".warc", ".warc.gz")))
                  if path.is_dir() else [path])
    importer = Importer(archive, resolver, progress)
    return importer.run(iter_warc_files(files, importer.report),
                        {"inputs": [str(p) for p in paths], "warc": True})


# --------------------------------------------------------------------------- reprocess


def _current_response_ids(archive: Archive, portal_id: str | None) -> set[int]:
    """Responses worth re-extracting: each article's latest, and every non-article response.

    Older fetches of an article are left alone: re-applying them in turn would flip the article
    between its past and present values and version it on every run.
    """
    art = select(articles.c.response_id).where(articles.c.response_id.is_not(None))
    other = select(responses.c.id).where(responses.c.kind != "article")
    if portal_id is not None:
        art = art.where(articles.c.portal_id == portal_id)
        other = other.where(responses.c.portal_id == portal_id)
    with archive.read_engine.connect() as conn:
        return set(conn.execute(art).scalars()) | set(conn.execute(other).scalars())


def reprocess(archive: Archive, resolver: PortalResolver, portal_id: str | None = None,
              since: date | None = None, progress: Progress = _quiet,
              total: Callable[[int], None] | None = None) -> IngestReport:
    """Re-run extraction over archived responses (no network) and store what changed.
    `total`, if given, is told how many responses will be re-extracted (without `since`).

    Outcomes: `updated` (fields changed; the old values become a version), `unchanged`,
    `new`/`duplicate` (a response that was not an article now is), `reclassified` (a
    non-article response whose kind changed), `kept` (a non-article that still is one).
    Stored REPROCESS_BATCH at a time, one write transaction per batch and none for a batch in
    which nothing changed (`Archive.apply_reprocessed`).
    """
    start = None if since is None else datetime(since.year, since.month, since.day, tzinfo=UTC)
    report = IngestReport()
    run_id = archive.start_run("reprocess", {
        k: v for k, v in {"portal": portal_id, "since": since and since.isoformat()}.items() if v})
    report.run_id = run_id
    wanted = _current_response_ids(archive, portal_id)
    if total is not None and since is None:
        total(len(wanted))
    with archive.read_engine.connect() as conn:
        kinds = dict(conn.execute(select(responses.c.id, responses.c.kind)
                                  .where(responses.c.kind != "article")).all())
        response_portal = dict(conn.execute(
            select(responses.c.id, responses.c.portal_id)).all())
    batch: list[tuple[int, PageResult, bool]] = []  # (response, re-extraction, reclassified)

    def store() -> None:
        outcomes = archive.apply_reprocessed([(rid, page) for rid, page, _ in batch])
        for (_, _, reclassified), outcome in zip(batch, outcomes, strict=True):
            report.add("reclassified" if reclassified else outcome.status)
        batch.clear()

    done = 0
    try:
        for response_id, raw in archive.iter_responses(portal_id):
            if response_id not in wanted or (start is not None and raw.fetched_at < start):
                continue
            portal = resolver.by_id.get(response_portal.get(response_id) or "")
            selectors = dict(portal.selectors) if portal else {}
            url = raw.final_url or raw.url
            page = extract_page(raw.body, url, status=raw.status, headers=raw.headers,
                                selectors=selectors)
            old_kind = kinds.get(response_id, "article")
            if page.kind != "article" and old_kind != "article" and page.kind == old_kind:
                report.add("kept")
            else:
                batch.append((response_id, page, page.kind != "article"
                              and old_kind != "article"))
                if len(batch) >= REPROCESS_BATCH:
                    store()
            done += 1
            if done % 100 == 0:
                progress(f"reprocess: {done} responses re-extracted")
        if batch:
            store()
        progress(f"reprocess: {done} responses re-extracted")
    except BaseException:
        archive.finish_run(run_id, "failed", report.counts)
        raise
    archive.finish_run(run_id, "finished", report.counts)
    return report
