"""`govcrawl browse` as a user runs it: a real server on a free loopback port."""

from __future__ import annotations

import argparse
import subprocess

import pytest

from govcrawl.browse import DB_NAME, is_loopback
from govcrawl.cli import UsageError
from govcrawl.cli import browse as browse_cli
from tests.browse.conftest import browse_command
from tests.conftest import ROOT


@pytest.mark.slow
def test_server_serves_pages_and_refuses_sql(archive, server_factory):
    server = server_factory(archive.path)
    status, page = server.get(f"/{DB_NAME}/search?q=%E6%B3%95%E9%99%A2")
    assert status == 200
    title = archive.sql("SELECT title FROM articles WHERE instr(title, '法院') LIMIT 1")[0][0]
    assert title in page
    assert server.get(f"/{DB_NAME}.json?sql=select+1")[0] == 403
    assert server.get(f"/{DB_NAME}/articles.json?_where=1=1")[0] == 403
    status, feed = server.get(f"/{DB_NAME}/feed.atom?q=%E6%B3%95%E9%99%A2")
    assert status == 200 and 'xmlns="http://www.w3.org/2005/Atom"' in feed


@pytest.mark.slow
def test_allow_sql_turns_the_sql_box_on(archive, server_factory):
    server = server_factory(archive.path, "--allow-sql")
    status, body = server.get(f"/{DB_NAME}.json?sql=select+count(*)+as+n+from+articles"
                              "&_shape=array")
    assert status == 200
    assert body == f'[{{"n": {archive.sql("SELECT COUNT(*) FROM articles")[0][0]}}}]'


def test_missing_or_foreign_archives_are_usage_errors(tmp_path):
    missing = subprocess.run(browse_command("--db", str(tmp_path / "none.db")), cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no such archive" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    foreign = tmp_path / "foreign.db"
    foreign.write_text("not sqlite at all, just text padding the header out", "utf-8")
    result = subprocess.run(browse_command("--db", str(foreign)), cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "not a govcrawl archive" in result.stderr
    with pytest.raises(UsageError, match="SQLite archives only"):
        browse_cli.archive_path("postgresql://localhost/govcrawl")


def test_loopback_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.0.2.1", "example.org"))


@pytest.mark.slow
def test_non_loopback_bind_warns_naming_the_archive_and_tables(archive, monkeypatch, capsys):
    """Checked without binding a public address: the server start itself is replaced."""
    import uvicorn

    started: dict[str, object] = {}
    monkeypatch.setattr(browse_cli, "_check_port", lambda host, port: None)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(kw))
    args = argparse.Namespace(db=str(archive.path), port=8001, host="0.0.0.0", allow_sql=False,
                              media=None)
    assert browse_cli.run(args) == 0
    err = capsys.readouterr().err
    assert "WARNING" in err and str(archive.path.resolve()) in err
    assert "articles" in err and "responses" in err and "article_list" in err
    assert started["host"] == "0.0.0.0"
    args.host = "127.0.0.1"
    assert browse_cli.run(args) == 0
    assert "WARNING" not in capsys.readouterr().err
