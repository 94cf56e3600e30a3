"""Fixtures for archive tests: SQLite archives in tmp_path, one throwaway PostgreSQL database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for p in (str(HERE), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

from govcrawl.store import open_archive  # noqa: E402


def _portals(arc) -> None:
    arc.ensure_portal("p1", "中国长安网", level="central")
    arc.ensure_portal("p2", "湖南长安网", level="province", province="湖南")
    arc.ensure_portal("m1", "镜像站", level="mirror")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/archive.db"


@pytest.fixture
def archive(sqlite_url: str):
    arc = open_archive(sqlite_url)
    _portals(arc)
    yield arc
    arc.close()


@pytest.fixture(scope="session")
def pg_url():
    """A fresh database for this test session (and worker), dropped at the end."""
    from tests.conftest import throwaway_pg_database

    with throwaway_pg_database("govcrawl_test") as url:
        yield url


@pytest.fixture
def pg_archive(pg_url: str):
    """An archive on the session database, emptied before each test."""
    from sqlalchemy import text

    arc = open_archive(pg_url)
    with arc.engine.begin() as conn:
        conn.execute(text(
            "TRUNCATE article_bands, media, article_versions, article_events, rejects, articles, "
            "responses, fetch_state, channel_progress, runs, portals RESTART IDENTITY CASCADE"
        ))
    _portals(arc)
    yield arc
    arc.close()
