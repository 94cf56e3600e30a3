"""Scrapyd: deploy the project egg with scrapyd-deploy and run a portal through schedule.json.

A real scrapyd listens on 127.0.0.1 (a free port) with every directory in tmp_path. The egg
is built from a copy of the project, so no setup.py, build/ or *.egg-info is left in the
checkout. The job runs from the egg: the shipped declarations, the alembic migrations and the
simulator corpus must all be inside it (package data, read with importlib.resources).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.crawl.conftest import make_site

pytestmark = pytest.mark.slow

PROJECT = "govcrawl"
SPIDER = "sim_spp"
# What the egg needs from the checkout. pyproject.toml names README.md as the readme.
PROJECT_PATHS = ("govcrawl", "pyproject.toml", "scrapy.cfg", "README.md")
START_TIMEOUT = 30.0
JOB_TIMEOUT = 180.0


def _setuptools_problem() -> str | None:
    """scrapyd-deploy builds the egg with `setup.py bdist_egg` in this interpreter."""
    try:
        major = int(metadata.version("setuptools").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return "setuptools is not installed"
    # 77: pyproject.toml's `license = "MIT"` (PEP 639); below 81: scrapyd's runner imports
    # pkg_resources (scrapyd 1.6 requires setuptools<81).
    if not 77 <= major < 81:
        return (f"scrapyd-deploy needs setuptools>=77,<81 in this interpreter "
                f"(found {metadata.version('setuptools')})")
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _copy_project(dest: Path) -> None:
    """Tracked and untracked, not ignored, files: what `git ls-files -co --exclude-standard`
    lists (so work in progress under govcrawl/ is deployed, *.pyc and *.egg-info are not)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "-co", "--exclude-standard", "--", *PROJECT_PATHS],
            cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
        files = [name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.SubprocessError):  # not a git checkout
        files = [str(p.relative_to(ROOT)) for name in PROJECT_PATHS
                 for p in ([ROOT / name] if (ROOT / name).is_file()
                           else sorted((ROOT / name).rglob("*")))
                 if p.is_file() and "__pycache__" not in p.parts]
    for name in files:
        source = ROOT / name
        if not source.is_file():  # deleted in the worktree, not yet committed
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


# Loopback only: never through a proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _api(base: str, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with _opener.open(f"{base}/{endpoint}", data=body, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


def _tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text("utf-8", errors="replace")[-chars:]
    except OSError:
        return f"<no {path}>"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def test_scrapyd_deploys_the_egg_and_runs_a_portal_into_the_archive(tmp_path):
    problem = _setuptools_problem()
    if problem:
        pytest.skip(problem)
    leftovers = ("setup.py", "build", f"{PROJECT}.egg-info")
    before = {name: (ROOT / name).exists() for name in leftovers}
    site = make_site(tmp_path, size=6)
    home = tmp_path / "scrapyd"
    process = None
    try:
        # scrapyd's own configuration; HOME in tmp so no ~/.scrapyd.conf is read after it.
        port = _free_port()
        home.mkdir()
        (home / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {port}\n"
            f"eggs_dir = {home / 'eggs'}\n"
            f"logs_dir = {home / 'logs'}\n"
            f"dbs_dir = {home / 'dbs'}\n"
            f"items_dir = {home / 'items'}\n"
            "max_proc = 2\n"
            "poll_interval = 0.2\n", "utf-8")
        env = {k: v for k, v in site.env.items() if not k.startswith("SCRAPYD_")}
        no_proxy = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))
        env.update({"HOME": str(home), "NO_PROXY": no_proxy, "no_proxy": no_proxy,
                    "SCRAPYD_BIND_ADDRESS": "127.0.0.1", "SCRAPYD_HTTP_PORT": str(port)})
        base = f"http://127.0.0.1:{port}"
        with (home / "scrapyd.out").open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "scrapyd", "--pidfile="],
                                       cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, _tail(home / "scrapyd.out")
            with contextlib.suppress(OSError):
                if _api(base, "daemonstatus.json")["status"] == "ok":
                    break
            assert time.monotonic() < deadline, _tail(home / "scrapyd.out")
            time.sleep(0.2)

        # Deploy from a copy: scrapyd-deploy writes setup.py, build/ and *.egg-info beside
        # scrapy.cfg. The copy's scrapy.cfg gains a target at this test's port.
        project = tmp_path / "project"
        _copy_project(project)
        with (project / "scrapy.cfg").open("a", encoding="utf-8") as cfg:
            cfg.write(f"\n[deploy:pytest]\nurl = {base}/\nproject = {PROJECT}\n")
        deploy = subprocess.run(
            [sys.executable, "-m", "scrapyd_client.deploy", "pytest", "-v", "r1"],
            cwd=project, env=env, capture_output=True, text=True, timeout=300)
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr[-4000:]
        added = json.loads(deploy.stdout)
        assert added["status"] == "ok", added
        assert added["spiders"] >= 1, added
        spiders = _api(base, f"listspiders.json?project={PROJECT}")
        assert SPIDER in spiders["spiders"], spiders

        job = _api(base, "schedule.json", [
            ("project", PROJECT), ("spider", SPIDER),
            ("setting", "DOWNLOAD_DELAY=0"), ("setting", "AUTOTHROTTLE_ENABLED=False")])
        assert job["status"] == "ok", job
        jobid = job["jobid"]
        job_log = home / "logs" / PROJECT / SPIDER / f"{jobid}.log"

        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            jobs = _api(base, f"listjobs.json?project={PROJECT}")
            if any(j["id"] == jobid for j in jobs["finished"]):
                break
            assert process.poll() is None, _tail(home / "scrapyd.out")
            assert time.monotonic() < deadline, (jobs, _tail(job_log))
            time.sleep(0.5)

        log = _tail(job_log, 20000)
        assert "Traceback" not in log, log
        truth = sorted(a["url"] for a in site.simulator.iter_articles("spp")
                       if a["expected_kind"] == "article")
        assert truth
        stored = sorted(url for (url,) in site.sql(
            "select url from articles where portal_id = ?", SPIDER))
        assert stored == truth, log[-4000:]
        assert site.sql("select spider, status from runs") == [(SPIDER, "finished")]
        assert (home / "eggs" / PROJECT / "r1.egg").is_file()
        # Nothing was built in the checkout (the editable install has its own *.egg-info).
        assert {name: (ROOT / name).exists() for name in leftovers} == before
    finally:
        if process is not None:
            _stop(process)
        site.simulator.stop()
