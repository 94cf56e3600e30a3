"""SIGKILL a multi-portal crawl at chosen moments; the next plain run completes the archive.

Promise: whenever a crawl dies, re-running it (no `-a full=true`) stores every article of the
simulator's ground truth exactly once (one article row, one response), the killed run ends
`aborted` (or `finished`, only if its portal was complete), none stays `running`, and the
SQLite file passes `PRAGMA integrity_check`.
"""

from __future__ import annotations

import random

import pytest

from govcrawl.simulator import FaultPlan
from tests.chaos.conftest import PORTALS, Site, explain, kill_session, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

SEED = 20261205
_rng = random.Random(SEED)
PENDING = _rng.randint(3, 6)  # mid-batch: responses served but not yet committed
LATE = _rng.uniform(0.4, 0.8)  # share of the truth committed before the kill

MOMENTS = {
    # the spiders opened their runs, nothing fetched yet
    "run-opened": lambda site, truth: site.count(
        "select count(*) from runs where status = 'running'") >= 1,
    # the first list page's backfill position was recorded
    "first-list-page": lambda site, truth: site.count(
        "select count(*) from channel_progress") >= 1,
    # the first batch of articles was committed
    "first-commit": lambda site, truth: site.count("select count(*) from articles") >= 1,
    # a batch is being filled: article pages served beyond what is committed
    "mid-batch": lambda site, truth: (
        site.count("select count(*) from articles") >= 1
        and len(site.served() & truth.keys())
        - site.count("select count(*) from articles") >= PENDING),
    # most of the crawl is done
    "late": lambda site, truth: site.count("select count(*) from articles")
    >= LATE * len(truth),
}


HELD = ("sim_county", "sim_spp")  # county: a generic portal, 15 articles a list page
HELD_PAGE = 15


def held_seed() -> int:
    """The first seed whose county has slow articles on list pages 1 and 3 but not 2."""
    for seed in range(1, 500):
        plan = FaultPlan.parse("slow=0.06", seed=seed)
        slow = [i for i in range(3 * HELD_PAGE) if plan.fault_for("county", i) == "slow"]
        if (slow and slow[0] < HELD_PAGE and slow[-1] >= 2 * HELD_PAGE
                and not any(HELD_PAGE <= i < 2 * HELD_PAGE for i in slow)):
            return seed
    raise AssertionError("no seed puts slow articles on county pages 1 and 3 only")


def top_page_held(site: Site, truth: dict[str, str]) -> bool:
    """Everything but the slow articles is committed while the backfill position still
    points at the channel's first list page (its slow article is in flight)."""
    slow = [i for i in range(3 * HELD_PAGE) if site.simulator.fault_of("county", i) == "slow"]
    resume = site.ro("select json_extract(resume, '$.url') from channel_progress "
                     "where portal_id = 'sim_county'")
    committed = site.count("select count(*) from articles where portal_id = 'sim_county'")
    return bool(resume and resume[0][0] and resume[0][0].endswith("/list_1.html")
                and committed >= 3 * HELD_PAGE - len(slow))


@pytest.mark.parametrize("moment", [*MOMENTS, "top-page-held"])
def test_a_killed_crawl_is_completed_by_the_next_run(site_factory, moment):
    if moment == "top-page-held":
        # Slow articles hold list pages 1 and 3 of a channel unsettled: the resume point is
        # the top page, which the next run also reads for news (one request must serve both).
        site = site_factory(size=3 * HELD_PAGE, seed=held_seed(),
                            faults="slow=0.06,slow-delay=60")
        portals, env, predicate = HELD, {"GOVCRAWL_BATCH_SIZE": "1"}, top_page_held
    else:
        site = site_factory(size=12)
        portals, env, predicate = PORTALS, {}, MOMENTS[moment]
    truth = site.truth(portals)
    proc = site.start_crawl(*portals, env=env)
    wait_for(moment, lambda: predicate(site, truth), proc)
    kill_session(proc)
    site.simulator.faults = FaultPlan()  # the next run is not slowed down
    at_kill = site.stored()
    killed_runs = {run[0]: run for run in site.runs() if run[3] == proc.pid}
    assert killed_runs, f"{moment}: the killed crawl left no run rows"
    at_kill_status = {r[2] for r in killed_runs.values()}
    assert at_kill_status <= {"running", "finished"}, f"{moment}: killed runs {killed_runs}"

    code, out, err = site.crawl(*portals)
    assert code == 0, f"{moment}: re-run: {explain(code, out, err)}"
    report = site.check(truth)
    assert report == "", (f"{moment} (seed {SEED}, simulator seed {site.simulator.seed}, "
                          f"{sum(at_kill.values())} stored at the kill): {report}")
    runs = site.runs()
    lingering = [r for r in runs if r[2] == "running"]
    assert lingering == [], f"{moment}: runs still running after the final run: {lingering}"
    for run_id, spider, status, _pid in runs:
        if run_id in killed_runs:
            portal_done = all(at_kill[k] for k, p in truth.items() if p == spider)
            assert status == "aborted" or (status == "finished" and portal_done), (
                f"{moment}: killed run {run_id} ({spider}) ended {status!r}")
        else:
            assert status == "finished", f"{moment}: final run {run_id} ({spider}) {status!r}"
    assert site.integrity() == "ok"
