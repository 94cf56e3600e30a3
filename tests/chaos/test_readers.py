"""Outside readers during crawls: raw sqlite3 connections and `govcrawl query`/`stats`.

Promise: a crawl (one multi-portal process, or two processes on different portals sharing
one archive) loses nothing while other processes open, read and close the archive in tight
loops, and none of those readers sees an error; the file passes `PRAGMA integrity_check`.
"""

from __future__ import annotations

import pytest

from tests.chaos.conftest import PORTALS, Readers, explain, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

SECOND = ("sim_county", "sim_fzw")  # the other crawl's portals


@pytest.mark.parametrize("crawls", [(PORTALS,), (PORTALS, SECOND)],
                         ids=["one-multi-portal-crawl", "two-concurrent-crawls"])
def test_readers_see_no_error_and_the_crawl_loses_nothing(site_factory, crawls):
    site = site_factory(size=16)
    truth = {k: p for portals in crawls for k, p in site.truth(portals).items()}
    procs = [site.start_crawl(*portals) for portals in crawls]
    wait_for("archive created", lambda: site.ro("select count(*) from runs") is not None,
             procs[0])
    readers = Readers(site)
    try:
        results = [site.finish(proc) for proc in procs]
        errors, iterations = readers.finish()
    finally:
        readers.kill()
    assert iterations > 0 and readers.commands > 0
    report = site.check(truth)
    codes = [code for code, _, _ in results]
    assert (codes, errors, report) == ([0] * len(procs), [], ""), (
        f"{len(errors)} reader errors in {iterations} reads and {readers.commands} commands, "
        f"e.g. {errors[:5]}; archive vs truth: {report or 'complete'}; crawls: "
        f"{[explain(*r) for r in results]}")
    assert site.integrity() == "ok"
