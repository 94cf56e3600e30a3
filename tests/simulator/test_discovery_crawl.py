"""The discovery portals crawled for real: `govcrawl crawl` with the discover dialect.

Each simulated portal is declared as a homepage-evidence portal is (its home page and nothing
else); the crawl must archive at least 95% of its articles and no navigation, footer, 专题 or
list page as an article. A subprocess, as a user runs it (one reactor per process).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from govcrawl.portals.registry import portal_from_mapping, to_toml
from govcrawl.simulator import Simulator
from govcrawl.simulator.corpus import DISCOVERY_PORTALS

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=8"]


@pytest.mark.slow
def test_every_unknown_shape_is_crawled_to_target_through_discovery(tmp_path: Path) -> None:
    with Simulator(size=60, seed=2) as sim:
        declarations = [portal_from_mapping({
            "id": f"sim_{spec.id}", "name": spec.name, "dialect": "discover",
            "start_urls": [sim.url(f"/{spec.id}/")],
            "evidence": {"kind": "homepage", "year": 2022, "source": "the simulator"},
        }) for spec in DISCOVERY_PORTALS]
        (tmp_path / "portals.toml").write_text(to_toml(declarations), "utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVCRAWL_", "SCRAPY_"))}
        env.update({"GOVCRAWL_PORTALS": str(tmp_path / "portals.toml"),
                    "GOVCRAWL_DATABASE_URL": f"sqlite:///{tmp_path / 'archive.db'}",
                    "GOVCRAWL_LOG_DIR": str(tmp_path / "logs")})
        done = subprocess.run([sys.executable, "-m", "govcrawl", "crawl",
                               *(p.id for p in declarations), *FAST], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stdout + done.stderr
        with sqlite3.connect(tmp_path / "archive.db") as conn:
            stored = conn.execute("select portal_id, url from articles").fetchall()
        for spec in DISCOVERY_PORTALS:
            truth = {a["url"] for a in sim.iter_articles(spec.id)}
            urls = {url for pid, url in stored if pid == f"sim_{spec.id}"}
            assert urls <= truth, sorted(urls - truth)[:5]
            assert len(urls) >= 0.95 * len(truth), (spec.id, len(urls), len(truth))
