"""Quiet by default (issue 22): no Public Suffix List download (and its tracebacks) when
offline, and failures named in words, not as a Python class repr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from govcrawl.crawl import assess

#: What a crawl process does: import govcrawl (Scrapy loads govcrawl.settings), then Scrapy's
#: cookie middleware, whose tldextract splits a cookie's domain. Every connection attempt is
#: refused and counted, as on a machine without internet.
PROBE = """
import logging, socket
logging.basicConfig()
attempts = []
def refuse(self, *address):
    attempts.append(address)
    raise OSError("no network")
socket.socket.connect = refuse
import govcrawl.settings
from scrapy.downloadermiddlewares.cookies import _split_domain
parts = _split_domain("www.spp.gov.cn")
print(parts.domain, parts.suffix, len(attempts))
"""


def test_the_public_suffix_list_is_not_downloaded(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"}
    env.update(TLDEXTRACT_CACHE=str(tmp_path / "tld"),  # an empty cache: the first run
               PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["spp", "gov.cn", "0"]  # the bundled list, no connection
    assert "Traceback" not in done.stderr and done.stderr.strip() == "", done.stderr


def test_a_failure_is_named_in_words() -> None:
    key = "robotstxt/exception_count/<class 'scrapy.exceptions.CannotResolveHostError'>"
    problems = assess("spp", None, {key: 1}).problems
    assert "spp failed entirely: its robots.txt could not be read (DNS lookup failed)" \
        in problems
    assert not any("<class" in p for p in problems)
    status = assess("spp", None, {"robotstxt/response_status_count/503": 1}).problems
    assert "spp failed entirely: its robots.txt could not be read (503)" in status
