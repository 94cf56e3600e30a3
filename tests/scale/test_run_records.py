"""Each worker's run row is its own: a worker starting never touches a live sibling's run; only
recovery, seeing a worker's heartbeat stop, marks that dead worker's run aborted."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.scale.test_scale_out import assert_archive_matches

PROGRAM = """
import sys
from govcrawl.store.db import open_archive
archive = open_archive(sys.argv[1])
print(archive.start_run("sim_spp", {}), flush=True)
sys.stdin.read()  # holds its run until told to go, never finishing it
"""


def _runs(sql) -> dict[int, tuple]:
    """pid -> (status, finished_at, stats) of every run."""
    return {pid: (status, finished, json.loads(stats) if isinstance(stats, str) else stats)
            for pid, status, finished, stats in sql(
                "SELECT pid, status, finished_at, stats FROM runs")}


def _wait_for(predicate, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_start_run_aborts_only_runs_whose_process_is_gone(tmp_path):
    """One host, no Redis: a crashed crawl's run is aborted by the next start, a live one's
    (a sibling crawling the same spider) is not."""
    from sqlalchemy import text

    from govcrawl.store.db import open_archive

    url = f"sqlite:///{tmp_path / 'archive.db'}"
    open_archive(url).close()  # created and migrated once, before the processes race
    owners = [subprocess.Popen([sys.executable, "-c", PROGRAM, url], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        crashed, live = owners
        crashed_run, live_run = (int(p.stdout.readline()) for p in owners)
        crashed.kill()
        crashed.wait()
        archive = open_archive(url)
        mine = archive.start_run("sim_spp", {})

        def status() -> dict[int, str]:
            with archive.read_engine.connect() as conn:
                return dict(conn.execute(text("SELECT id, status FROM runs")).all())

        assert status() == {crashed_run: "aborted", live_run: "running", mine: "running"}
        live.kill()
        live.wait()
        again = archive.start_run("sim_spp", {})
        assert status() == {crashed_run: "aborted", live_run: "aborted", mine: "aborted",
                            again: "running"}  # mine: this process started the spider again
        archive.close()
    finally:
        for owner in owners:
            if owner.poll() is None:
                owner.kill()
                owner.wait()
            owner.stdout.close()
            owner.stdin.close()


@pytest.mark.redis
def test_recovery_aborts_only_the_runs_of_workers_whose_heartbeat_stopped(redis_server,
                                                                          tmp_path):
    from sqlalchemy import text

    from govcrawl import distributed as d
    from govcrawl.store.db import open_archive

    archive = open_archive(f"sqlite:///{tmp_path / 'archive.db'}")
    # three processes' runs (spider names apart: this one process starting a spider again
    # would abort its own earlier run)
    dead, live, ended = (archive.start_run(f"sim_spp{i}", {}) for i in range(3))
    archive.finish_run(ended, "finished", {})
    keys = d.Keys(redis_server.govcrawl_prefix, "sim_spp")
    now = d.redis_now(redis_server)
    for wid, beat, run in (("h:1:sim_spp", now - 20, dead), ("h:2:sim_spp", now - 1, live),
                           ("h:3:sim_spp", now - 30, ended)):
        redis_server.hset(keys.workers, wid, json.dumps(
            {"state": "busy", "idle_since": None, "beat": beat, "run": run}))
    found = d.abort_dead_runs(redis_server, keys, archive, timeout=15, by="h:9:sim_spp",
                              now=now)
    assert found == {"h:1:sim_spp": dead, "h:3:sim_spp": None}  # the third had finished
    with archive.read_engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(text("SELECT id, status, finished_at, stats "
                                                   "FROM runs"))}
    assert {i: r.status for i, r in rows.items()} == {
        dead: "aborted", live: "running", ended: "finished"}
    why = json.loads(rows[dead].stats)["govcrawl/aborted"]
    assert (why["worker"], why["by"]) == ("h:1:sim_spp", "h:9:sim_spp")
    assert rows[dead].finished_at and why["last_beat"] and "no heartbeat for 20 s" in why["why"]
    assert set(redis_server.hkeys(keys.workers)) == {b"h:2:sim_spp"}  # the dead ones forgotten
    archive.close()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_a_worker_run_is_its_own_and_recovery_aborts_a_dead_one(scale_site, tmp_path):
    portal = "sim_changan"
    site = scale_site(size=60)
    paced = ("-s", "DOWNLOAD_DELAY=0.4", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    a = site.worker(portal, *paced, log=tmp_path / "a.log")
    b = None
    try:
        # A seeds the crawl and works; B joins while A still crawls
        _wait_for(lambda: site.sql("SELECT to_regclass('runs')")[0][0]
                  and a.pid in _runs(site.sql), "A's run")
        b = site.worker(portal, *paced, log=tmp_path / "b.log")
        _wait_for(lambda: b.pid in _runs(site.sql), "B's run")
        runs = _runs(site.sql)
        assert runs[a.pid][:2] == ("running", None), runs[a.pid]  # B's start left it alone
        stored = site.sql("SELECT count(*) FROM articles")[0][0]
        assert stored < len(site.expected_articles(portal)), "the crawl ended too soon"
        time.sleep(2)  # both crawl side by side (B's first heartbeat, A's next ones)
        assert _runs(site.sql)[a.pid][:2] == ("running", None)
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=30)
        b.wait(timeout=180)  # its exit status judges its own share only (docs/scale-out.md)
    finally:
        for worker in (a, b):
            if worker is not None and worker.poll() is None:
                worker.kill()
                worker.wait()
    runs = _runs(site.sql)
    status, finished, stats = runs[a.pid]
    assert status == "aborted" and finished is not None
    aborted = stats["govcrawl/aborted"]
    assert f":{a.pid}:" in aborted["worker"] and f":{b.pid}:" in aborted["by"], aborted
    assert "no heartbeat" in aborted["why"]
    assert runs[b.pid][0] == "finished"
    assert len(runs) == 2
    assert_archive_matches(site, (portal,))  # A's share was recovered
    log = (tmp_path / "b.log").read_text("utf-8", "replace")
    assert "presumed dead" in log, log[-3000:]
