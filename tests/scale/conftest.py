"""Scale-out fixtures: the real Redis and PostgreSQL on loopback, the simulator in-process.

Each test module gets its own PostgreSQL database (dropped after) and each test its own Redis
key prefix (deleted after), so tests never see one another's crawl or anyone else's keys.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from govcrawl.demo import simulator_declarations
from govcrawl.portals.registry import to_toml
from govcrawl.simulator import Simulator
from tests.conftest import ROOT

REDIS_URL = "redis://127.0.0.1:6379/0"
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "GOVCRAWL_BACKOFF_MAX=0", "-s",
        "LOG_LEVEL=INFO"]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A throwaway database for this module: govcrawl_scale_<random>, dropped at the end."""
    from tests.conftest import throwaway_pg_database

    with throwaway_pg_database("govcrawl_scale") as url:
        yield url


@pytest.fixture
def redis_server():
    """The loopback Redis, with a fresh key prefix; every key under it is deleted after."""
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    server.ping()
    prefix = f"govcrawl-test-{secrets.token_hex(6)}"
    server.govcrawl_prefix = prefix
    yield server
    for key in list(server.scan_iter(match=f"{prefix}:*", count=1000)):
        server.delete(key)
    server.close()


@dataclass
class ScaleSite:
    simulator: Simulator
    workdir: Path
    env: dict[str, str]
    pg_url: str

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "govcrawl", *args]

    def run(self, *args: str, timeout: int = 240) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*args), cwd=self.workdir, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def worker(self, portal: str, *settings: str, log: Path) -> subprocess.Popen:
        """One plain `scrapy crawl` worker with the switch on."""
        with log.open("wb") as out:  # the child keeps its own descriptor
            return subprocess.Popen(
                [sys.executable, "-m", "scrapy", "crawl", portal, *FAST, *settings], cwd=ROOT,
                env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def sql(self, query: str, **params) -> list[tuple]:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.pg_url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(query), params)]
        finally:
            engine.dispose()

    def expected_articles(self, *portal_ids: str) -> set[str]:
        """URLs of the articles the simulator serves as articles (declared ids are sim_<id>)."""
        return {a["url"] for p in portal_ids
                for a in self.simulator.iter_articles(p.removeprefix("sim_"))
                if a["expected_kind"] == "article"}

    def syndication_groups(self, *portal_ids: str) -> list[list[str]]:
        ids = tuple(p.removeprefix("sim_") for p in portal_ids)
        return self.simulator.truth(ids)["syndication_groups"]


@pytest.fixture
def scale_site(tmp_path, pg_url, redis_server) -> Iterator:
    """A factory: simulator of `size` articles per portal, declared, with the switch on."""
    from sqlalchemy import create_engine, text

    sims: list[Simulator] = []

    def factory(size: int = 12, seed: int = 3, **env: str) -> ScaleSite:
        engine = create_engine(pg_url)  # each test starts from an empty archive
        with engine.begin() as conn:
            exists = conn.execute(text("SELECT to_regclass('articles')")).scalar()
            if exists:
                conn.execute(text(
                    "TRUNCATE article_bands, media, article_versions, article_events, rejects,"
                    " articles, responses, fetch_state, channel_progress, runs, portals "
                    "RESTART IDENTITY CASCADE"))
        engine.dispose()
        simulator = Simulator(size=size, seed=seed)
        simulator.start()
        sims.append(simulator)
        declarations = tmp_path / "portals.toml"
        declarations.write_text(to_toml(simulator_declarations(simulator)), "utf-8")
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("GOVCRAWL_", "SCRAPY_"))}
        base.update({
            "GOVCRAWL_PORTALS": str(declarations),
            "GOVCRAWL_DATABASE_URL": pg_url,
            "GOVCRAWL_LOG_DIR": str(tmp_path / "logs"),
            "GOVCRAWL_OUTPUT_DIR": str(tmp_path / "output"),
            "GOVCRAWL_REDIS_URL": REDIS_URL,
            "GOVCRAWL_REDIS_PREFIX": redis_server.govcrawl_prefix,
            "GOVCRAWL_IDLE_SECONDS": "2",
            "GOVCRAWL_WORKER_TIMEOUT": "3",
            "GOVCRAWL_PROGRESS_SECONDS": "2",
            "GOVCRAWL_DOWNLOAD_DELAY": "0",
            "PYTHONPATH": str(ROOT),
            **env,
        })
        return ScaleSite(simulator, tmp_path, base, pg_url)

    yield factory
    for simulator in sims:
        simulator.stop()
