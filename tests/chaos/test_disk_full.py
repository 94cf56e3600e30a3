"""The archive runs out of space mid-crawl: nothing fetched is lost.

Two ways to fill the disk: `PRAGMA max_page_count` on every SQLite connection of the crawl
(hooks/sitecustomize.py), a little above the fresh archive's size, which works anywhere; and a
real 1 MB tmpfs holding the archive (root only; skipped where mounting is refused).
Promise: exit 3; every article page the crawl received is either committed or in a spill
file; `govcrawl load-spill` and a plain re-crawl, with room again, reach the ground truth
with every article stored once.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable

import pytest

from govcrawl.store import open_archive
from tests.chaos.conftest import PORTALS, Site, explain

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

ROOM = 30  # pages the archive may grow by: a batch or two (90 articles need ~400)


def crawl_into_a_full_disk(site: Site, env: dict[str, str], make_room: Callable[[], None]
                           ) -> None:
    truth = site.truth()
    proc = site.start_crawl(*PORTALS, env=env)
    code, out, err = site.finish(proc)
    committed, spilled = site.stored(), site.spilled()
    received = site.received(proc) & truth.keys()
    assert len(committed) < len(truth), (
        f"the disk should fill midway: {len(committed)} of {len(truth)} committed; "
        f"{explain(code, out, err)}")
    lost = sorted(received - committed.keys() - spilled.keys())
    assert (code, lost) == (3, []), (
        f"received {len(received)} articles, committed {len(committed)}, spilled "
        f"{len(spilled)}, in neither {len(lost)} (e.g. {lost[:3]}); {explain(code, out, err)}")

    make_room()
    for path in sorted(site.output_dir.glob("spill-*.jsonl")):
        loaded = site.govcrawl("load-spill", str(path))
        assert loaded.returncode == 0, f"load-spill {path.name}: {loaded.stderr[-1000:]}"
    code, out, err = site.crawl(*PORTALS)
    assert code == 0, f"re-crawl: {explain(code, out, err)}"
    report = site.check(truth)
    assert report == "", f"after load-spill and a re-crawl: {report}"
    assert [r for r in site.runs() if r[2] == "running"] == []
    assert site.integrity() == "ok"


def test_a_full_archive_spills_what_it_cannot_store_and_loses_nothing(site_factory):
    site = site_factory(size=30)  # failing early, with many pages still to come
    open_archive(site.env["GOVCRAWL_DATABASE_URL"]).close()
    limit = site.count("pragma page_count") + ROOM
    crawl_into_a_full_disk(site, {"CHAOS_SQLITE_MAX_PAGE_COUNT": str(limit)}, lambda: None)


def test_a_full_filesystem_spills_what_it_cannot_store_and_loses_nothing(site_factory):
    site = site_factory(size=30)
    mount = site.workdir / "small"
    mount.mkdir()
    refused = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                             capture_output=True, text=True, timeout=30)
    if refused.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {refused.stderr.strip()}")
    try:
        site.env["GOVCRAWL_DATABASE_URL"] = f"sqlite:///{mount / 'archive.db'}"
        open_archive(site.env["GOVCRAWL_DATABASE_URL"]).close()
        crawl_into_a_full_disk(site, {}, lambda: subprocess.run(
            ["mount", "-o", "remount,size=64m", str(mount)], check=True, timeout=30))
    finally:
        if subprocess.run(["umount", str(mount)], timeout=30).returncode != 0:
            with contextlib.suppress(subprocess.SubprocessError):
                subprocess.run(["umount", "-l", str(mount)], timeout=30)
