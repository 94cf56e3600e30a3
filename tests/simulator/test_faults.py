"""Every fault happens exactly where the ground truth says, and only there."""

from __future__ import annotations

import http.client
import time

import pytest

from govcrawl.simulator import FAULT_KINDS, FaultPlan, Simulator

SHARE = 0.07  # 13 kinds x 0.07 = 0.91 of all article URLs carry a fault


@pytest.fixture(scope="module")
def faulty():
    plan = FaultPlan(rates={k: SHARE for k in FAULT_KINDS}, seed=9, slow_delay=0.3,
                     oversize_bytes=300_000, crawl_delay=2)
    with Simulator(size=16, seed=9, faults=plan) as s:
        yield s


def _expect(kind: str | None, art: dict, get) -> None:
    url = art["url"]
    if kind == "reset":
        with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
            get(url)
        return
    if kind == "truncated":
        with pytest.raises(http.client.IncompleteRead):
            get(url)
        return
    t0 = time.monotonic()
    resp = get(url)
    elapsed = time.monotonic() - t0
    body = resp.body
    if kind == "404":
        assert resp.status == 404
    elif kind == "500":
        assert resp.status == 500
    elif kind == "challenge-412":
        assert resp.status == 412 and b"$_ts" in body
        assert "FSSBBIl1UgzbN7N80S" in resp.headers["Set-Cookie"]
    elif kind in ("challenge-521", "challenge-512"):
        assert resp.status == int(kind[-3:]) and b"document.cookie=" in body
        assert "__jsluid" in resp.headers["Set-Cookie"]
    elif kind == "waf-403":
        assert resp.status == 403 and 2300 < len(body) < 3000
        assert resp.headers["Server"] == "openresty" and resp.headers["X-CCDN-REQ-ID"]
    elif kind == "redirect-loop":
        assert resp.status == 302
        nxt = get(url.split("://", 1)[0] + "://" + url.split("://", 1)[1].split("/", 1)[0]
                  + resp.headers["Location"])
        assert nxt.status == 302
        assert nxt.headers["Location"] == url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])
    elif kind == "binary":
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/html")
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
    elif kind == "oversized":
        assert resp.status == 200 and len(body) > 300_000
        assert art["title"].encode(art["encoding"], "xmlcharrefreplace") in body or \
            art["portal"] in ("farm", "twfx")
    else:  # None, slow, robots: a normal article page
        assert resp.status == 200 and b"<html" in body
        assert "ETag" in resp.headers
        if kind == "slow":
            assert elapsed >= 0.3


def test_each_fault_where_truth_says(faulty: Simulator, get) -> None:
    truth = faulty.truth()
    seen: set[str | None] = set()
    for portal in truth["portals"]:
        for art in portal["articles"]:
            _expect(art["fault"], art, get)
            seen.add(art["fault"])
            if art["fault"]:
                assert truth["faults"][art["url"]]["kind"] == art["expected_kind"]
    assert seen == {*FAULT_KINDS, None}
    robots = [a["url"] for p in truth["portals"] for a in p["articles"] if a["fault"] == "robots"]
    assert sorted(faulty.stats()["robots_violations"]) == sorted(
        u.split("://", 1)[1].split("/", 1)[1].join(["/", ""]) for u in robots)


def test_expected_classification(faulty: Simulator) -> None:
    want = {"404": ("error", "http-404"), "500": ("error", "http-500"),
            "challenge-412": ("challenge", "ruishu-412"),
            "challenge-521": ("challenge", "jsl-521"), "challenge-512": ("challenge", "jsl-512"),
            "waf-403": ("blocked", "waf-403"), "robots": ("skipped", "robots"),
            "slow": ("article", None)}
    for art in faulty.iter_articles("court"):
        if art["fault"] in want:
            assert (art["expected_kind"], art["expected_reason"]) == want[art["fault"]]
        elif art["fault"] is None:
            assert art["expected_kind"] == "article"


def test_lists_are_never_faulted(faulty: Simulator, get) -> None:
    for portal in faulty.truth_portals():
        assert get(portal["start_urls"][0]).status == 200


def test_fault_plan_parse_and_determinism() -> None:
    plan = FaultPlan.parse("404=0.05,500=0.02,challenge-412=0.02,slow=0.01,slow-delay=3,"
                           "crawl-delay=2,robots-disallow=/search/,412=0.01", seed=4)
    assert plan.rates["challenge-412"] == 0.01  # the alias wins as the later item
    assert plan.slow_delay == 3 and plan.crawl_delay == 2
    assert plan.robots_disallow == ("/search/",)
    again = FaultPlan.parse(plan.spec())
    assert again == plan
    faults = [plan.fault_for("spp", i) for i in range(2000)]
    assert faults == [FaultPlan.parse(plan.spec()).fault_for("spp", i) for i in range(2000)]
    share = faults.count("404") / 2000
    assert 0.03 < share < 0.07
    other = FaultPlan.parse("404=0.05", seed=5)
    assert [other.fault_for("spp", i) for i in range(200)] != \
        [FaultPlan.parse("404=0.05", seed=4).fault_for("spp", i) for i in range(200)]
    for bad in ("nonsense=0.1", "404", "404=2", "404=0.6,500=0.6", "slow-delay=x"):
        with pytest.raises(ValueError):
            FaultPlan.parse(bad)
