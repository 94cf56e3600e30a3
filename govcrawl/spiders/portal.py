"""One generic spider, instantiated per portal declaration by the spider loader.

It walks a portal's channels with the portal's dialect, skips articles the archive already
holds, and yields a CrawledPage for every response (articles and everything else: challenges,
blocks and errors are classified and archived as rejects, never dropped).

The spider never opens or writes the database: the ArchivePipeline (the process's one owner of
the archive, see store/writer.py) reads what the spider needs once at open (`load_state`) and
takes every write, backfill progress included, to its writer thread.

Spider arguments (`-a`): since=YYYY-MM-DD, until=YYYY-MM-DD, max_pages=N, full=true
(ignore what the archive knows), revisit_days=N (re-fetch recent articles to catch edits).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from govcrawl.crawl import count_extraction
from govcrawl.dedup import canonical_url, url_key
from govcrawl.extract import extract_page
from govcrawl.items import PENDING, CrawledPage
from govcrawl.portals.dialects import ListingRow, ListRequest, dialect_for
from govcrawl.portals.registry import Portal
from govcrawl.records import RawResponse

if TYPE_CHECKING:
    from govcrawl.store.archive import Archive
    from govcrawl.store.writer import RetryingArchive

# Statuses that reach the callbacks to be classified and archived as rejects, instead of being
# dropped by HttpErrorMiddleware. Redirects are left out so RedirectMiddleware follows them;
# 304 answers a revisit's conditional request.
CLASSIFIED_STATUSES = [304, *range(400, 600)]

# After a channel's backfill is complete, paging stops at the first list page with nothing new.
OLD_ROWS_BEFORE_STOP = 5  # with `since` and undated rows: this many older articles in a row


class ArgumentError(ValueError):
    """A bad `-a` spider argument."""


def _parse_day(name: str, value: str | None) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ArgumentError(f"-a {name}={value!r}: expected YYYY-MM-DD") from None


def _parse_int(name: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"-a {name}={value!r}: expected a whole number") from None
    if number < 0:
        raise ArgumentError(f"-a {name}={value!r}: must not be negative")
    return number


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "false").lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ArgumentError(f"-a {name}={value!r}: expected true or false")


SPIDER_ARGUMENTS = ("since", "until", "max_pages", "full", "revisit_days")


def parse_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The `-a` arguments parsed, or an ArgumentError naming the first bad one.

    An unknown name is refused, since a misspelt `-a sinse=…` would crawl everything; names
    starting with "_" belong to a scheduler (scrapyd passes `_job` and `_version`).
    """
    for name in arguments:
        if name not in SPIDER_ARGUMENTS and not name.startswith("_"):
            close = difflib.get_close_matches(name, SPIDER_ARGUMENTS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ArgumentError(f"-a {name}: unknown spider argument ({hint}known: "
                                f"{', '.join(SPIDER_ARGUMENTS)})")
    since = _parse_day("since", arguments.get("since"))
    until = _parse_day("until", arguments.get("until"))
    if since and until and since > until:
        raise ArgumentError(f"-a since={arguments['since']} is after -a "
                            f"until={arguments['until']}")
    return {"since": since, "until": until,
            "max_pages": _parse_int("max_pages", arguments.get("max_pages")),
            "full": _parse_bool("full", arguments.get("full")),
            "revisit_days": _parse_int("revisit_days", arguments.get("revisit_days"))}


def portal_custom_settings(portal: Portal) -> dict[str, Any]:
    """A declaration's `settings` as Scrapy settings (they apply at "spider" priority)."""
    settings: dict[str, Any] = {}
    declared = portal.settings
    if "download_delay" in declared:
        settings["DOWNLOAD_DELAY"] = declared["download_delay"]
    if "concurrency" in declared:
        settings["CONCURRENT_REQUESTS_PER_DOMAIN"] = declared["concurrency"]
    if "user_agent" in declared:
        settings["USER_AGENT"] = declared["user_agent"]
    if "autothrottle" in declared:
        settings["AUTOTHROTTLE_ENABLED"] = declared["autothrottle"]
    if "robots" in declared:
        settings["ROBOTSTXT_OBEY"] = declared["robots"]
    if declared.get("tls") == "legacy":
        # Scrapy's context factory already sets OP_LEGACY_SERVER_CONNECT; old servers also
        # need protocol versions and ciphers below OpenSSL's default security level.
        import govcrawl.tls  # noqa: F401  (names the deprecation it silences)

        settings["DOWNLOADER_CLIENTCONTEXTFACTORY"] = "govcrawl.tls.LegacyTLSContextFactory"
        settings["DOWNLOAD_TLS_MIN_VERSION"] = "TLSv1.0"
    return settings


class PortalSpider(scrapy.Spider):
    """Crawl one declared portal. Subclasses are generated; this base has no name."""

    portal: ClassVar[Portal]

    def __init__(self, *args: Any, **kwargs: Any):
        parsed = parse_arguments(kwargs)
        given = {name: kwargs.pop(name) for name in SPIDER_ARGUMENTS if name in kwargs}
        super().__init__(*args, **kwargs)  # a scheduler's own (`_job`) become attributes
        self.since: date | None = parsed["since"]
        self.until: date | None = parsed["until"]
        self.max_pages: int | None = parsed["max_pages"]
        self.full: bool = parsed["full"]
        self.revisit_days: int | None = parsed["revisit_days"]
        self.arguments = {k: v for k, v in given.items() if v not in (None, "")}
        self.dialect = dialect_for(self.portal)
        self.allowed_domains = list(self.portal.allowed_domains)
        self.known: set[str] = set()
        self.failed_before: dict[str, datetime] = {}  # url key → next due
        # Set by the ExtractionPipeline when it extracts in worker processes.
        self.defer_extraction = False
        self.backing_off: set[str] = set()
        # Set by the ArchivePipeline at open: the process's shared archive (read once here, in
        # `load_state`, and by the scale-out coordinator), the run, and where progress goes.
        self.archive: Archive | RetryingArchive | None = None
        self.run_id: int | None = None
        self.progress_writer: ProgressWriter | None = None
        self.channel_progress: dict[str, dict | None] | None = None  # None: not loaded yet
        self.revisits: list[tuple[str, str | None, str | None]] = []
        self._backfilling: set[str] = set()  # channels whose backfill this run continues
        self._resume_saved: dict[str, dict | None] = {}  # channel → last saved resume point
        self._backfill_requested: set[tuple] = set()  # list pages requested in a backfill
        self._old_streak: dict[str, int] = {}
        # Backfill progress only moves past a list page once its articles are archived: per
        # channel, the list pages with articles still in flight, and where paging went next.
        self._unsettled: dict[str, list[tuple[ListRequest, set[str]]]] = {}
        self._following: dict[str, tuple[ListRequest | None, int]] = {}  # next page, last read
        self._settled: set[str] = set()  # url keys of listed articles with a durable outcome

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        settings.setdict(portal_custom_settings(cls.portal), priority="spider")

    def load_state(self) -> None:
        """Read, once, what this run needs from `self.archive`: channel progress, known
        articles, failure backoff and revisits (the ArchivePipeline calls it at open, on the
        archive's writer thread)."""
        archive = self.archive
        assert archive is not None, "set by the ArchivePipeline (or `govcrawl seed`) first"
        self.channel_progress = {url: archive.get_channel_progress(self.portal.id, url)
                                 for url in self.portal.start_urls}
        if not self.full:
            self.known = set(archive.known_article_urls(self.portal.id))
            now = datetime.now(UTC)
            self.failed_before = archive.fetch_failures()
            self.backing_off = {k for k, due in self.failed_before.items() if due > now}
        if self.revisit_days:
            since = datetime.now(UTC) - timedelta(days=self.revisit_days)
            self.revisits = archive.articles_for_revisit(self.portal.id, since)

    async def start(self):
        if self.channel_progress is None:  # outside a crawl (`govcrawl seed`): read it now
            self.load_state()
        for start_url in self.portal.start_urls:
            progress = self.channel_progress.get(start_url)
            backfilling = self.full or progress is None or not progress["backfill_complete"]
            resume = progress and progress.get("resume")
            if backfilling:
                self._backfilling.add(start_url)
                self._resume_saved[start_url] = resume or {"page": 0}  # until it completes
            # The top of the channel is always read for new articles. On a channel whose
            # backfill is unfinished, that top chain only looks for news and the backfill
            # resumes from its saved request; on a first run the top chain is the backfill.
            resuming = None
            if backfilling and resume and not self.full:
                resuming = ListRequest(
                    url=resume["url"], channel=start_url, page=resume.get("page", 0),
                    method=resume.get("method", "GET"), formdata=resume.get("formdata"),
                    context={**resume.get("context", {}), "backfill": True})
            top_is_backfill = backfilling and resuming is None
            for list_request in self.dialect.first_requests(self.portal, start_url):
                if resuming is not None and _page_key(list_request) == _page_key(resuming):
                    # The backfill resumes at the top: one request reads it for both.
                    list_request, resuming = resuming, None
                else:
                    list_request.context["backfill"] = top_is_backfill
                request = self._list_request(list_request)
                if request is not None:
                    yield request
            if resuming is not None:
                self.logger.info("channel %s: resuming backfill at list page %s", start_url,
                                 resuming.page)
                request = self._list_request(resuming)
                if request is not None:
                    yield request
        for url, etag, last_modified in self.revisits:
            headers = {}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            yield self._article_request(url, None, revisit=True, headers=headers)

    def dropped_redirect(self, request: scrapy.Request) -> CrawledPage | None:
        """A redirect the duplicate filter drops is recorded, never silently lost: back to a
        URL of its own chain it is a loop; to a page requested elsewhere, a duplicate. The
        reject is archived (and its listed article settled) by the ArchivePipeline."""
        redirects = request.meta.get("redirect_urls")
        if not redirects:  # a plain duplicate: the request it repeats settles its URL
            return None
        loop = request.url in redirects
        kind, reason = ("error", "redirect-loop") if loop else ("other", "redirect-duplicate")
        self.crawler.stats.inc_value(f"govcrawl/fetch_errors/{reason}")
        return CrawledPage(url=redirects[0], status=0, kind=kind, reason=reason,
                           portal=self.portal.id, canonical_url=canonical_url(redirects[0]),
                           channel=request.meta.get("channel"),
                           warnings=[" -> ".join([*redirects, request.url])[:2000]],
                           listed_url=request.meta.get("listed_url"))

    def unfinished_backfills(self) -> list[str]:
        """Channels whose backfill this run continued but did not complete (a page limit, a
        failed list page, articles not archived): the next run resumes them."""
        return sorted(c for c in self._backfilling if self._resume_saved.get(c) is not None)

    def _list_request(self, list_request: ListRequest) -> scrapy.Request | None:
        """The request for a list page. A backfill's pages bypass the duplicate filter (its
        resume point may be a page the top of the channel also reads), but are requested
        once per run; None when this run already requested that page for a backfill."""
        key = _page_key(list_request)
        backfill = bool(list_request.context.get("backfill"))
        if key in self._backfill_requested:
            return None
        if backfill:
            self._backfill_requested.add(key)
        meta = {"handle_httpstatus_list": CLASSIFIED_STATUSES, "list_request": list_request}
        if list_request.method == "POST":
            return scrapy.FormRequest(list_request.url, formdata=list_request.formdata or {},
                                      callback=self.parse_list, errback=self.on_error,
                                      meta=meta, dont_filter=True)
        return scrapy.Request(list_request.url, callback=self.parse_list,
                              errback=self.on_error, meta=meta, dont_filter=backfill)

    def _article_request(self, url: str, channel: str | None, revisit: bool = False,
                         headers: dict[str, str] | None = None) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.on_error, priority=10,
            headers=headers, dont_filter=revisit,
            meta={"handle_httpstatus_list": CLASSIFIED_STATUSES, "channel": channel,
                  "revisit": revisit, "listed_url": None if revisit else url},
        )

    def parse_list(self, response: Response):
        list_request: ListRequest = response.meta["list_request"]
        self.crawler.stats.inc_value("govcrawl/list_pages")
        if response.status >= 300:
            yield self._page_item(response, list_request.channel)
            return
        page = self.dialect.parse_list(self.portal, list_request, _text(response),
                                       len(response.body))
        self.crawler.stats.inc_value("govcrawl/list_pages_ok")
        backfill = list_request.context.get("backfill", False)
        if page.is_stub:
            self.crawler.stats.inc_value("govcrawl/list_stubs")
            if backfill:
                self._save_progress(list_request, None, ())
            return
        new_rows = [row for row in page.rows if self._wanted(row)]
        for row in new_rows:
            yield self._article_request(row.url, list_request.channel)
        stop = self._stop_paging(list_request, page.rows, new_rows, backfill)
        if backfill:  # saved before following, so a kill resumes no later than the next page
            self._save_progress(list_request, page.next[0] if page.next else None,
                                [row.url for row in new_rows])
        if not stop:
            for following in page.next:
                following.context["backfill"] = backfill
                request = self._list_request(following)
                if request is not None:
                    yield request

    def _save_progress(self, current: ListRequest, following: ListRequest | None,
                       article_urls: Iterable[str]) -> None:
        """Record the backfill's position: the first list page whose articles are not all
        archived yet (a kill would lose them past it), else the next page; none means done."""
        waiting = {url_key(u) for u in article_urls} - self._settled
        marks = self._unsettled.setdefault(current.channel, [])
        if waiting:
            marks.append((current, waiting))
        self._following[current.channel] = (following, current.page)
        self._write_progress(current.channel)

    def _write_progress(self, channel: str) -> None:
        marks = self._unsettled.get(channel, [])
        following, last_page = self._following[channel]
        resume_at = marks[0][0] if marks else following
        resume = None if resume_at is None else {
            "url": resume_at.url, "page": resume_at.page, "method": resume_at.method,
            "formdata": resume_at.formdata,
            "context": {k: v for k, v in resume_at.context.items() if k != "backfill"},
        }
        self._resume_saved[channel] = resume
        assert self.progress_writer is not None, "set by the ArchivePipeline at open"
        self.progress_writer.set_channel_progress(
            self.portal.id, channel, last_page=last_page, backfill_complete=resume is None,
            resume=resume)

    def settle(self, listed_urls: Iterable[str | None]) -> None:
        """These listed articles have a durable outcome (archived or rejected): move each
        channel's backfill position past the pages they held up."""
        keys = {url_key(u) for u in listed_urls if u}
        if not keys:
            return
        self._settled |= keys
        for channel, marks in self._unsettled.items():
            head = marks[0] if marks else None
            for _, waiting in marks:
                waiting -= keys
            marks[:] = [m for m in marks if m[1]]
            if head is not None and (not marks or marks[0] is not head):
                self._write_progress(channel)

    def _wanted(self, row: ListingRow) -> bool:
        if not self.full and canonical_url(row.url) in self.known:
            self.crawler.stats.inc_value("govcrawl/articles_known_skipped")
            return False
        if not self.full and url_key(row.url) in self.backing_off:
            self.crawler.stats.inc_value("govcrawl/articles_backing_off")
            return False  # failed before (challenge, block, error): retried after its backoff
        if row.date:
            day = date.fromisoformat(row.date)
            if (self.since and day < self.since) or (self.until and day > self.until):
                return False
        return True

    def _stop_paging(self, list_request: ListRequest, rows: list[ListingRow],
                     new_rows: list[ListingRow], backfill: bool) -> bool:
        if self.max_pages is not None and list_request.page + 1 >= self.max_pages:
            return True
        if self.since and rows and all(r.date and date.fromisoformat(r.date) < self.since
                                       for r in rows):
            return True
        if self.since and self._old_streak.get(list_request.channel, 0) >= OLD_ROWS_BEFORE_STOP:
            return True
        # "Nothing new on this page" ends paging only outside a backfill.
        return bool(rows) and not new_rows and not backfill

    def parse_article(self, response: Response):
        if response.meta.get("revisit"):
            if response.status == 304:
                self.crawler.stats.inc_value("govcrawl/revisit_not_modified")
                return
            if response.status in (404, 410) or _sent_home(response):
                self.crawler.stats.inc_value("govcrawl/revisit_removed")
                item = self._page_item(response, None)
                item.removed = True
                yield item
                return
        # With `since`, paging depends on the articles' own dates: extract here and now.
        item = self._page_item(response, response.meta.get("channel"),
                               extract_now=bool(self.since) or not self.defer_extraction)
        if item.kind == "article" and self.since and item.published_at:
            published = date.fromisoformat(item.published_at[:10])
            channel = response.meta.get("channel") or ""
            if published < self.since:
                self._old_streak[channel] = self._old_streak.get(channel, 0) + 1
                self.settle([response.meta.get("listed_url")])
                return  # older than asked for: not stored, and it counts towards stopping
            self._old_streak[channel] = 0
        yield item

    def _page_item(self, response: Response, channel: str | None,
                   extract_now: bool = True) -> CrawledPage:
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1")
                   for k, v in response.headers.items()}
        request = response.request
        raw = RawResponse(
            url=request.url if request else response.url,
            status=response.status,
            headers=headers,
            body=response.body,
            fetched_at=datetime.now(UTC),
            final_url=response.url,
            request_method=request.method if request else "GET",
            request_headers={k.decode("latin-1"): b", ".join(v).decode("latin-1")
                             for k, v in request.headers.items()} if request else {},
            request_body=request.body or None if request else None,
        )
        item = CrawledPage(url=response.url, status=response.status, kind=PENDING,
                           portal=self.portal.id, canonical_url=canonical_url(response.url),
                           channel=channel, raw=raw, listed_url=response.meta.get("listed_url"))
        if extract_now:  # otherwise the ExtractionPipeline does it off the event loop
            page = extract_page(response.body, response.url, status=response.status,
                                headers=headers, selectors=self.portal.selectors)
            item.take(page)
            count_extraction(self.crawler.stats, page)
        return item

    def on_error(self, failure: Failure):
        request = failure.request  # type: ignore[attr-defined]  # Scrapy sets it on errbacks
        reason = _failure_reason(failure)
        self.crawler.stats.inc_value(f"govcrawl/fetch_errors/{reason}")
        kind = "other" if reason == "robots" else "error"
        yield CrawledPage(url=request.url, status=0, kind=kind, reason=reason,
                          portal=self.portal.id, canonical_url=canonical_url(request.url),
                          channel=request.meta.get("channel"),
                          warnings=[failure.getErrorMessage()[:500]],
                          listed_url=request.meta.get("listed_url"))


