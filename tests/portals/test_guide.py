"""docs/adding-a-portal.md, followed step by step on the simulator (loopback only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from govcrawl import cli
from govcrawl.simulator import Simulator

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "adding-a-portal.md"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(size=30, seed=9) as simulator:
        yield simulator


def test_the_guide_on_a_simulated_trs_portal(sim: Simulator, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture) -> None:
    guide = GUIDE.read_text("utf-8")
    for step in ("GOVCRAWL_PORTALS", "govcrawl save-page", "govcrawl new-portal-test",
                 "govcrawl portals check", "scrapy list", "scrapy crawl"):
        assert step in guide, step
    info = next(p for p in sim.truth_portals() if p["dialect"] == "trs")

    # 1. the declaration, in the user's own file
    declaration = tmp_path / "my-portals.toml"
    declaration.write_text(f"""
[[portal]]
id = "guide_trs"
name = "{info['name']}（模拟）"
level = "national"
dialect = "trs"
start_urls = ["{info['start_urls'][0]}"]
article_pattern = '/{info['id']}/zdgz/\\d{{6}}/t\\d{{8}}_\\d+\\.shtml$'
[portal.settings]
download_delay = 0
""", "utf-8")
    monkeypatch.setenv("GOVCRAWL_PORTALS", str(declaration))
    monkeypatch.setenv("GOVCRAWL_DATABASE_URL", f"sqlite:///{tmp_path / 'archive.db'}")
    assert cli.main(["portals"]) == 0
    assert "guide_trs" in capsys.readouterr().out

    # 2. save a list page and two article pages
    fixtures = tmp_path / "tests" / "fixtures" / "portals" / "guide_trs"
    assert cli.main(["save-page", info["start_urls"][0], "--out", str(fixtures),
                     "--portal", "guide_trs", "--name", "list"]) == 0
    listing = json.loads((fixtures / "list.json").read_text("utf-8"))
    for url in listing["expected"]["article_urls"][:2]:
        assert cli.main(["save-page", url, "--out", str(fixtures), "--portal", "guide_trs"]) == 0
    articles = [json.loads(p.read_text("utf-8")) for p in fixtures.glob("t*.json")]
    assert len(articles) == 2 and all(a["expected"]["title"] for a in articles)

    # 3. the test skeleton, run with pytest
    test_file = tmp_path / "tests" / "portals" / "test_guide_trs_pages.py"
    assert cli.main(["new-portal-test", "guide_trs", "--fixtures", str(fixtures),
                     "--out", str(test_file)]) == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["GOVCRAWL_PORTALS"] = str(declaration)
    pytest_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  "-p", "no:benchmark", "-p", "no:xdist", "--import-mode=importlib",
                  "-W", "error", str(test_file)]
    done = subprocess.run(pytest_cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout  # 3 saved pages + the list-and-article check

    sidecar = next(fixtures.glob("t*.json"))  # a wrong expected value must fail the test
    data = json.loads(sidecar.read_text("utf-8"))
    data["expected"]["title"] += "（错）"
    sidecar.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    done = subprocess.run(pytest_cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1 and "1 failed" in done.stdout, done.stdout + done.stderr

    # 4. scrapy sees the portal
    done = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "guide_trs" in done.stdout.split()

    # 5. the canary passes
    capsys.readouterr()
    assert cli.main(["portals", "check", "guide_trs", "--articles", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("guide_trs (") and "ok" in out.splitlines()[0]
