"""Chaos harness: a loopback simulator in this process, crawls as real subprocesses we can kill.

Every crawl is a `govcrawl crawl` subprocess in its own session (so a SIGKILL of the crawl
can be followed by a clean-up of its extraction workers); kill moments are chosen by polling
the archive read-only (`mode=ro`) or the simulator's request log, never by sleeps alone.
Ground truth is the simulator's; the archive is compared with it by URL key.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from govcrawl.dedup import url_key
from govcrawl.demo import simulator_declarations
from govcrawl.portals.registry import to_toml
from govcrawl.simulator import FaultPlan, Simulator

# Three dialects in one process (TRS, generic, chinacourt).
PORTALS = ("sim_spp", "sim_jszf", "sim_court")
FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=false", "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "GOVCRAWL_BACKOFF_MAX=0", "-s",
        "LOG_LEVEL=DEBUG", "-s", "GOVCRAWL_EXTRACT_WORKERS=0")  # workers: test_extract_workers
CRAWL_TIMEOUT = 90  # seconds; a crawl of ~100 loopback pages takes a few
HOOKS = Path(__file__).with_name("hooks")  # sitecustomize.py: fault injection by env var
CRAWLED = re.compile(r"Crawled \((\d+)\) <GET (\S+)>")


def sim_id(portal: str) -> str:
    return portal.removeprefix("sim_")


@dataclass
class Site:
    """One simulator, one archive, one output folder; crawls and reads against them."""

    simulator: Simulator
    workdir: Path
    env: dict[str, str]
    procs: list[subprocess.Popen] = field(default_factory=list)
    log: list[tuple[int, str]] = field(default_factory=list)  # (status, path) served
    pg_url: str | None = None  # the archive is this PostgreSQL database, not archive.db

    @property
    def db_path(self) -> Path:
        return Path(self.env["GOVCRAWL_DATABASE_URL"].removeprefix("sqlite:///"))

    @property
    def output_dir(self) -> Path:
        return self.workdir / "output"

    # -- processes ---------------------------------------------------------------------------

    def start_crawl(self, *portals: str, args: tuple[str, ...] = (),
                    env: dict | None = None) -> subprocess.Popen:
        """A `govcrawl crawl` in its own session; stdout/stderr go to files beside the archive."""
        n = len(self.procs)
        out = (self.workdir / f"crawl{n}.out").open("wb")
        err = (self.workdir / f"crawl{n}.err").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "govcrawl", "crawl", *portals, *FAST, *args],
            cwd=self.workdir, env={**self.env, **(env or {})}, stdout=out, stderr=err,
            start_new_session=True)
        out.close()
        err.close()
        proc.out_path, proc.err_path = Path(out.name), Path(err.name)  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def crawl(self, *portals: str) -> tuple[int, str, str]:
        """Run a crawl to its end: (exit status, stdout, stderr)."""
        return self.finish(self.start_crawl(*portals))

    def finish(self, proc: subprocess.Popen, timeout: float = CRAWL_TIMEOUT
               ) -> tuple[int, str, str]:
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_session(proc)
            pytest.fail(f"crawl pid {proc.pid} still running after {timeout} s: "
                        f"{tail(proc.err_path)}")  # type: ignore[attr-defined]
        reap_session(proc)
        return (code, proc.out_path.read_text("utf-8", "replace"),  # type: ignore[attr-defined]
                proc.err_path.read_text("utf-8", "replace"))  # type: ignore[attr-defined]

    def govcrawl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "govcrawl", *args], cwd=self.workdir,
                              env=self.env, capture_output=True, text=True, timeout=timeout)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                kill_session(proc)
        self.simulator.stop()

    # -- reading the archive, as an outsider ---------------------------------------------------

    def ro(self, query: str, *params: Any) -> list[tuple] | None:
        """Rows from a read-only connection; None while the archive or table is not there."""
        if self.pg_url:
            return self._pg(query, *params)
        if not self.db_path.exists():
            return None
        try:
            conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        except sqlite3.OperationalError:
            return None
        try:
            return conn.execute(query, params).fetchall()
        except sqlite3.OperationalError:
            return None
        finally:
            conn.close()

    def _pg(self, query: str, *params: Any) -> list[tuple] | None:
        import psycopg

        try:
            with psycopg.connect(self.pg_url.replace("+psycopg", ""), autocommit=True) as conn:
                return conn.execute(query.replace("?", "%s"), params).fetchall()
        except psycopg.errors.UndefinedTable:
            return None

    def count(self, query: str) -> int:
        rows = self.ro(query)
        return int(rows[0][0]) if rows else 0

    @staticmethod
    def key(url: str) -> str:
        """An article URL's identity key (as the archive's unique constraint has it)."""
        return url_key(url)

    def stored(self) -> Counter[str]:
        """URL key → number of article rows."""
        return Counter(r[0] for r in self.ro("select url_key from articles") or [])

    def responses(self) -> Counter[str]:
        """URL key → number of stored responses."""
        return Counter(r[0] for r in self.ro("select url_key from responses") or [])

    def runs(self) -> list[tuple[int, str, str, int | None]]:
        return [tuple(r) for r in self.ro("select id, spider, status, pid from runs order by id")
                or []]

    def integrity(self) -> str:
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=30)) as conn:
            return "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))

    # -- truth -----------------------------------------------------------------------------------

    def truth(self, portals: tuple[str, ...] = PORTALS) -> dict[str, str]:
        """URL key → portal of every article the simulator serves as an article."""
        return {url_key(rec["url"]): portal for portal in portals
                for rec in self.simulator.iter_articles(sim_id(portal))
                if rec["expected_kind"] == "article"}

    def spilled(self) -> Counter[str]:
        """URL key → entries in the spill files of the output folder (a torn last line is
        skipped, as `govcrawl load-spill` does)."""
        found: Counter[str] = Counter()
        for path in sorted(self.output_dir.glob("spill-*.jsonl")):
            for line in path.read_text("utf-8").splitlines():
                with contextlib.suppress(json.JSONDecodeError):
                    record = json.loads(line)
                    if record.get("raw") is not None:
                        found[url_key(record["page"]["url"])] += 1
        return found

    def received(self, proc: subprocess.Popen, status: int = 200) -> set[str]:
        """URL keys of the responses the crawl process received (Scrapy's DEBUG `Crawled`)."""
        text = proc.err_path.read_text("utf-8", "replace")  # type: ignore[attr-defined]
        return {url_key(url) for code, url in CRAWLED.findall(text) if int(code) == status}

    def served(self, status: int = 200) -> set[str]:
        """URL keys of the pages the simulator has served with `status` so far."""
        return {url_key(self.simulator.url(path)) for code, path in list(self.log)
                if code == status}

    def check(self, truth: dict[str, str]) -> str:
        """'' when every truth article is stored exactly once with one response, else a
        report with expected vs stored counts."""
        stored, responses = self.stored(), self.responses()
        missing = sorted(k for k in truth if k not in stored)
        doubled = sorted(k for k in truth if stored[k] > 1 or responses[k] > 1)
        record_figures(expected=len(truth), stored=sum(stored[k] for k in truth),
                       missing=len(missing), more_than_once=len(doubled))
        if not missing and not doubled:
            return ""
        return (f"expected {len(truth)} articles, stored {sum(stored[k] for k in truth)} "
                f"({len(missing)} missing, {len(doubled)} stored or fetched more than once); "
                f"missing e.g. {missing[:3]}; more than once (key, articles, responses) e.g. "
                f"{[(k, stored[k], responses[k]) for k in doubled[:3]]}")


def record_figures(**figures: int) -> None:
    """With CHAOS_FIGURES=FILE, append this check's expected vs stored counts to FILE (one JSON
    line per check, named by the test), so a run can quote them."""
    target = os.environ.get("CHAOS_FIGURES")
    if target:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"test": test, **figures}) + "\n")


