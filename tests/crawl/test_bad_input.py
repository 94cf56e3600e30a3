"""Bad input to a crawl or load-spill: one line on stderr, exit 2, nothing written.

Each refused command runs as a user runs it (a subprocess against a loopback simulator, so
the old code's crawl of a bad input stays fast and offline) and must leave the archive
byte-identical (or absent), no run row and no log file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from scrapy.settings import Settings

from govcrawl.cli import main
from govcrawl.store import open_archive, spill
from tests.crawl.conftest import FAST, CrawlSite
from tests.store.factory import entry


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _sql(path: Path, statement: str) -> list[tuple]:
    """Run one statement and close the connection (an open one would keep a -wal file)."""
    with closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute(statement).fetchall()


def _assert_refused(result, site: CrawlSite, before: str | None) -> str:
    """The refusal is one line and exit 2, and nothing was written; returns the line."""
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    assert _digest(site.db_path) == before
    logs = Path(site.env["GOVCRAWL_LOG_DIR"])
    assert not logs.exists() or not any(logs.iterdir())
    return lines[0]


@pytest.fixture
def site(site_factory) -> CrawlSite:
    site = site_factory(size=3)
    open_archive(f"sqlite:///{site.db_path}").close()  # an archive the refusals must not touch
    return site


def _run(site: CrawlSite, entry_point: str, args: list[str], env: dict[str, str] | None = None):
    site.env.update(env or {})
    if entry_point == "scrapy":
        return site.scrapy("crawl", *args, timeout=120)
    return site.govcrawl("crawl", *args, timeout=120)


ENTRY_POINTS = ["scrapy", "govcrawl"]
BAD_INPUT = {
    "since garbage": (["sim_spp", "-a", "since=garbage"], {}, "since='garbage'"),
    "misspelt argument": (["sim_spp", "-a", "sinse=2024-01-01"], {}, "did you mean since"),
    "since after until": (["sim_spp", "-a", "since=2024-02-01", "-a", "until=2024-01-01"], {},
                          "is after"),
    "unknown spider": (["nosuch"], {}, "scrapy list"),
    "DOWNLOAD_DELAY=abc": (["sim_spp", "-s", "DOWNLOAD_DELAY=abc"], {}, "DOWNLOAD_DELAY='abc'"),
    "LOG_LEVEL=LOUD": (["sim_spp", "-s", "LOG_LEVEL=LOUD"], {}, "LOG_LEVEL='LOUD'"),
    "environment number": (["sim_spp"], {"GOVCRAWL_BATCH_SIZE": "abc"},
                           "GOVCRAWL_BATCH_SIZE='abc'"),
    "environment boolean": (["sim_spp"], {"GOVCRAWL_ROBOTSTXT_OBEY": "maybe"},
                            "GOVCRAWL_ROBOTSTXT_OBEY='maybe'"),
}


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_arguments_and_settings_are_one_line_exit_2(site, entry_point, case):
    args, env, expected = BAD_INPUT[case]
    before = _digest(site.db_path)
    line = _assert_refused(_run(site, entry_point, [*FAST, *args], env), site, before)
    assert expected in line
    assert _sql(site.db_path, "select count(*) from runs") == [(0,)]


def _not_sqlite(path: Path) -> str:
    path.write_bytes(b"plain text, not a database\n" * 10)
    return f"sqlite:///{path}"


def _foreign(path: Path) -> str:
    _sql(path, "create table notes (x)")
    return f"sqlite:///{path}"


def _newer(path: Path) -> str:
    open_archive(f"sqlite:///{path}").close()
    _sql(path, "update alembic_version set version_num = 'ffffffffffff'")
    return f"sqlite:///{path}"


BAD_DATABASES = {
    "not sqlite": (_not_sqlite, "not a SQLite database"),
    "foreign sqlite": (_foreign, "not a govcrawl archive"),
    "newer schema": (_newer, "newer than this govcrawl"),
    "unreachable postgresql": (
        lambda _: "postgresql+psycopg://postgres@127.0.0.1:1/nothing", "127.0.0.1:1"),
    "unsupported scheme": (lambda _: "nosuchdb://somewhere/x", "unsupported database URL"),
}


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
@pytest.mark.parametrize("case", list(BAD_DATABASES))
def test_bad_database_is_one_line_exit_2_and_untouched(site_factory, entry_point, case):
    site = site_factory(size=3)
    make, expected = BAD_DATABASES[case]
    url = make(site.db_path)
    before = _digest(site.db_path)
    line = _assert_refused(_run(site, entry_point, [*FAST, "sim_spp"],
                                {"GOVCRAWL_DATABASE_URL": url}), site, before)
    assert expected in line
    if case == "newer schema":  # a WAL archive: what a -wal file would hold is read here too
        assert _sql(site.db_path, "select count(*) from runs") == [(0,)]
    else:  # never switched to WAL
        assert not Path(f"{site.db_path}-wal").exists()


def test_demo_refuses_a_bad_database_before_starting(site_factory):
    site = site_factory(size=3)
    site.env["GOVCRAWL_DATABASE_URL"] = _foreign(site.db_path)
    before = _digest(site.db_path)
    result = site.govcrawl("demo", "--port", "0", "--size", "1", timeout=120)
    assert "not a govcrawl archive" in _assert_refused(result, site, before)
    assert not (site.workdir / "output").exists()


def test_argument_names_known_and_scheduler_ones_pass():
    from govcrawl.spiders.portal import ArgumentError, parse_arguments

    parsed = parse_arguments({"since": "2024-01-01", "max_pages": "2", "_job": "abc123"})
    assert (str(parsed["since"]), parsed["max_pages"], parsed["full"]) == ("2024-01-01", 2, False)
    with pytest.raises(ArgumentError, match="-a name: unknown spider argument"):
        parse_arguments({"name": "other"})  # would rename the spider in Scrapy's own __init__
    with pytest.raises(ArgumentError, match="max_pages='-1': must not be negative"):
        parse_arguments({"max_pages": "-1"})
    with pytest.raises(ArgumentError, match="full='maybe': expected true or false"):
        parse_arguments({"full": "maybe"})


def _settings(**values) -> Settings:
    settings = Settings()
    settings.setmodule("govcrawl.settings", priority="project")
    settings.setdict(values, priority="cmdline")
    return settings


def test_check_settings_names_each_bad_setting_and_its_source():
    from govcrawl.settings_check import check_settings

    assert check_settings(_settings(), {}) == []
    assert check_settings(_settings(DOWNLOAD_DELAY="0.5", ROBOTSTXT_OBEY="False"), {}) == []
    problems = check_settings(_settings(CONCURRENT_REQUESTS="1.5", DOWNLOAD_TIMEOUT="0",
                                        AUTOTHROTTLE_ENABLED="sometimes",
                                        GOVCRAWL_LOG_LEVEL="chatty"), {})
    assert problems == [
        "DOWNLOAD_TIMEOUT='0': expected a number of seconds > 0",
        "CONCURRENT_REQUESTS='1.5': expected a whole number >= 1",
        "AUTOTHROTTLE_ENABLED='sometimes': expected true or false",
        "GOVCRAWL_LOG_LEVEL='chatty': expected CRITICAL, ERROR, WARNING, INFO or DEBUG",
    ]
    from_environment = Settings()
    from_environment.set("GOVCRAWL_BATCH_SIZE", "lots", priority="project")
    assert check_settings(from_environment, {"GOVCRAWL_BATCH_SIZE": "lots"}) == [
        "GOVCRAWL_BATCH_SIZE='lots': expected a whole number >= 1"]


# -- load-spill -------------------------------------------------------------------------------
def _archive(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "a.db"
    with open_archive(f"sqlite:///{path}") as archive:
        archive.ensure_portal("p1", "门户")
    return f"sqlite:///{path}", path


def _spill(tmp_path: Path, count: int = 2) -> Path:
    return spill.write(tmp_path / "spill-1.jsonl",
                       [entry(f"http://x.cn/{i}.html") for i in range(count)])


def _shape_error(tmp_path: Path) -> Path:
    path = _spill(tmp_path)
    lines = path.read_text("utf-8").splitlines()
    record = json.loads(lines[0])
    del record["raw"]
    path.write_text("\n".join([lines[0], json.dumps(record), lines[1]]) + "\n", "utf-8")
    return path


BAD_SPILLS = {
    "missing": (lambda tmp: tmp / "nothing.jsonl", "no such file"),
    "directory": (lambda tmp: tmp, "not a file"),
    "not json lines": (lambda tmp: _write(tmp / "s.jsonl", "a,b\n1,2\n3,4\n"), "line 1"),
    "binary": (lambda tmp: _write(tmp / "s.jsonl", b"\x89PNG\r\n\x1a\n\xff\xfe"), "not UTF-8"),
    "wrong shape": (_shape_error, "line 2"),
    "only a torn line": (lambda tmp: _write(tmp / "s.jsonl", '{"format": "govc'), "line 1"),
}


def _write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize("case", list(BAD_SPILLS))
def test_load_spill_refuses_a_bad_file_and_writes_nothing(tmp_path, capsys, case):
    url, db_path = _archive(tmp_path)
    make, expected = BAD_SPILLS[case]
    target = make(tmp_path)
    before = _digest(db_path)
    assert main(["load-spill", str(target), "--database", url]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err and str(target) in err
    assert _digest(db_path) == before
    assert not list(tmp_path.glob("*.loaded"))


def test_load_spill_loads_the_whole_lines_before_a_torn_last_line(tmp_path, capsys):
    url, db_path = _archive(tmp_path)
    path = _spill(tmp_path, count=3)
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"format": "govcrawl-spill/1", "raw": {"url"')  # a crash while spilling
    assert main(["load-spill", str(path), "--database", url]) == 2
    out, err = capsys.readouterr()
    assert "3 entries loaded" in out
    assert err.strip().splitlines() == [
        f"govcrawl load-spill: {path} line 4: damaged last line not loaded (Expecting ':' delimiter); "
        "the 3 whole entries before it were loaded"]
    assert _sql(db_path, "select count(*) from articles") == [(3,)]


def test_load_spill_checks_every_file_before_loading_any(tmp_path, capsys):
    url, db_path = _archive(tmp_path)
    good = _spill(tmp_path)
    bad = _write(tmp_path / "bad.jsonl", "not json\nstill not\n")
    before = _digest(db_path)
    assert main(["load-spill", str(good), str(bad), "--database", url]) == 2
    assert f"{bad} line 1" in capsys.readouterr().err
    assert _digest(db_path) == before and good.exists()


def test_any_command_meeting_an_unusable_archive_says_so_in_one_line(site_factory):
    # `govcrawl seed` opens the archive without catching ArchiveError itself.
    site = site_factory(size=3)
    site.env.update({"GOVCRAWL_DATABASE_URL": _foreign(site.db_path),
                     "GOVCRAWL_REDIS_URL": "redis://127.0.0.1:6379/15"})
    before = _digest(site.db_path)
    result = site.govcrawl("seed", "sim_spp", timeout=120)
    assert "not a govcrawl archive" in _assert_refused(result, site, before)
