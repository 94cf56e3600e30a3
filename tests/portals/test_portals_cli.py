"""`govcrawl portals`, `portals check`, `save-page` and `new-portal-test`, on the simulator only."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from govcrawl import cli
from govcrawl.canary import replay_fixture
from govcrawl.demo import simulator_declarations
from govcrawl.portals.registry import Portal, Registry, load_registry
from govcrawl.simulator import Simulator
from govcrawl.store.db import open_archive


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that would leave the machine."""
    real = socket.socket.connect

    def connect(self: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"test tried to reach {address}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> object:
    """`govcrawl ARGS…` in-process through cli.main: (exit status, stdout, stderr)."""
    def invoke(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = cli.main(list(argv))
        out, err = capsys.readouterr()
        return status, out, err

    return invoke


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(size=25, seed=4) as simulator:
        yield simulator


def toml_for(portals: list[Portal]) -> str:
    """Declarations as a user would write them (download_delay 0: loopback, tests)."""
    blocks = []
    for p in portals:
        urls = ", ".join(json.dumps(u) for u in p.start_urls)
        blocks.append(f'[[portal]]\nid = "{p.id}"\nname = "{p.name}"\ndialect = "{p.dialect}"\n'
                      f"start_urls = [{urls}]\narticle_pattern = '{p.article_pattern}'\n"
                      "[portal.settings]\ndownload_delay = 0\n")
    return "\n".join(blocks)


@pytest.fixture
def declared(sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Portal]:
    portals = simulator_declarations(sim)
    path = tmp_path / "sim.toml"
    path.write_text(toml_for(portals), "utf-8")
    monkeypatch.setenv("GOVCRAWL_PORTALS", str(path))
    monkeypatch.setenv("GOVCRAWL_DATABASE_URL", f"sqlite:///{tmp_path / 'none' / 'a.db'}")
    return portals


def test_list_shows_shipped_and_user_declarations_and_reports_bad_ones(
        run, declared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[portal]]\nid = "bad"\nname = "坏"\ndialect = "nope"\n'
                   'start_urls = ["http://127.0.0.1/"]\n', "utf-8")
    monkeypatch.setenv("GOVCRAWL_PORTALS", f"{tmp_path / 'sim.toml'}:{bad}")
    status, out, err = run("portals")
    assert status == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "spp" in lines and "national" in lines["spp"] and " trs" in lines["spp"]
    assert "湖南" in lines["hnzf"] and "provincial" in lines["hnzf"]
    assert all(p.id in lines for p in declared)
    assert "bad" not in lines
    assert "bad.toml" in err and "'dialect'" in err
    assert "last run" not in out
    assert not (tmp_path / "none").exists(), "listing must not create an archive"


def test_list_shows_the_last_run_from_the_archive(run, declared, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with open_archive(url) as archive:
        archive.ensure_portal("spp", "最高人民检察院")
        first = archive.start_run("spp", {})
        archive.finish_run(first, "failed", {})
        second = archive.start_run("spp", {})
        archive.finish_run(second, "finished", {"items": 3})
    monkeypatch.setenv("GOVCRAWL_DATABASE_URL", url)
    status, out, _err = run("portals", "--json")
    assert status == 0
    rows = {row["id"]: row for row in map(json.loads, out.splitlines())}
    assert rows["spp"]["last_run"]["status"] == "finished"
    assert "last_run" not in rows["chinacourt"]
    status, out, _err = run("portals")
    spp = next(line for line in out.splitlines() if line.startswith("spp "))
    assert spp.endswith("finished") and "last run" in spp


def test_check_named_portals_passes_on_the_simulator(run, declared) -> None:
    ids = [p.id for p in declared if p.dialect in ("trs", "chinacourt")]
    status, out, err = run("portals", "check", *ids, "--articles", "2")
    assert status == 0, out + err
    for pid in ids:
        assert f"{pid} (" in out and "FAILED" not in out
    assert out.count("  article ") == 4
    assert "found: title 2/2, published_at 2/2" in out


def test_check_all_reports_json_and_fails_when_one_portal_breaks(
        run, declared, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry()
    for portal in declared[:2]:
        registry.add(portal)
    broken = Portal(id="sim_broken", name="坏", dialect="trs",
                    start_urls=(declared[0].start_urls[0],),
                    allowed_domains=declared[0].allowed_domains,
                    article_pattern=r"/nothing/\d+\.html$", settings={"download_delay": 0})
    registry.add(broken)
    monkeypatch.setattr("govcrawl.cli.portals.load_registry", lambda: registry)
    status, out, _err = run("portals", "check", "--all", "--articles", "1", "--json")
    assert status == 1
    reports = {r["portal"]: r for r in map(json.loads, out.splitlines())}
    assert set(reports) == {declared[0].id, declared[1].id, "sim_broken"}
    assert reports[declared[0].id]["ok"] and reports[declared[1].id]["ok"]
    assert not reports["sim_broken"]["ok"]
    assert "no article links" in reports["sim_broken"]["problems"][0]


@pytest.mark.parametrize(("argv", "message"), [
    (("portals", "check"), "name portal ids, or give --all"),
    (("portals", "check", "nosuch"), "unknown portal(s): nosuch"),
    (("portals", "check", "spp", "--articles", "0"), "--articles must be at least 1"),
    (("save-page", "ftp://127.0.0.1/x", "--out", "d"), "is not an http(s) URL"),
    (("new-portal-test", "nosuch"), "unknown portal 'nosuch'"),
])
def test_usage_errors_are_one_line_and_exit_2(run, declared, argv, message) -> None:
    status, out, err = run(*argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_save_page_keeps_raw_bytes_headers_and_prefills_expected(
        run, declared, sim: Simulator, tmp_path: Path) -> None:
    trs = next(p for p in declared if p.dialect == "trs")
    record = next(r for r in sim.iter_articles(trs.id.removeprefix("sim_")) if not r["fault"])
    out_dir = tmp_path / "fx"
    status, _out, err = run("save-page", record["url"], "--out", str(out_dir), "--portal", trs.id)
    assert status == 0, err
    [page] = out_dir.glob("*.html")
    assert page.stem == record["url"].rsplit("/", 1)[-1].split(".")[0]
    with urllib.request.urlopen(record["url"]) as response:
        assert page.read_bytes() == response.read()
        content_type = response.headers["Content-Type"]
    side = json.loads(page.with_suffix(".json").read_text("utf-8"))
    assert side["url"] == record["url"] and side["status"] == 200
    assert side["headers"]["Content-Type"] == content_type
    assert side["synthetic"] is False and side["kind"] == "article"
    assert side["expected"]["title"] == record["title"]
    assert replay_fixture(load_registry().get(trs.id), page, tmp_path) == []
    status, _out, err = run("save-page", record["url"], "--out", str(out_dir))
    assert status == 2 and "--force" in err

    status, _out, err = run("save-page", trs.start_urls[0], "--out", str(out_dir),
                            "--portal", trs.id, "--name", "list")
    assert status == 0, err
    side = json.loads((out_dir / "list.json").read_text("utf-8"))
    assert side["kind"] == "list" and side["list_request"]["page"] == 0
    assert record["url"] in side["expected"]["article_urls"]
    assert side["expected"]["next"][0]["url"].endswith("index_1.shtml")


def test_save_page_refuses_a_url_off_the_portals_hosts(run, declared) -> None:
    trs = next(p for p in declared if p.dialect == "trs")
    status, _out, err = run("save-page", "http://localhost:1/x.html", "--out", "d",
                            "--portal", trs.id)
    assert status == 2 and "not on" in err


def test_new_portal_test_writes_a_skeleton_that_points_at_the_fixtures(
        run, declared, tmp_path: Path) -> None:
    trs = next(p for p in declared if p.dialect == "trs")
    target = tmp_path / "tests" / "test_mine.py"
    fixtures = tmp_path / "fixtures" / trs.id
    status, out, err = run("new-portal-test", trs.id, "--fixtures", str(fixtures),
                           "--out", str(target))
    assert status == 0 and out.strip() == str(target)
    assert "does not exist yet" in err
    source = target.read_text("utf-8")
    compile(source, str(target), "exec")
    assert f"PORTAL = {trs.id!r}" in source
    assert "Path(__file__).resolve().parent / '..' / 'fixtures' / " in source
    status, _out, err = run("new-portal-test", trs.id, "--out", str(target))
    assert status == 2 and "--force" in err
