"""End-to-end crawl fixtures: a simulator in this process, crawls in subprocesses.

A Twisted reactor starts once per process, so every crawl runs as a user runs it: a
`scrapy crawl` or `govcrawl crawl` subprocess against the loopback simulator.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from govcrawl.demo import simulator_declarations
from govcrawl.portals.registry import to_toml
from govcrawl.simulator import FaultPlan, Simulator
from tests.conftest import ROOT

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s",
        "GOVCRAWL_BACKOFF_MAX=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s",
        "LOG_LEVEL=INFO"]


@dataclass
class CrawlSite:
    simulator: Simulator
    workdir: Path
    env: dict[str, str]

    @property
    def db_path(self) -> Path:
        return self.workdir / "archive.db"

    def govcrawl(self, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "govcrawl", *args], cwd=self.workdir,
                              env=self.env, capture_output=True, text=True, timeout=timeout)

    def scrapy(self, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def crawl(self, *portal_ids: str, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        return self.govcrawl("crawl", *portal_ids, *args, *FAST)

    def sql(self, query: str, *params) -> list[tuple]:
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(query, params).fetchall()


def make_site(tmp_path: Path, size: int, faults: str = "", seed: int = 3) -> CrawlSite:
    simulator = Simulator(size=size, seed=seed, faults=FaultPlan.parse(faults, seed=seed))
    simulator.start()
    declarations = tmp_path / "portals.toml"
    declarations.write_text(to_toml(simulator_declarations(simulator)), "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVCRAWL_", "SCRAPY_"))}
    env.update({
        "GOVCRAWL_PORTALS": str(declarations),
        "GOVCRAWL_DATABASE_URL": f"sqlite:///{tmp_path / 'archive.db'}",
        "GOVCRAWL_LOG_DIR": str(tmp_path / "logs"),
        "GOVCRAWL_OUTPUT_DIR": str(tmp_path / "output"),
    })
    return CrawlSite(simulator, tmp_path, env)


@pytest.fixture
def site_factory(tmp_path):
    sites = []

    def factory(size: int = 8, faults: str = "", seed: int = 3) -> CrawlSite:
        workdir = tmp_path / f"site{len(sites)}"  # each site its own archive and logs
        workdir.mkdir()
        site = make_site(workdir, size, faults, seed)
        sites.append(site)
        return site

    yield factory
    for site in sites:
        site.simulator.stop()
