"""The loopback HTTP server: all portals on one host:port, one path prefix per portal.

Standard library only (ThreadingHTTPServer), so crawl tests can run it in-process or as a
subprocess without Scrapy or any web framework.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import struct
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from govcrawl.simulator import render
from govcrawl.simulator.corpus import (
    DISCOVERY_BY_ID,
    DISCOVERY_COLUMNS,
    FARM_SOURCES,
    PORTAL_BY_ID,
    PORTALS,
    Corpus,
    PortalSpec,
    article_path,
    discovery_channel_path,
    index_from_id,
    rng_for,
)
from govcrawl.simulator.faults import EXPECTED, FaultPlan
from govcrawl.simulator.render import Page

ARTICLE_PATTERNS: dict[str, re.Pattern[str]] = {
    "trs": re.compile(r"^/zdgz/\d{6}/t\d{8}_(\d+)\.shtml$"),
    "chinapeace": re.compile(r"^/chinapeace/c100007/\d{4}-\d{2}/\d{2}/content_(\d+)\.shtml$"),
    "hanweb": re.compile(r"^/art/\d{4}/\d{1,2}/\d{1,2}/art_282_(\d+)\.html$"),
    "founder": re.compile(r"^/index_article/content/\d{4}-\d{2}/\d{2}/content_(\d+)\.htm$"),
    "chinacourt": re.compile(r"^/article/detail/\d{4}/\d{2}/id/(\d+)\.shtml$"),
    "county": re.compile(r"^/content/646943/69/(\d+)\.html$"),
    "twfx": re.compile(r"^/news/\d{4}/\d{4}/(\d+)\.html$"),
}
LIST_PATTERNS: dict[str, re.Pattern[str]] = {
    "trs": re.compile(r"^/zdgz/index(?:_(\d+))?\.shtml$"),
    "chinapeace": re.compile(r"^/chinapeace/c100007/index(?:_(\d+))?\.shtml$"),
    "founder": re.compile(r"^/index_article/node_5955(?:_(\d+))?\.htm$"),
    "chinacourt": re.compile(r"^/article/index/id/MzAwNDAwMgCRhAEA(?:/page/(\d+))?\.shtml$"),
}
GENERIC_LIST = re.compile(r"^/(?:zfdt|news|a)/list_(\d+)\.html$")


def _article_pattern(portal: PortalSpec) -> re.Pattern[str]:
    return ARTICLE_PATTERNS.get(portal.dialect) or ARTICLE_PATTERNS[portal.id]


class Simulator:
    """Synthetic 政法 portals served over HTTP, with a clock, faults and ground truth."""

    def __init__(self, size: int = 100, seed: int = 0, faults: FaultPlan | None = None) -> None:
        self.corpus = Corpus(size=size, seed=seed)
        self.faults = faults or FaultPlan()
        self.seed = seed
        self.base_url: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._stats_lock = threading.Lock()
        self.status_counts: Counter[int] = Counter()
        self.requests_served = 0
        self.robots_violations: list[str] = []
        self.arrivals: dict[str, list[float]] = {}  # host -> time.time() of each request
        self._page_cache: OrderedDict[tuple[str, int, int], Page] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._oversize_pad: bytes | None = None
        self._discovery_paths: dict[str, tuple[int, dict[str, int]]] = {}

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; returns the base URL (no trailing slash)."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._stopping.clear()
        server = _Server((host, port), _Handler)
        server.simulator = self
        self._server = server
        # bound AF_INET/AF_INET6: getsockname() gives (str, int, ...); typeshed's attribute
        # type also admits the bytes a constructor may take
        real_host, real_port = cast("tuple[str, int]", server.server_address[:2])
        self.base_url = f"http://{real_host}:{real_port}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="govcrawl-simulator", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving, cut open connections and join every thread."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()  # joins handler threads (block_on_close)
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Simulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- clock / controls -------------------------------------------------------------------

    def publish(self, n: int) -> int:
        """Add n newer articles per portal; returns the new article count per portal."""
        if n < 0:
            raise ValueError("n must be >= 0")
        self.corpus.publish(n)
        return self.corpus.count

    def edit(self, article_id: str) -> int:
        """Change an article's text and editor; returns its new version."""
        return self.corpus.edit(article_id)

    def delete(self, article_id: str) -> None:
        """Make an article 404 and remove it from lists."""
        self.corpus.delete(article_id)

    def url(self, path: str) -> str:
        """Absolute URL of a path on the running server."""
        if self.base_url is None:
            raise RuntimeError("simulator not started")
        return self.base_url + path

    # -- truth --------------------------------------------------------------------------------

    def fault_of(self, portal_id: str, index: int) -> str | None:
        """The fault carried by an article URL (None: well-behaved)."""
        return self.faults.fault_for(portal_id, index)

    def _abs(self, path: str) -> str:
        return (self.base_url or "") + path

    def article_truth(self, article_id: str) -> dict[str, Any]:
        """Truth of one live article, with its URL, fault and expected classification."""
        portal, index = self.corpus.parse_id(article_id)
        return self._decorate(self.corpus.view(portal.id, index).truth())

    def _decorate(self, rec: dict[str, Any]) -> dict[str, Any]:
        fault = self.fault_of(rec["portal"], rec["index"])
        kind, reason = EXPECTED[fault] if fault else ("article", None)
        rec["url"] = self._abs(rec["url_path"])
        rec["fault"] = fault
        rec["expected_kind"] = kind
        rec["expected_reason"] = reason
        return rec

    def iter_articles(self, portal_id: str) -> Iterator[dict[str, Any]]:
        """Truth records of one portal's live articles, newest first (lazy)."""
        for rec in self.corpus.iter_truth(portal_id):
            yield self._decorate(rec)

    def portal_info(self, portal: PortalSpec) -> dict[str, Any]:
        """Id, name, dialect and start URLs of one portal."""
        return {
            "id": portal.id, "name": portal.name, "dialect": portal.dialect,
            "script": portal.script, "page_size": portal.page_size,
            "prefix": self._abs(f"/{portal.id}/"),
            "start_urls": [self._abs(p) for p in self.corpus.start_paths(portal)],
            "robots_txt": self._abs("/robots.txt"),
        }

    def truth_portals(self) -> list[dict[str, Any]]:
        """Id, name, dialect and start URLs of every portal (no articles)."""
        return [self.portal_info(p) for p in PORTALS]

    def discovery_portals(self) -> list[dict[str, Any]]:
        """The same for the portals known only by their home page (kept apart, so the eight
        portals' truth is unchanged)."""
        return [self.portal_info(p) for p in DISCOVERY_BY_ID.values()]

    def truth(self, portals: tuple[str, ...] | None = None) -> dict[str, Any]:
        """Everything a test may check, as plain data (JSON-serialisable)."""
        chosen = [p for p in PORTALS if portals is None or p.id in portals]
        groups = self.corpus.syndication_groups()
        group_of = {aid: n for n, g in enumerate(groups) for aid in g}
        out_portals = []
        faults: dict[str, dict[str, Any]] = {}
        for portal in chosen:
            info = self.portal_info(portal)
            arts = []
            for rec in self.iter_articles(portal.id):
                rec["syndication_group"] = group_of.get(rec["id"])
                arts.append(rec)
                if rec["fault"]:
                    faults[rec["url"]] = {"id": rec["id"], "fault": rec["fault"],
                                          "kind": rec["expected_kind"],
                                          "reason": rec["expected_reason"]}
            info["articles"] = arts
            out_portals.append(info)
        return {
            "seed": self.seed,
            "article_slots": self.corpus.count,
            "base_url": self.base_url,
            "portals": out_portals,
            "syndication_groups": [[self._abs(self._path_of(a)) for a in g] for g in groups],
            "syndication_group_ids": groups,
            "faults": faults,
            "deleted": sorted(self.corpus.deleted),
            "robots_txt": self.robots_txt(),
            "fault_plan": self.faults.spec(),
        }

    def _path_of(self, article_id: str) -> str:
        portal, index = self.corpus.parse_id(article_id)
        return article_path(self.seed, portal, index)

    def stats(self) -> dict[str, Any]:
        """Request counters (for tests that check politeness and robots compliance)."""
        with self._stats_lock:
            return {"requests": self.requests_served,
                    "status": {str(k): v for k, v in sorted(self.status_counts.items())},
                    "robots_violations": list(self.robots_violations)}

    # -- robots --------------------------------------------------------------------------------

    def robots_txt(self, portal: PortalSpec | None = None) -> str:
        """robots.txt for the host (all portals) or one portal's section."""
        lines = ["User-agent: *"]
        disallow: list[str] = []
        for p in PORTALS if portal is None else (portal,):
            disallow += [f"/{p.id}{prefix}" for prefix in self.faults.robots_disallow]
            if self.faults.rates.get("robots"):
                for index in range(self.corpus.count):
                    if self.fault_of(p.id, index) == "robots":
                        disallow.append(article_path(self.seed, p, index).split("?")[0])
        lines += [f"Disallow: {d}" for d in disallow] or ["Disallow:"]
        if self.faults.crawl_delay is not None:
            lines.append(f"Crawl-delay: {self.faults.crawl_delay:g}")
        return "\n".join(lines) + "\n"

    # -- routing --------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Any, form: dict[str, str]) -> Page:
        """Route one request to a Page (faults are marked in Page.extra for the handler)."""
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        if path == "/robots.txt":
            return Page(200, [("Content-Type", "text/plain; charset=utf-8")],
                        self.robots_txt().encode("utf-8"))
        if path.startswith("/_control/"):
            return self._control(path[len("/_control/"):], query, form)
        pid, _, rest = path[1:].partition("/")
        portal = PORTAL_BY_ID.get(pid)
        if portal is None and pid in DISCOVERY_BY_ID:
            target = "/" + rest + (f"?{parts.query}" if parts.query else "")
            return self._discovery(DISCOVERY_BY_ID[pid], target, raw_path, query, headers)
        if portal is None:
            return self._index_page() if path == "/" else render.not_found()
        rest = "/" + rest
        if rest == "/robots.txt":
            return Page(200, [("Content-Type", "text/plain; charset=utf-8")],
                        self.robots_txt(portal).encode("utf-8"))
        if rest.startswith("/files/"):
            bits = rest.split("/")
            if len(bits) == 4 and bits[2].isdigit() and self.corpus.is_live(pid, int(bits[2])):
                return render.media_file(rest)
            return render.not_found()
        page = self._list(portal, rest, query, form, method)
        if page is not None:
            return page
        index = self._article_index(portal, rest)
        if index is None or not self.corpus.is_live(pid, index):
            return render.not_found()
        return self._article(portal, index, raw_path, query, headers)

    def _index_page(self) -> Page:
        links = "".join(
            f'<li><a href="{u}">{p.name}</a></li>'
            for p in PORTALS for u in self.corpus.start_paths(p))
        html = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>govcrawl simulator'
                f"</title></head><body><ul>{links}</ul></body></html>")
        return Page(200, [("Content-Type", "text/html; charset=utf-8")], html.encode("utf-8"))

    def _discovery(self, portal: PortalSpec, target: str, raw_path: str,
                   query: dict[str, list[str]], headers: Any) -> Page:
        """A discovery portal: home page, column lists, same-site noise pages, articles."""
        c = self.corpus
        if target in ("/", "/index.html"):
            return render.render_discovery_home(c, portal)
        if target in render.DISCOVERY_STATIC:
            return render.render_static(portal, render.DISCOVERY_STATIC[target])
        if target == "/mailbox/index.html":
            return render.render_static(portal, "领导信箱")
        prefix = f"/{portal.id}"
        for column in range(DISCOVERY_COLUMNS):
            for page in range(render.page_count(c, portal) + 1):
                if prefix + target == discovery_channel_path(portal, column, page):
                    return (render.render_discovery_list(c, portal, column, page)
                            or render.not_found())
        index = self._discovery_index(portal).get(prefix + target)
        if index is None or not c.is_live(portal.id, index):
            return render.not_found()
        return self._article(portal, index, raw_path, query, headers)

    def _discovery_index(self, portal: PortalSpec) -> dict[str, int]:
        """Article path → index of a discovery portal (GUID paths have no inverse)."""
        with self._cache_lock:
            count, paths = self._discovery_paths.get(portal.id, (-1, {}))
            if count != self.corpus.count:
                paths = {article_path(self.seed, portal, i): i for i in range(self.corpus.count)}
                self._discovery_paths[portal.id] = (self.corpus.count, paths)
            return paths

    def _article_index(self, portal: PortalSpec, rest: str) -> int | None:
        if portal.dialect == "farm":
            for src_id in FARM_SOURCES:
                src = PORTAL_BY_ID[src_id]
                m = _article_pattern(src).match(rest)
                if m is None:
                    continue
                index = index_from_id(src, int(m.group(1)))
                if index is not None and FARM_SOURCES[index % len(FARM_SOURCES)] == src_id:
                    return self._check(portal, index, rest)
            return None
        m = _article_pattern(portal).match(rest)
        if m is None:
            return None
        index = index_from_id(portal, int(m.group(1)))
        return None if index is None else self._check(portal, index, rest)

    def _check(self, portal: PortalSpec, index: int, rest: str) -> int | None:
        canonical = article_path(self.seed, portal, index).split("?")[0]
        return index if canonical == f"/{portal.id}{rest}" else None

    def _list(self, portal: PortalSpec, rest: str, query: dict[str, list[str]],
              form: dict[str, str], method: str) -> Page | None:
        c = self.corpus
        if portal.dialect == "hanweb":
            if rest == "/col/col282/index.html":
                return render.render_hanweb_column(c, portal)
            if rest == "/module/web/jpage/dataproxy.jsp":
                fields = {k: v[0] for k, v in query.items()}
                fields.update(form)
                try:
                    start = int(fields.get("startrecord", "1"))
                    end = int(fields.get("endrecord", str(start + portal.page_size - 1)))
                except ValueError:
                    return Page(400, [("Content-Type", "text/plain")], b"bad record range")
                return render.render_hanweb_dataproxy(c, portal, start, end, fields)
            return None
        if portal.dialect in ("trs", "chinapeace"):
            m = LIST_PATTERNS[portal.dialect].match(rest)
            if m is None:
                return None
            if m.group(1) == "0":
                return render.not_found()
            return render.render_trs_list(c, portal, int(m.group(1) or 0))
        if portal.dialect == "founder":
            m = LIST_PATTERNS["founder"].match(rest)
            if m is None:
                return None
            n = int(m.group(1) or 1)
            if m.group(1) is not None and n < 2:
                return render.not_found()
            return render.render_founder_list(c, portal, n - 1) or render.not_found()
        if portal.dialect == "chinacourt":
            m = LIST_PATTERNS["chinacourt"].match(rest)
            if m is None:
                return None
            n = int(m.group(1) or 1)
            if n < 1:
                return render.not_found()
            return render.render_court_list(c, portal, n - 1) or render.not_found()
        m = GENERIC_LIST.match(rest)
        if m is None or f"/{portal.id}{rest}" != f"/{portal.id}" + portal.list_path.format(
                n=m.group(1)):
            return None
        n = int(m.group(1))
        if n < 1:
            return render.not_found()
        return render.render_generic_list(c, portal, n - 1) or render.not_found()

    def _article(self, portal: PortalSpec, index: int, raw_path: str,
                 query: dict[str, list[str]], headers: Any) -> Page:
        fault = self.fault_of(portal.id, index)
        key = f"{portal.id}:{index}"
        if fault == "robots":
            with self._stats_lock:
                self.robots_violations.append(raw_path)
        if fault == "404":
            return render.not_found()
        if fault == "500":
            return render.server_error()
        if fault == "challenge-412":
            return render.ruishu_412(key)
        if fault in ("challenge-521", "challenge-512"):
            return render.jsl_challenge(int(fault[-3:]))
        if fault == "waf-403":
            return render.waf_403(key)
        if fault == "redirect-loop":
            base = raw_path.split("?")[0]
            other = dict(query)
            if "loop" in other:
                other.pop("loop")
                target = base + ("?" + "&".join(f"{k}={v[0]}" for k, v in other.items())
                                 if other else "")
            else:
                target = raw_path + ("&" if "?" in raw_path else "?") + "loop=1"
            return Page(302, [("Location", target), ("Content-Type", "text/html")],
                        b"<html><body>Moved</body></html>")
        if fault == "binary":
            rng = rng_for(self.seed, "binary", key)
            data = b"\x89PNG\r\n\x1a\n" + rng.randbytes(16 * 1024)
            return Page(200, [("Content-Type", "text/html; charset=utf-8")], data)
        if fault == "reset":
            return Page(0, [], b"", {"fault": "reset"})
        if fault == "slow":
            self._stopping.wait(self.faults.slow_delay)
        view = self.corpus.view(portal.id, index)
        etag = '"' + hashlib.blake2b(f"{self.seed}:{key}:{view.version}".encode(),
                                     digest_size=8).hexdigest() + '"'
        last_modified = self.corpus.last_modified(view)
        validators = [("ETag", etag), ("Last-Modified", render.http_date(last_modified))]
        if _not_modified(headers, etag, last_modified):
            return Page(304, validators, b"")
        page = self._rendered(view)
        out = Page(page.status, page.headers + validators, page.body)
        if fault == "truncated":
            out.extra["fault"] = "truncated"
        elif fault == "oversized":
            out.body = self._oversized(page.body)
        return out

    def _rendered(self, view: Any) -> Page:
        key = (view.portal.id, view.index, view.version)
        with self._cache_lock:
            page = self._page_cache.get(key)
            if page is not None:
                self._page_cache.move_to_end(key)
                return page
        page = render.render_article(view)
        with self._cache_lock:
            self._page_cache[key] = page
            if len(self._page_cache) > 2048:
                self._page_cache.popitem(last=False)
        return page

    def _oversized(self, body: bytes) -> bytes:
        if self._oversize_pad is None:
            line = b"<!-- " + b"x" * 1018 + b" -->\n"
            self._oversize_pad = line * (self.faults.oversize_bytes // len(line) + 2)
        cut = body.rfind(b"</body>")
        return body[:cut] + self._oversize_pad + body[cut:]

    def _control(self, action: str, query: dict[str, list[str]], form: dict[str, str]) -> Page:
        args = {k: v[0] for k, v in query.items()}
        args.update(form)
        try:
            if action == "publish":
                result: Any = {"article_slots": self.publish(int(args.get("n", "1")))}
            elif action == "edit":
                result = {"id": args["id"], "version": self.edit(args["id"])}
            elif action == "delete":
                self.delete(args["id"])
                result = {"id": args["id"], "deleted": True}
            elif action == "truth":
                portals = tuple(args["portal"].split(",")) if "portal" in args else None
                result = self.truth(portals)
            elif action == "article":
                result = self.article_truth(args["id"])
            elif action == "portals":
                result = self.truth_portals()
            elif action == "stats":
                result = self.stats()
            elif action == "request-times":
                result = self.request_times()
            else:
                return render.not_found()
        except (KeyError, ValueError) as exc:
            body = json.dumps({"error": str(exc)}, ensure_ascii=False).encode("utf-8")
            return Page(400, [("Content-Type", "application/json; charset=utf-8")], body)
        body = json.dumps(result, ensure_ascii=False).encode("utf-8")
        return Page(200, [("Content-Type", "application/json; charset=utf-8")], body)

    def arrived(self, host: str) -> None:
        """Record when a request for `host` arrived (politeness tests measure the rate)."""
        with self._stats_lock:
            self.arrivals.setdefault(host.rpartition(":")[0] or host, []).append(time.time())

    def request_times(self) -> dict[str, list[float]]:
        """Arrival times of the requests, per host (the Host header, without the port)."""
        with self._stats_lock:
            return {host: list(times) for host, times in self.arrivals.items()}

    def count(self, status: int, path: str) -> None:
        """Record one served response."""
        with self._stats_lock:
            self.requests_served += 1
            self.status_counts[status] += 1

    @property
    def stopping(self) -> threading.Event:
        """Set while the server shuts down (slow responses stop waiting)."""
        return self._stopping


def _not_modified(headers: Any, etag: str, last_modified: Any) -> bool:
    inm = headers.get("If-None-Match")
    if inm:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return etag in tags or "*" in tags
    ims = headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return last_modified.replace(microsecond=0) <= since
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins handler threads: no leaks in tests
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128
    simulator: Simulator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-response (a crawler's size cap) is not a server error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections."""
        with self._open_lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 30
    server: _Server

    _server_name = "nginx"

    def setup(self) -> None:
        """Disable Nagle: headers and body go out at once (no delayed-ACK stalls)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self) -> str:
        """The Server header: the page's own (e.g. openresty for WAF shells) or nginx."""
        return self._server_name

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr log."""

    def do_GET(self) -> None:
        self._serve("GET", {})

    def do_HEAD(self) -> None:
        self._serve("HEAD", {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        self._serve("POST", form)

    def _serve(self, method: str, form: dict[str, str]) -> None:
        sim = self.server.simulator
        sim.arrived(self.headers.get("Host", ""))
        page = sim.handle(method, self.path, self.headers, form)
        fault = page.extra.get("fault")
        sim.count(page.status, self.path)
        if fault == "reset":
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            return
        self._server_name = dict(page.headers).get("Server", "nginx")
        self.send_response(page.status)
        for name, value in page.headers:
            if name != "Server":
                self.send_header(name, value)
        if page.status == 304:
            self.end_headers()
            return
        declared = len(page.body) + (4096 if fault == "truncated" else 0)
        self.send_header("Content-Length", str(declared))
        if fault == "truncated":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if method == "HEAD":
            return
        body = page.body[: len(page.body) // 2] if fault == "truncated" else page.body
        try:
            for pos in range(0, len(body), 1 << 16):
                self.wfile.write(body[pos:pos + (1 << 16)])
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
