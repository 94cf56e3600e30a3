"""A person's view: headless Chromium searches for a two-character term and opens an article."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from govcrawl.browse import DB_NAME

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("headless Chromium is required for this test and was not found: "
                    "apt-get install -y chromium")
    return found


def dump_dom(url: str, profile: Path) -> str:
    result = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_a_person_searches_for_fayuan_and_reads_an_article(archive, server_factory, tmp_path):
    server = server_factory(archive.path)
    expected = {t for (t,) in archive.sql(
        "SELECT title FROM articles WHERE instr(title, '法院') OR instr(body_text, '法院')")}
    assert expected
    search = dump_dom(f"{server.base}/{DB_NAME}/search?q={urllib.parse.quote('法院')}",
                      tmp_path / "profile1")
    shown = {html.unescape(t) for t in re.findall(
        rf'<a href="/{DB_NAME}/articles/\d+">([^<]+)</a>', search) if not t.isdigit()}
    assert shown == expected
    link = re.search(rf'<a href="(/{DB_NAME}/articles/(\d+))">', search)
    assert link, search[-3000:]
    article_id = int(link.group(2))
    title, byline, portal = archive.sql(
        "SELECT a.title, a.byline_raw, p.name FROM articles a JOIN portals p "
        "ON p.id = a.portal_id WHERE a.id = ?", article_id)[0]
    page = html.unescape(dump_dom(server.base + link.group(1), tmp_path / "profile2"))
    assert f"{title}</h1>" in page
    assert portal in page and byline.splitlines()[0] in page
    assert "转载组 Copies on other portals" in page and "修改记录 Versions" in page