def explain(code: int, out: str, err: str) -> str:
    """A crawl's outcome in a few lines: exit status, its report, its first ERROR lines."""
    report = [line[:200] for line in out.splitlines() if not line.startswith(("[", "FROM"))]
    errors = [line[:300] for line in err.splitlines() if " ERROR: " in line][:3]
    return f"exit {code}; report: {report}; errors: {errors}"


def tail(path: Path, n: int = 3000) -> str:
    return path.read_text("utf-8", "replace")[-n:] if path.exists() else ""


def kill_session(proc: subprocess.Popen) -> None:
    """SIGKILL the process, then whatever it left in its session (extraction workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    reap_session(proc)


def reap_session(proc: subprocess.Popen) -> None:
    """Leftover children of a crawl (its session id is its pid) are killed, never leaked."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def wait_for(what: str, predicate: Callable[[], bool], proc: subprocess.Popen | None = None,
             timeout: float = 60, interval: float = 0.005, must: bool = True) -> bool:
    """Poll until `predicate()`; if the watched process ends first (or time runs out), fail
    the test, or with `must=False` return False."""
    deadline = time.monotonic() + timeout
    while not predicate():
        ended = proc is not None and proc.poll() is not None
        if ended or time.monotonic() > deadline:
            if not must:
                return False
            if ended:
                pytest.fail(f"the moment {what!r} never came: crawl exited {proc.returncode} "
                            f"first; {tail(proc.err_path, 1500)}")  # type: ignore[union-attr]
            pytest.fail(f"the moment {what!r} did not come within {timeout} s")
        time.sleep(interval)
    return True


