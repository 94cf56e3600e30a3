"""Run rows tell the truth; disconnects are retried, other failures are not; a spill write
that fails leaves only whole lines."""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from govcrawl.crawl import run_status
from govcrawl.records import PageResult, RawResponse
from govcrawl.store import spill
from govcrawl.store.archive import StoreEntry
from govcrawl.store.writer import with_retry

WORKED = {"govcrawl/list_pages": 3, "govcrawl/list_pages_ok": 3}


@pytest.mark.parametrize(("stats", "reason", "share", "expected"), [
    (WORKED, "finished", False, ("finished", None)),
    (WORKED, "closespider_timeout", False, ("finished", None)),
    (WORKED, "shutdown", False, ("aborted", "stopped: shutdown")),
    ({**WORKED, "govcrawl/storage_failed": "disk full"}, "storage_failed", False,
     ("failed", "storage failed: disk full")),
    ({**WORKED, "govcrawl/storage_failed": "disk full"}, "shutdown", False,
     ("failed", "storage failed: disk full")),
    ({"govcrawl/list_pages": 2}, "finished", False,
     ("failed", "p failed entirely: no list page could be read")),
    ({}, "finished", True, ("finished", None)),  # a scale-out worker's share of a crawl
])
def test_the_run_status_follows_the_judgment(stats, reason, share, expected):
    assert run_status("p", stats, reason, share=share) == expected


def disconnect() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("terminating connection"),
                            connection_invalidated=True)


def test_a_disconnect_is_retried_and_other_failures_are_not():
    calls = []

    def flaky(n):
        calls.append(n)
        if len(calls) < 3:
            raise disconnect()
        return n * 2

    assert with_retry(flaky, 21, delays=(0, 0, 0)) == 42 and len(calls) == 3
    with pytest.raises(OperationalError):
        with_retry(lambda: (_ for _ in ()).throw(disconnect()), delays=(0, 0))
    calls.clear()

    def broken():
        calls.append(1)
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    with pytest.raises(IntegrityError):
        with_retry(broken, delays=(0, 0))
    assert calls == [1]


def entry(n: int) -> StoreEntry:
    raw = RawResponse(f"http://127.0.0.1/{n}.html", 200, {}, b"<html>x</html>" * 50,
                      datetime.now(UTC))
    return StoreEntry(raw, PageResult(url=raw.url, status=200, kind="article"), "p", 1)


def test_a_failed_spill_write_is_cut_back_to_whole_lines(tmp_path, monkeypatch):
    path = spill.write(tmp_path / "spill.jsonl", [entry(1)])
    real_write = os.write

    def half_then_full(fd, data):
        if len(data) > 100:
            return real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(OSError, match="No space"):
        spill.write(path, [entry(2), entry(3)])
    monkeypatch.undo()
    spill.write(path, [entry(4)])
    assert [e.raw.url for e in spill.read(path)] == [
        "http://127.0.0.1/1.html", "http://127.0.0.1/4.html"]


def test_start_requests_dropped_as_seen_are_named_as_the_cause():
    """A JOBDIR kept from a finished run makes Scrapy drop the start requests: the report says
    so instead of blaming robots.txt, DNS or the connection."""
    from govcrawl.crawl import assess

    dropped = assess("spp", 1, {"dupefilter/filtered": 2}).problems
    assert len(dropped) == 1 and "already seen" in dropped[0] and "JOBDIR" in dropped[0]
    offline = assess("spp", 1, {}).problems
    assert offline == ["spp failed entirely: no list page was fetched "
                       "(robots.txt, DNS or connection failure)"]
