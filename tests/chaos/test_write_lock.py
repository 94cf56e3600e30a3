"""Another process holds the archive's write lock longer than the busy timeout.

Promise: the crawl neither loses data nor hangs: it either waits and stores everything
(exit 0), or fails loudly (exit 3, run `failed`) with every article page it received either
committed or in a spill file; `govcrawl load-spill` and a plain re-crawl reach ground truth.

The product's busy timeout is 30 s by default; the crawl is given GOVCRAWL_BUSY_TIMEOUT_MS=2000
(store/db.py) and the lock is held for HOLD seconds, then released. A crawl that gives up while
the lock is still held cannot record its run's end; it must then say so, and the run is judged
after the re-crawl (never left `running`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time

import pytest

from tests.chaos.conftest import PORTALS, explain, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

BUSY_MS = 2000
HOLD = 6.0  # seconds: three busy timeouts


def test_a_write_lock_held_past_the_busy_timeout_loses_nothing(site_factory):
    site = site_factory(size=16)
    truth = site.truth()
    proc = site.start_crawl(*PORTALS, env={"GOVCRAWL_BUSY_TIMEOUT_MS": str(BUSY_MS)})
    wait_for("first commit", lambda: site.count("select count(*) from articles") >= 1, proc)
    with contextlib.closing(sqlite3.connect(site.db_path, isolation_level=None,
                                            timeout=10)) as locker:
        locker.execute("BEGIN IMMEDIATE")
        time.sleep(HOLD)
        ended_while_locked = proc.poll() is not None
        locker.execute("ROLLBACK")
    code, out, err = site.finish(proc)
    committed, spilled = site.stored(), site.spilled()
    received = site.received(proc) & truth.keys()
    lost = sorted(received - committed.keys() - spilled.keys())
    statuses = {spider: status for _, spider, status, pid in site.runs() if pid == proc.pid}
    outcome = (f"lock held {HOLD} s (crawl ended meanwhile: {ended_while_locked}); exit {code}; received {len(received)} articles, "
               f"committed {len(committed)}, spilled {len(spilled)}, in neither {len(lost)} "
               f"(e.g. {lost[:3]}); runs {statuses}; {explain(code, out, err)}")
    if code == 0:
        assert (site.check(truth), set(statuses.values())) == ("", {"finished"}), outcome
    else:
        # a run's end can only be written once the lock is gone
        ends = {"failed", "running"} if ended_while_locked else {"failed"}
        assert (code, lost, set(statuses.values()) - {"finished"} <= ends,
                "failed" in statuses.values() or ended_while_locked) == (3, [], True, True), \
            outcome

    for path in sorted(site.output_dir.glob("spill-*.jsonl")):
        loaded = site.govcrawl("load-spill", str(path))
        assert loaded.returncode == 0, f"load-spill {path.name}: {loaded.stderr[-1000:]}"
    code, out, err = site.crawl(*PORTALS)
    assert code == 0, f"re-crawl: {explain(code, out, err)}"
    report = site.check(truth)
    assert report == "", f"after the lock, load-spill and a re-crawl: {report}"
    lingering = [r for r in site.runs() if r[2] == "running"]
    assert lingering == [], f"runs left running after the re-crawl: {lingering}"
    assert site.integrity() == "ok"
