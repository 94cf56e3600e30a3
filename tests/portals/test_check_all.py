"""`govcrawl portals check --all`: a row per portal, every start channel, a summary, --write.

Run against the simulator only: its original portals (every dialect) and its discovery
portals (each URL shape known only by a home page, docs/portals.md §7).
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from govcrawl import cli
from govcrawl.demo import simulator_declarations
from govcrawl.portals.registry import Portal, Registry, load_registry, portal_from_mapping
from govcrawl.simulator import Simulator
from govcrawl.simulator.corpus import DISCOVERY_PORTALS
from govcrawl.simulator.render import DISCOVERY_STATIC


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
    with Simulator(size=40, seed=5) as simulator:
        yield simulator


def discovered(sim: Simulator) -> list[Portal]:
    """The discovery portals declared as a homepage-evidence portal is: home page only."""
    return [portal_from_mapping({
        "id": f"sim_{spec.id}", "name": spec.name, "dialect": "discover", "level": "provincial",
        "start_urls": [sim.url(f"/{spec.id}/")],
        "evidence": {"kind": "homepage", "year": 2022, "source": "the simulator",
                     "url": sim.url(f"/{spec.id}/"), "confidence": "low"},
    }, "simulator") for spec in DISCOVERY_PORTALS]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    def invoke(portals: list[Portal], *argv: str) -> tuple[int, str, str]:
        registry = Registry()
        for portal in portals:
            registry.add(portal)
        monkeypatch.setattr("govcrawl.cli.portals.load_registry", lambda: registry)
        capsys.readouterr()
        status = cli.main(["portals", "check", "--all", "--delay", "0", *argv])
        out, err = capsys.readouterr()
        return status, out, err

    return invoke


def test_every_shape_passes_with_one_row_each_and_a_summary(sim: Simulator, run) -> None:
    portals = simulator_declarations(sim) + discovered(sim)
    status, out, err = run(portals, "--articles", "2")
    assert status == 0, out + err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("portal "))
    table = lines[header + 1:]
    rows = [line for line in table if line and not line.startswith((" ", "1", "2", "3"))]
    assert [r.split()[0] for r in rows] == [p.id for p in portals]
    assert all(r.split()[1] == "ok" for r in rows)
    assert lines[-1] == (f"{len(portals)} portals: {len(portals)} ok, 0 failed (0 unreachable, "
                         f"0 with a channel giving no article links); 5 homepage-evidence "
                         "portals verified")
    for portal in discovered(sim):  # the discovered pattern is shown with the advice to write
        block = "\n".join(table[table.index(next(r for r in rows if r.startswith(portal.id))):][:3])
        assert "discover · /" in block and "--write FILE" in block


def test_every_start_channel_is_checked_and_a_dead_one_fails(sim: Simulator, run) -> None:
    [good] = [p for p in discovered(sim) if p.id == "sim_lingnan"]
    two = portal_from_mapping({"id": "two", "name": "双", "dialect": "discover",
                               "start_urls": [good.start_urls[0], sim.url("/nosuch/")]})
    status, out, err = run([two], "--articles", "1", "--json")
    assert status == 1
    [report] = [json.loads(line) for line in out.splitlines()]
    assert [c["url"] for c in report["channels"]] == list(two.start_urls)
    assert report["channels"][0]["article_links"] > 0
    assert report["channels"][1]["article_links"] == 0
    assert report["row"]["reachable"] == "2/2" and not report["ok"]
    assert report["row"]["advice"].startswith(f"no repeated article-shaped links on "
                                              f"{sim.url('/nosuch/')}")
    assert err.strip().endswith("1 portals: 0 ok, 1 failed (0 unreachable, 1 with a channel "
                                "giving no article links); 0 homepage-evidence portals verified")


def test_an_unreachable_portal_says_its_address_may_have_moved(run) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = portal_from_mapping({"id": "gone", "name": "失联", "dialect": "discover",
                                "start_urls": [f"http://127.0.0.1:{port}/"]})
    status, out, _err = run([gone], "--json")
    [report] = [json.loads(line) for line in out.splitlines()]
    assert status == 1 and report["row"]["reachable"] == "0/1"
    assert "the address may have moved" in report["row"]["advice"]


def test_write_turns_homepage_declarations_into_verified_ones(sim: Simulator, run,
                                                              tmp_path: Path) -> None:
    target = tmp_path / "verified.toml"
    target.write_text('[[portal]]\nid = "keep_me"\nname = "留"\ndialect = "trs"\n'
                      'start_urls = ["http://127.0.0.1/k/"]\n', "utf-8")
    status, out, err = run(discovered(sim), "--articles", "1", "--write", str(target))
    assert status == 0, out + err
    assert f"wrote 5 verified declaration(s) to {target}" in out
    registry = load_registry(str(target), include_shipped=False)
    assert registry.errors == []
    assert set(registry.portals) == {"keep_me"} | {p.id for p in discovered(sim)}
    for spec in DISCOVERY_PORTALS:
        portal = registry.get(f"sim_{spec.id}")
        assert portal.evidence.kind == "pattern" and portal.evidence.confidence == "high"
        assert portal.evidence.source.startswith("govcrawl portals check on ")
        pattern = re.compile(portal.article_pattern)
        truth = [a["url"] for a in sim.iter_articles(spec.id)]
        assert all(pattern.search(url) for url in truth)
        assert pattern.search(portal.evidence.url)
        noise = [sim.url(f"/{spec.id}{path}") for path in DISCOVERY_STATIC]
        assert not any(pattern.search(url) for url in [*noise, portal.start_urls[0]])
