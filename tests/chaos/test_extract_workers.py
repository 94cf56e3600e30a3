"""SIGKILL the crawl's extraction worker processes (as the OOM killer would), twice.

Promise: a page that was fetched fine is never rejected because its worker died; the crawl
finishes (exit 0, runs `finished`) with the ground truth stored exactly once.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import pytest

from tests.chaos.conftest import PORTALS, children, explain, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

IN_FLIGHT = 8  # article pages served but not yet committed when the workers are killed


def workers(pid: int) -> list[int]:
    """The crawl's multiprocessing workers (not its resource tracker)."""
    found = []
    for child in children(pid):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


def test_killed_extraction_workers_reject_no_page(site_factory):
    site = site_factory(size=16)
    truth = site.truth()
    proc = site.start_crawl(*PORTALS, args=("-s", "GOVCRAWL_EXTRACT_WORKERS=2"))
    killed: list[int] = []

    def busy() -> bool:  # live workers, and many fetched pages waiting for extraction
        waiting = len(site.served() & truth.keys()) - site.count("select count(*) from articles")
        return bool(set(workers(proc.pid)) - set(killed)) and waiting >= IN_FLIGHT

    for n in range(2):
        if not wait_for(f"kill {n + 1}", busy, proc, must=n == 0):
            break  # the crawl ended before the second kill: judge what it did
        for pid in set(workers(proc.pid)) - set(killed):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
    code, out, err = site.finish(proc)
    rejected = site.ro("select url, kind, reason from rejects") or []
    wrongly = [r for r in rejected if site.key(r[0]) in truth]
    report = site.check(truth)
    statuses = {status for _, _, status, _ in site.runs()}
    assert (code, wrongly, report, statuses) == (0, [], "", {"finished"}), (
        f"killed workers {killed}; {len(wrongly)} truth pages rejected (e.g. {wrongly[:3]}); "
        f"archive vs truth: {report or 'complete'}; runs {statuses}; {explain(code, out, err)}")
