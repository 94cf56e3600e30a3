"""What an extraction worker process runs (see `govcrawl.pipelines.ExtractionPipeline`).

Kept apart from the pipelines so that a spawned worker, which imports the module of the
function it is sent, loads only extraction and duplicate keys: not Scrapy, Twisted or
SQLAlchemy, which cost each worker ~0.5 s of CPU to start and ~55 MB it never uses.
"""

from __future__ import annotations

import os
import threading
import time

from govcrawl.dedup import BodyKeys, body_keys
from govcrawl.extract import extract_page
from govcrawl.records import PageResult


def exit_with_parent(parent: int) -> None:
    """In each extraction worker: exit once the crawl process is gone. A SIGKILLed crawl
    (a scheduler's timeout) cannot shut its pool down, and the worker holds both ends of its
    task queue, so it would wait for work forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="govcrawl-parent-watch", daemon=True).start()


def extract_with_keys(*args) -> tuple[PageResult, BodyKeys | None]:
    """extract_page, plus an article's duplicate keys: both CPU work, done in the worker
    process so the crawl process (whose archive writer shares its GIL) is spared them."""
    page = extract_page(*args)
    return page, body_keys(page.body_text) if page.kind == "article" else None
