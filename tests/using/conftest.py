"""Fixtures for the archive-use commands: an archive imported from the dev set (fast, built once
per session), one crawled from the simulator (slow), and an in-process CLI runner."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from govcrawl import ingest  # noqa: E402
from govcrawl.portals.registry import load_registry  # noqa: E402
from govcrawl.store import open_archive  # noqa: E402
from tests.using.usehelpers import SIM_PORTALS, copy_db, run_cli  # noqa: E402


@pytest.fixture
def govcrawl_cli():
    return run_cli


@pytest.fixture(scope="session")
def devset_pages(testdata: Path) -> Path:
    return testdata / "devset" / "pages"


@pytest.fixture(scope="session")
def devset_gold(testdata: Path) -> dict[str, dict]:
    lines = (testdata / "devset" / "gold.jsonl").read_text("utf-8").splitlines()
    return {g["id"]: g for g in map(json.loads, lines)}


@pytest.fixture(scope="session")
def devset_db(tmp_path_factory, devset_pages: Path) -> Path:
    """The 40 dev-set responses imported (shipped portal declarations only); do not write."""
    db = tmp_path_factory.mktemp("devset") / "archive.db"
    with open_archive(f"sqlite:///{db}") as arc:
        resolver = ingest.PortalResolver(load_registry("").portals.values())
        report = ingest.import_saved_pages(arc, [devset_pages], resolver)
    assert report.errors == []
    return db


@pytest.fixture
def devset_copy(devset_db: Path, tmp_path: Path, monkeypatch) -> Path:
    """A writable copy of the dev-set archive, also made the default archive."""
    db = copy_db(devset_db, tmp_path / "archive.db")
    monkeypatch.setenv("GOVCRAWL_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("GOVCRAWL_PORTALS", "")
    return db


@pytest.fixture
def devset_env(devset_db: Path, monkeypatch) -> Path:
    """The shared dev-set archive as the default archive (read-only tests)."""
    monkeypatch.setenv("GOVCRAWL_DATABASE_URL", f"sqlite:///{devset_db}")
    monkeypatch.setenv("GOVCRAWL_PORTALS", "")
    return devset_db


@dataclass
class SimArchive:
    db: Path
    portals_toml: Path
    truth: dict


@pytest.fixture(scope="session")
def sim_archive(tmp_path_factory) -> SimArchive:
    """The eight simulated portals crawled once (a `govcrawl crawl` subprocess); do not write."""
    from tests.crawl.conftest import make_site

    site = make_site(tmp_path_factory.mktemp("sim"), size=8)
    try:
        result = site.crawl(*SIM_PORTALS)
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        truth = site.simulator.truth()
    finally:
        site.simulator.stop()
    return SimArchive(site.db_path, site.workdir / "portals.toml", truth)


@pytest.fixture
def sim_copy(sim_archive: SimArchive, tmp_path: Path, monkeypatch) -> Path:
    db = copy_db(sim_archive.db, tmp_path / "sim.db")
    monkeypatch.setenv("GOVCRAWL_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("GOVCRAWL_PORTALS", str(sim_archive.portals_toml))
    return db




@pytest.fixture
def pg_devset(devset_pages: Path):
    """The dev set imported into a throwaway PostgreSQL database (dropped afterwards)."""
    from tests.conftest import throwaway_pg_database

    with throwaway_pg_database("govcrawl_using") as url:
        with open_archive(url) as arc:
            resolver = ingest.PortalResolver(load_registry("").portals.values())
            ingest.import_saved_pages(arc, [devset_pages], resolver)
        yield url
