"""A browsable archive built the way a user builds one: crawl the simulator, then recrawl.

Built once per session (crawling takes seconds): every simulated portal, then one sim_spp
article edited and one deleted and sim_spp revisited, so the archive has versions and a
removal. Two portals are declared with a province so the province facet has something to show.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from govcrawl.demo import simulator_declarations
from govcrawl.portals.registry import to_toml
from govcrawl.simulator import FaultPlan, Simulator
from tests.conftest import ROOT

SIM_PORTALS = ("sim_spp", "sim_changan", "sim_jszf", "sim_fzw", "sim_court", "sim_county",
               "sim_twfx", "sim_farm")
PROVINCES = {"sim_jszf": "江苏", "sim_county": "甘肃", "sim_farm": "甘肃"}
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s",
        "GOVCRAWL_BACKOFF_MAX=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]


@dataclass
class BrowseArchive:
    path: Path
    edited_url: str
    deleted_url: str

    def sql(self, query: str, *params: object) -> list[tuple]:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            return conn.execute(query, params).fetchall()
        finally:
            conn.close()


def _crawl(workdir: Path, env: dict[str, str], *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "govcrawl", "crawl", *args, *FAST],
                            cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowseArchive]:
    workdir = tmp_path_factory.mktemp("browse")
    simulator = Simulator(size=8, seed=3, faults=FaultPlan.parse("", seed=3))
    simulator.start()
    try:
        declarations = [
            dataclasses.replace(p, level="provincial", province=PROVINCES[p.id])
            if p.id in PROVINCES else p
            for p in simulator_declarations(simulator)
        ]
        (workdir / "portals.toml").write_text(to_toml(declarations), "utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVCRAWL_", "SCRAPY_"))}
        env.update({
            "GOVCRAWL_PORTALS": str(workdir / "portals.toml"),
            "GOVCRAWL_DATABASE_URL": f"sqlite:///{workdir / 'archive.db'}",
            "GOVCRAWL_LOG_DIR": str(workdir / "logs"),
        })
        _crawl(workdir, env, *SIM_PORTALS)
        articles = list(simulator.iter_articles("spp"))
        edited, deleted = articles[1], articles[2]
        simulator.edit(edited["id"])
        simulator.delete(deleted["id"])
        _crawl(workdir, env, "sim_spp", "-a", "revisit_days=36500")
    finally:
        simulator.stop()
    yield BrowseArchive(workdir / "archive.db", edited["url"], deleted["url"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def browse_command(*args: str) -> list[str]:
    """`govcrawl browse ARGS` as a user runs it."""
    return [sys.executable, "-m", "govcrawl", "browse", *args]


@dataclass
class Server:
    base: str
    process: subprocess.Popen

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=30) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")


def start_server(db: Path, *extra: str) -> Server:
    port = free_port()
    process = subprocess.Popen(
        browse_command("--db", str(db), "--port", str(port), *extra), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server = Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"govcrawl browse exited {process.returncode}: {out}{err}")
        try:
            with urllib.request.urlopen(server.base + "/-/versions.json", timeout=2):
                return server
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("govcrawl browse did not answer within 60 s")


@pytest.fixture
def server_factory() -> Iterator:
    servers: list[Server] = []

    def factory(db: Path, *extra: str) -> Server:
        server = start_server(db, *extra)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.process.terminate()
        try:
            server.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.communicate()
