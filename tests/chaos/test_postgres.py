"""PostgreSQL terminates the crawl's backends mid-crawl (a restart, a failover, an admin).

Promise: the crawl reconnects and reaches ground truth with its runs `finished` (exit 0);
or, if its retries run out, its runs are `failed` and it exits 3 with every article page it
received committed or spilled. Never `aborted`, never `running` at the end, never exit 0
with anything missing.
"""

from __future__ import annotations

import time

import pytest

from tests.chaos.conftest import PORTALS, explain, wait_for
from tests.conftest import throwaway_pg_database

pytestmark = [pytest.mark.slow, pytest.mark.chaos, pytest.mark.postgres]

TERMINATE = ("select count(pg_terminate_backend(pid)) from pg_stat_activity "
             "where datname = current_database() and pid <> pg_backend_pid()")
STORM = 1.0  # seconds of terminations at each moment


def test_terminated_backends_are_survived_or_reported_truthfully(site_factory):
    site = site_factory(size=16)
    truth = site.truth()
    with throwaway_pg_database("chaos") as url:
        site.pg_url = site.env["GOVCRAWL_DATABASE_URL"] = url
        proc = site.start_crawl(*PORTALS)
        terminated = []
        for share in (0.1, 0.5):  # of the truth committed at each termination
            if not wait_for(f"{share:.0%} committed", lambda share=share: site.count(
                    "select count(*) from articles") >= max(1, share * len(truth)), proc,
                    must=share == 0.1):
                break
            # for a moment, every backend the crawl opens is terminated at once: some in the
            # middle of a transaction
            until = time.monotonic() + STORM
            while time.monotonic() < until and proc.poll() is None:
                terminated.append(site.count(TERMINATE))
                time.sleep(0.02)
        code, out, err = site.finish(proc)
        committed, spilled = site.stored(), site.spilled()
        received = site.received(proc) & truth.keys()
        lost = sorted(received - committed.keys() - spilled.keys())
        statuses = {spider: status for _, spider, status, _ in site.runs()}
        report = site.check(truth)
    outcome = (f"terminated {sum(terminated)} backends; exit {code}; runs {statuses}; received "
               f"{len(received)} articles, committed {len(committed)}, spilled {len(spilled)}, "
               f"in neither {len(lost)}; archive vs truth: {report or 'complete'}; "
               f"{explain(code, out, err)}")
    assert sum(terminated) > 0, outcome
    if code == 0:
        assert (report, set(statuses.values())) == ("", {"finished"}), outcome
    else:
        assert (code, lost, set(statuses.values()) - {"finished"}) == (3, [], {"failed"}), \
            outcome
