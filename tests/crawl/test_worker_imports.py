"""Extraction workers load only what extraction needs: a spawned worker imports the module of
each function it is sent, and Scrapy, Twisted and SQLAlchemy cost it ~0.5 s of CPU and ~60 MB."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

from scrapy.settings import Settings

from govcrawl import pipelines
from tests.conftest import ROOT

HEAVY = ("scrapy", "sqlalchemy", "twisted")
#: Evaluated in a worker (eval pickles by reference; a test function would import this module).
LOADED = f"sorted({{m.split('.')[0] for m in __import__('sys').modules}} & {set(HEAVY)!r})"
PAGE = ROOT / "tests" / "data" / "devset" / "pages" / "001.html"


def test_worker_module_imports_neither_scrapy_nor_sqlalchemy() -> None:
    out = subprocess.run(
        [sys.executable, "-c", f"import govcrawl.extract.worker; print({LOADED})"],
        capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_pipeline_workers_extract_without_loading_the_crawl_stack() -> None:
    crawler = SimpleNamespace(settings=Settings({"GOVCRAWL_EXTRACT_WORKERS": 1}))
    pool = pipelines.ExtractionPipeline(crawler)._start_pool()
    try:
        page, keys = pool.submit(pipelines.extract_with_keys, PAGE.read_bytes(),
                                 "http://www.spp.gov.cn/a.html", 200, {}, None).result(timeout=60)
        loaded = pool.submit(eval, LOADED).result(timeout=60)
    finally:
        pool.shutdown(cancel_futures=True)
    assert page.kind == "article" and keys is not None
    assert loaded == []