class ProgressWriter(Protocol):
    """Where a spider's backfill progress goes (the ArchivePipeline, off the reactor)."""

    def set_channel_progress(self, portal_id: str, channel_url: str, *, last_page: int,
                             backfill_complete: bool, resume: dict | None = None) -> None: ...


def _page_key(list_request: ListRequest) -> tuple:
    """What identifies a list page's request (its context only says how to read it)."""
    return (list_request.method, list_request.url,
            json.dumps(list_request.formdata or {}, sort_keys=True))


def _sent_home(response: Response) -> bool:
    """A revisited article that now redirects to the site's home page was taken down."""
    if not response.meta.get("redirect_urls"):
        return False
    path = urlsplit(response.url).path
    return path in ("", "/") or path.rsplit("/", 1)[-1] in ("index.html", "index.shtml",
                                                            "index.htm", "default.html")


def _text(response: Response) -> str:
    from govcrawl.text.decode import decode_body

    headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1")
               for k, v in response.headers.items()}
    return decode_body(response.body, headers).text


def _failure_reason(failure: Failure) -> str:
    """A short reject reason for a request that produced no usable response."""
    from scrapy import exceptions as scrapy_errors
    from scrapy.exceptions import IgnoreRequest
    from twisted.internet import error as net
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    if failure.check(scrapy_errors.CannotResolveHostError, net.DNSLookupError):
        return "dns"
    if failure.check(scrapy_errors.DownloadTimeoutError, net.TimeoutError, net.TCPTimedOutError):
        return "timeout"
    if failure.check(scrapy_errors.DownloadConnectionRefusedError, net.ConnectionRefusedError):
        return "connection-refused"
    if failure.check(scrapy_errors.ResponseDataLossError, ResponseFailed):
        return "truncated"
    if failure.check(scrapy_errors.DownloadCancelledError):
        return "oversized"
    if failure.check(ResponseNeverReceived, net.ConnectionLost, net.ConnectionDone,
                     scrapy_errors.DownloadFailedError):
        return "connection-reset"
    if failure.check(IgnoreRequest):
        message = failure.getErrorMessage().lower()
        if "robots" in message:
            return "robots"
        if "maxsize" in message or "cancel" in message:
            return "oversized"
        if "redirect" in message:
            return "redirect-loop"
        return "ignored"
    if "SSL" in repr(failure.value) or "TLS" in repr(failure.value):
        return "tls"
    return failure.type.__name__.lower() if failure.type else "failure"
