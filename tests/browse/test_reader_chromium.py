"""What a reader sees in a real browser: home page, a search result page and a snapshot, each
loaded in headless Chromium at 1280 px, checked for its elements, for no sideways scrolling, for
Chinese set in a Simplified Chinese face (lang="zh-CN"), and screenshotted."""

from __future__ import annotations

import shutil
import struct
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from govcrawl.browse import DB_NAME
from tests.browse.cdp import Browser

pytestmark = pytest.mark.slow

WIDTH = 1280


def require_simplified_chinese_font() -> None:
    """Without a CJK font Chinese renders as boxes, and nothing here would be meaningful."""
    found = shutil.which("fc-match") and subprocess.run(
        ["fc-match", "-f", "%{family}", "sans-serif:lang=zh-cn"],
        capture_output=True, text=True, timeout=30).stdout
    if not found or not any(word in found for word in ("CJK", "Hei", "Song")):
        pytest.fail("a Simplified Chinese font is required for this test: "
                    "apt-get install -y fonts-noto-cjk")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def check_page(browser: Browser, url: str, cjk_selector: str, shot: Path,
               blank: bytes) -> None:
    """The checks every page gets: zh-CN, no overflow at 1280 px, CJK glyphs from a Simplified
    Chinese face, a screenshot of the right size with something on it."""
    browser.open(url)
    assert browser.js("document.documentElement.lang") == "zh-CN"
    overflow = browser.js("[document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow == [WIDTH, WIDTH], f"{url}: {overflow[0]} px wide at {WIDTH} px"
    fonts = browser.fonts(cjk_selector)
    cjk = [f for f in fonts if "CJK" in f["familyName"] or "Hei" in f["familyName"]]
    assert cjk and all(f["glyphCount"] for f in cjk), fonts
    assert not any(f["familyName"].endswith((" JP", " KR", " TC", " HK")) for f in fonts), fonts
    data = browser.screenshot(shot)
    assert png_size(data) == (WIDTH, 900)
    assert len(data) > 3 * len(blank), f"{shot.name} looks empty"


def test_home_search_results_and_snapshot_in_chromium(archive, server_factory, tmp_path):
    require_simplified_chinese_font()
    server = server_factory(archive.path)
    expected = archive.sql("SELECT COUNT(*) FROM articles WHERE instr(title, '法院') "
                           "OR instr(body_text, '法院')")[0][0]
    portals = archive.sql("SELECT COUNT(*) FROM portals")[0][0]
    response_id, title = archive.sql("SELECT response_id, title FROM articles "
                                     "WHERE response_id IS NOT NULL ORDER BY id LIMIT 1")[0]
    with Browser(tmp_path / "profile", width=WIDTH) as browser:
        browser.open("about:blank")
        blank = browser.screenshot(tmp_path / "blank.png")

        check_page(browser, server.base + "/", "h1", tmp_path / "home.png", blank)
        assert browser.js("!!document.querySelector('.search-first input[name=_search]')")
        assert browser.js("document.querySelectorAll('.latest tbody a').length") > 0
        assert browser.js("document.querySelectorAll('.portals tbody tr').length") == portals

        q = urllib.parse.quote("法院")
        check_page(browser, f"{server.base}/{DB_NAME}/article_list?_search={q}&_size=max",
                   "td.col-title a", tmp_path / "search.png", blank)
        assert browser.js("document.getElementById('_search').value") == "法院"
        assert browser.js("document.querySelectorAll('td.col-title a').length") == expected
        assert browser.js("!!document.querySelector('link[type=\"application/atom+xml\"]')")

        check_page(browser, f"{server.base}/{DB_NAME}/-/snapshot/{response_id}",
                   "#govcrawl-snapshot-banner strong", tmp_path / "snapshot.png", blank)
        assert browser.js("document.querySelectorAll('script, form, iframe').length") == 0
        assert title in browser.js("document.body.innerText")
