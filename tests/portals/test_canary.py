"""The canary against the simulator (loopback only): what it finds, how politely, when it fails."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from govcrawl import settings
from govcrawl.canary import (
    Fetcher,
    check_portal,
    check_portals,
    compare_expected,
    observe_fixture,
    replay_fixture,
)
from govcrawl.demo import simulator_declarations
from govcrawl.portals.registry import portal_from_mapping
from govcrawl.simulator import FaultPlan, Simulator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "portals"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that would leave the machine."""
    real = socket.socket.connect

    def connect(self: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"test tried to reach {address}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(size=30, seed=7) as simulator:
        yield simulator


def _by_url(sim: Simulator) -> dict[str, dict]:
    return {rec["url"]: rec for p in sim.truth_portals() for rec in sim.iter_articles(p["id"])}


def test_every_simulated_portal_passes_with_true_titles_and_dates(sim: Simulator) -> None:
    truth = _by_url(sim)
    mirrors = {f"{p['prefix']}" for p in sim.truth_portals() if p["dialect"] == "farm"}
    reports = check_portals(simulator_declarations(sim), articles=2, delay=0)
    assert len(reports) == len(sim.truth_portals())
    for report in reports:
        assert report.ok, "\n".join(report.lines())
        assert report.lists[0].status == 200
        assert sum(page.links for page in report.lists) > 0
        pages = [a for a in report.articles if a.kind == "article"]
        assert pages
        for art in pages:
            assert art.url in truth, art.url
            if not any(art.url.startswith(prefix) for prefix in mirrors):
                assert art.title == truth[art.url]["title"]  # a farm copy keeps its garble
            assert art.published_at[:10] == truth[art.url]["published_at"][:10]
            assert art.published_from != "url"


def test_trs_canary_follows_createpagehtml_to_the_second_page(sim: Simulator) -> None:
    spp = next(p for p in simulator_declarations(sim) if p.dialect == "trs")
    report = check_portal(spp, Fetcher(settings.USER_AGENT, delay=0), articles=1)
    assert [page.url.rsplit("/", 1)[-1] for page in report.lists] == ["index.shtml",
                                                                     "index_1.shtml"]
    assert report.lists[0].total_pages and report.lists[0].total_pages >= 2
    assert len(report.articles) == 1


def test_hanweb_canary_reaches_the_dataproxy_rows(sim: Simulator) -> None:
    hanweb = next(p for p in simulator_declarations(sim) if p.dialect == "hanweb")
    fetcher = Fetcher(settings.USER_AGENT, delay=0)
    report = check_portal(hanweb, fetcher, articles=1)
    assert report.ok, "\n".join(report.lines())
    assert report.lists[0].links == 0 and report.lists[1].links > 0
    assert ("POST", report.lists[1].url) in [(m, u) for m, u, _s in fetcher.log]


def test_a_declaration_whose_pattern_matches_nothing_fails(sim: Simulator) -> None:
    spp = next(p for p in simulator_declarations(sim) if p.dialect == "trs")
    broken = replace(spp, article_pattern=r"/zdgz/\d{6}/t\d{8}_\d+\.html$")  # .html, not .shtml
    [report] = check_portals([broken], delay=0)
    assert not report.ok
    assert report.articles == []
    assert any("no article links" in p for p in report.problems)
    assert "FAILED" in report.lines()[0]


def test_robots_txt_is_obeyed_and_a_disallowed_channel_fails() -> None:
    plan = FaultPlan.parse("robots-disallow=/zdgz/,robots=0.5", seed=1)
    with Simulator(size=20, seed=1, faults=plan) as simulator:
        decls = simulator_declarations(simulator)
        spp = next(p for p in decls if p.dialect == "trs")
        [blocked] = check_portals([spp], delay=0)
        others = check_portals([p for p in decls if p.dialect in ("chinacourt", "founder")],
                               articles=6, delay=0)
        assert simulator.stats()["robots_violations"] == []
    assert not blocked.ok
    assert blocked.lists[0].status == 0 and "robots.txt" in blocked.lists[0].problem
    skipped = [a for r in others for a in r.articles if a.reason and "robots" in a.reason]
    assert skipped, "with robots=0.5 some of 12 articles are disallowed"


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None, float]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("User-Agent"), time.monotonic()))
        if self.path == "/robots.txt":
            body = b"User-agent: *\nDisallow: /private/\nCrawl-delay: 0.3\n"
            self.send_response(200)
        else:
            body = b"<html><body>not here</body></html>"
            self.send_response(404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_user_agent_robots_first_crawl_delay_and_a_404_list_fails(recorder: str) -> None:
    portal = portal_from_mapping({
        "id": "t_rec", "name": "测试", "dialect": "trs",
        "start_urls": [f"{recorder}/zdgz/index.shtml", f"{recorder}/private/index.shtml"]})
    fetcher = Fetcher(settings.USER_AGENT, delay=0)
    report = check_portal(portal, fetcher)
    assert not report.ok and report.lists[0].status == 404
    assert "error: http-404" in report.lists[0].problem
    assert fetcher.allowed(f"{recorder}/private/index.shtml") is False
    check_portal(portal, fetcher)  # same host again: robots.txt is cached, Crawl-delay applies
    paths = [path for path, _ua, _t in _Recorder.seen]
    assert paths == ["/robots.txt", "/zdgz/index.shtml", "/zdgz/index.shtml"]
    assert {ua for _p, ua, _t in _Recorder.seen} == {settings.USER_AGENT}
    assert _Recorder.seen[2][2] - _Recorder.seen[1][2] >= 0.29


def test_report_serialises_to_json(sim: Simulator) -> None:
    [report] = check_portals(simulator_declarations(sim)[:1], articles=1, delay=0)
    data = json.loads(json.dumps(report.as_dict(), ensure_ascii=False))
    assert data["ok"] is True and data["portal"] == report.portal
    assert data["articles"][0]["title"] == report.articles[0].title


def test_replay_reports_each_mismatch(tmp_path: Path) -> None:
    from govcrawl.portals.registry import load_registry

    spp = load_registry(user_spec="").get("spp")
    page = FIXTURES / "spp" / "t20210305_510599.html"
    assert replay_fixture(spp, page, tmp_path) == []
    seen = observe_fixture(spp, page, tmp_path)
    wrong = {"title": "别的标题", "author": "邱春艳", "body_starts": "不是这样开头",
             "article_urls": []}
    problems = compare_expected(wrong, seen)
    assert [p.split(":")[0] for p in problems] == ["title", "body_starts", "article_urls"]
    assert compare_expected({}, seen) == ["the sidecar has no `expected` values"]