def make_site(workdir: Path, size: int, seed: int, faults: str = "") -> Site:
    simulator = Simulator(size=size, seed=seed, faults=FaultPlan.parse(faults, seed=seed))
    simulator.start()
    site = Site(simulator, workdir, {})
    record = simulator.count

    def count(status: int, path: str) -> None:  # the served log, beside the counters
        site.log.append((status, path))
        record(status, path)

    simulator.count = count  # type: ignore[method-assign]
    declarations = workdir / "portals.toml"
    declarations.write_text(to_toml(simulator_declarations(simulator)), "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVCRAWL_", "SCRAPY_"))}
    env.update({
        "GOVCRAWL_PORTALS": str(declarations),
        "GOVCRAWL_DATABASE_URL": f"sqlite:///{workdir / 'archive.db'}",
        "GOVCRAWL_LOG_DIR": str(workdir / "logs"),
        "GOVCRAWL_OUTPUT_DIR": str(workdir / "output"),
        # Small batches: several commits per crawl, so a kill lands between and within them.
        "GOVCRAWL_BATCH_SIZE": "8",
        "PYTHONPATH": os.pathsep.join(p for p in (str(HOOKS), env.get("PYTHONPATH")) if p),
    })
    site.env = env
    return site


@pytest.fixture
def site_factory(tmp_path) -> Iterator[Callable[..., Site]]:
    """Sites (simulator + archive) that are stopped and whose processes are killed after."""
    sites: list[Site] = []

    def factory(size: int = 24, seed: int = 7, faults: str = "") -> Site:
        workdir = tmp_path / f"site{len(sites)}"
        workdir.mkdir()
        sites.append(make_site(workdir, size, seed, faults))
        return sites[-1]

    yield factory
    for site in sites:
        site.close()


class Readers:
    """Outside readers hammering the archive while crawls write it: `sqlite_reader.py`
    processes and a thread running `govcrawl query` and `govcrawl stats` back to back."""

    def __init__(self, site: Site, processes: int = 2) -> None:
        self.site = site
        self.stop = site.workdir / "readers.stop"
        self.procs = [subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("sqlite_reader.py")),
             str(site.db_path), str(self.stop)], stdout=subprocess.PIPE, text=True)
            for _ in range(processes)]
        self.failures: list[str] = []
        self.commands = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._commands, daemon=True)
        self._thread.start()

    def _commands(self) -> None:
        while not self._done.is_set():
            for args in (("query", "--format", "csv"), ("stats",)):
                try:
                    result = self.site.govcrawl(*args, timeout=60)
                except subprocess.TimeoutExpired:
                    self.failures.append(f"govcrawl {' '.join(args)} ran over 60 s")
                    continue
                self.commands += 1
                if result.returncode != 0:
                    self.failures.append(f"govcrawl {' '.join(args)} exited "
                                         f"{result.returncode}: {result.stderr.strip()[-300:]}")

    def finish(self) -> tuple[list[str], int]:
        """Stop every reader: (errors seen, reader iterations)."""
        self.stop.touch()
        self._done.set()
        self._thread.join(90)
        errors, iterations = list(self.failures), 0
        for proc in self.procs:
            out, _ = proc.communicate(timeout=30)
            report = json.loads(out)
            iterations += report["iterations"]
            errors += report["errors"]
        return errors, iterations

    def kill(self) -> None:
        """Clean up, whatever state `finish` left (or did not reach)."""
        self.stop.touch()
        self._done.set()
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(30)
            if proc.stdout is not None:
                proc.stdout.close()
        self._thread.join(90)
