"""`govcrawl save-page URL --out DIR` and `govcrawl new-portal-test ID`: fixtures for a portal.

A portal's test needs its pages exactly as the server sent them: the raw bytes (never re-encoded:
the encoding is part of what is tested) and the response headers (Content-Type decides decoding,
portals.md §5). `save-page` fetches politely (govcrawl User-Agent, robots.txt) and writes
`<stem>.html` plus a `<stem>.json` sidecar; with `--portal` it also pre-fills `expected` with what
that portal's spider makes of the page, for a human to check against the page.
`new-portal-test` writes a pytest file that replays every saved page of a portal.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from govcrawl.cli import UsageError
from govcrawl.portals.registry import Portal, load_registry

_STEM_RE = re.compile(r"[^\w.-]+")
EXPECTED_NOTE = ("pre-filled from what govcrawl extracted when the page was saved: check every "
                 "value against the page in a browser and correct it; a wrong value here makes "
                 "the test pass on a wrong extraction")


def register(subparsers: argparse._SubParsersAction) -> None:
    save = subparsers.add_parser(
        "save-page", help="save a page's raw bytes and headers as a test fixture",
        description="Fetch URL (govcrawl User-Agent, robots.txt honoured) and write the raw "
                    "bytes to DIR/<stem>.html and url, status, headers (and, with --portal, "
                    "the expected fields) to DIR/<stem>.json.")
    save.add_argument("url", metavar="URL")
    save.add_argument("--out", required=True, metavar="DIR", help="fixture folder")
    save.add_argument("--portal", metavar="ID",
                      help="the portal this page belongs to: pre-fills `expected` with what "
                           "its spider extracts (list or article, told by article_pattern)")
    save.add_argument("--name", metavar="STEM", help="file stem (default: from the URL)")
    save.add_argument("--force", action="store_true", help="overwrite an existing fixture")
    save.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                      help="give up on a request after this long (default 30)")
    save.set_defaults(func=run_save)

    skeleton = subparsers.add_parser(
        "new-portal-test", help="write a pytest file that replays a portal's saved pages",
        description="Write a test that feeds every saved page in the portal's fixture folder "
                    "to its spider and compares with each sidecar's `expected`.")
    skeleton.add_argument("portal", metavar="ID")
    skeleton.add_argument("--fixtures", metavar="DIR",
                          help="fixture folder (default: fixtures/ID beside your declaration "
                               "file; tests/fixtures/portals/ID for a shipped one)")
    skeleton.add_argument("--out", metavar="FILE",
                          help="test file (default: tests/test_ID_pages.py beside your "
                               "declaration file; tests/portals/ for a shipped one)")
    skeleton.add_argument("--force", action="store_true", help="overwrite an existing file")
    skeleton.set_defaults(func=run_skeleton)


def _portal(portal_id: str) -> Portal:
    registry = load_registry()
    for error in registry.errors:
        print(f"govcrawl: declaration skipped: {error}", file=sys.stderr)
    if portal_id not in registry.portals:
        raise UsageError(f"unknown portal {portal_id!r} (see `govcrawl portals`)")
    return registry.portals[portal_id]


def stem_for(url: str) -> str:
    """t20210305_510599 for …/t20210305_510599.shtml; `index` for a bare directory URL."""
    leaf = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] if urlsplit(url).path.strip("/") \
        else ""
    stem = _STEM_RE.sub("_", leaf.split(".")[0]).strip("_")
    return stem or "index"


def run_save(args: argparse.Namespace) -> int:
    from govcrawl import settings
    from govcrawl.canary import Fetcher, observe_fixture

    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{args.url!r} is not an http(s) URL")
    portal = _portal(args.portal) if args.portal else None
    if portal is not None and not any(parts.hostname == d or parts.hostname.endswith("." + d)
                                      for d in portal.allowed_domains):
        raise UsageError(f"{args.url} is not on {portal.id}'s hosts "
                         f"({', '.join(portal.allowed_domains)})")
    out = Path(args.out)
    stem = args.name or stem_for(args.url)
    page_path, side_path = out / f"{stem}.html", out / f"{stem}.json"
    if not args.force and (page_path.exists() or side_path.exists()):
        raise UsageError(f"{page_path} exists (give --force to overwrite, or --name)")
    declared = portal.settings if portal else {}
    fetcher = Fetcher(user_agent=declared.get("user_agent") or settings.USER_AGENT,
                      delay=0.0, timeout=args.timeout,
                      obey_robots=bool(declared.get("robots", settings.ROBOTSTXT_OBEY)))
    fetched = fetcher.fetch(args.url, legacy_tls=declared.get("tls") == "legacy")
    if fetched.error:
        print(f"govcrawl save-page: {args.url}: {fetched.error}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    page_path.write_bytes(fetched.body)
    sidecar: dict = {
        "url": args.url,
        "status": fetched.status,
        "headers": fetched.headers,
        "synthetic": False,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "saved_by": "govcrawl save-page",
    }
    if fetched.final_url and fetched.final_url != args.url:
        sidecar["url"] = fetched.final_url  # what the spider's response.url would be
        sidecar["requested_url"] = args.url
    if portal is not None:
        pattern = portal.article_regex()
        is_article = bool(pattern and pattern.search(sidecar["url"]))
        sidecar["kind"] = "article" if is_article else "list"
        if not is_article:
            sidecar["list_request"] = {"channel": sidecar["url"], "page": 0}
        side_path.write_text(json.dumps(sidecar, ensure_ascii=False, indent=1) + "\n", "utf-8")
        with tempfile.TemporaryDirectory() as workdir:
            seen = observe_fixture(portal, page_path, Path(workdir))
        if is_article:
            body = seen.pop("body_text", None) or ""
            seen.pop("kind", None)
            seen["body_starts"], seen["body_ends"] = body[:30], body[-30:]
        sidecar["expected"] = seen
        sidecar["expected_note"] = EXPECTED_NOTE
    side_path.write_text(json.dumps(sidecar, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"{page_path} ({len(fetched.body)} bytes, HTTP {fetched.status})")
    print(side_path)
    if fetched.status != 200:
        print(f"govcrawl save-page: warning: HTTP {fetched.status}; saved anyway",
              file=sys.stderr)
    return 0


SKELETON = '''"""Saved pages of portal {portal_id!r}, replayed through its spider.

Generated by `govcrawl new-portal-test {portal_id}`; edit freely. Each page in FIXTURES (raw
bytes + <stem>.json sidecar from `govcrawl save-page`) is fed to the spider's parse_list or
parse_article and compared with the sidecar's `expected`. A portal declared in your own TOML
file needs GOVCRAWL_PORTALS set when pytest runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govcrawl.canary import fixture_pages, load_sidecar, replay_fixture
from govcrawl.portals.registry import load_registry

PORTAL = {portal_id!r}
FIXTURES = {fixtures_expr}
PAGES = fixture_pages(FIXTURES)


def test_has_a_list_page_and_an_article_page() -> None:
    kinds = [load_sidecar(page).get("kind") for page in PAGES]
    assert "list" in kinds and "article" in kinds, f"save pages into {{FIXTURES}}"


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_saved_page(page: Path, tmp_path: Path) -> None:
    portal = load_registry().get(PORTAL)
    assert replay_fixture(portal, page, tmp_path) == []
'''


def skeleton_source(portal_id: str, fixtures: Path, test_file: Path) -> str:
    """The test file's text; the fixture folder is written relative to the test when it can be."""
    try:
        relative = Path(os.path.relpath(fixtures.resolve(), test_file.resolve().parent))
        expr = "Path(__file__).resolve().parent / " + " / ".join(
            repr(part) for part in relative.parts)
    except ValueError:  # another drive on Windows
        expr = f"Path({str(fixtures.resolve())!r})"
    return SKELETON.format(portal_id=portal_id, fixtures_expr=expr)


def default_locations(portal) -> tuple[Path, Path]:
    """Fixture folder and test file: beside the user's declaration file when it lives outside
    the package, so a user's tests never land in a govcrawl checkout by default."""
    if portal.source.startswith("govcrawl/portals/"):
        return (Path(f"tests/fixtures/portals/{portal.id}"),
                Path(f"tests/portals/test_{portal.id}_pages.py"))
    home = Path(portal.source).expanduser().resolve().parent
    return home / "fixtures" / portal.id, home / "tests" / f"test_{portal.id}_pages.py"


def run_skeleton(args: argparse.Namespace) -> int:
    portal = _portal(args.portal)
    fixtures_default, test_default = default_locations(portal)
    fixtures = Path(args.fixtures or fixtures_default)
    test_file = Path(args.out or test_default)
    if test_file.exists() and not args.force:
        raise UsageError(f"{test_file} exists (give --force to overwrite)")
    if not fixtures.is_dir():
        print(f"govcrawl new-portal-test: warning: {fixtures} does not exist yet; save pages "
              "into it with `govcrawl save-page URL --out "
              f"{fixtures} --portal {portal.id}`", file=sys.stderr)
    test_file.parent.mkdir(parents=True, exist_ok=True)
    test_file.write_text(skeleton_source(portal.id, fixtures, test_file), "utf-8")
    print(test_file)
    return 0
