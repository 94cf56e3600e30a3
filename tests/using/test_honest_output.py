"""Honest counts and one output convention across the read commands (issue 22).

A limit never cuts results silently, a pipe or file gets everything, the API streams every
match, `--format`/`--json`/`--excel` mean the same everywhere, tables align by display width,
and dated filters are named for what they filter.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

from govcrawl import ingest
from govcrawl.cli.output import width
from govcrawl.portals.registry import load_registry
from govcrawl.store import open_archive
from tests.using.usehelpers import run_cli

COPIES = 60  # more than the 50 rows a terminal shows by default


@pytest.fixture(scope="module")
def many_db(tmp_path_factory, devset_pages: Path) -> Path:
    """60 articles: one dev-set page (three authors) saved under 60 URLs."""
    folder = tmp_path_factory.mktemp("many")
    meta = json.loads((devset_pages / "003.json").read_text("utf-8"))
    for i in range(COPIES):
        shutil.copy(devset_pages / "003.html", folder / f"p{i:02}.html")
        url = meta["url"].replace(".shtml", f"_{i}.shtml")
        (folder / f"p{i:02}.json").write_text(json.dumps({**meta, "url": url}), "utf-8")
    db = folder / "many.db"
    with open_archive(f"sqlite:///{db}") as arc:
        resolver = ingest.PortalResolver(load_registry("").portals.values())
        report = ingest.import_saved_pages(arc, [folder], resolver)
    assert report.get("new") + report.get("duplicate") == COPIES
    return db


@pytest.fixture
def many_env(many_db: Path, monkeypatch) -> Path:
    monkeypatch.setenv("GOVCRAWL_DATABASE_URL", f"sqlite:///{many_db}")
    monkeypatch.setenv("GOVCRAWL_PORTALS", "")
    return many_db


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_on_terminal(monkeypatch, *argv: str, columns: int = 120) -> str:
    """`govcrawl ARGV` with stdout a terminal `columns` wide; returns what it printed."""
    from govcrawl import cli

    out = _Terminal()
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setattr("sys.stdout", out)
    assert cli.main(list(argv)) == 0
    return out.getvalue()


def test_piped_query_is_complete_and_a_cut_is_counted(many_env, govcrawl_cli):
    everything = govcrawl_cli("query")
    assert len(everything.jsonl()) == COPIES and everything.err == ""
    cut = govcrawl_cli("query", "--limit", "7")
    assert len(cut.jsonl()) == 7
    assert cut.err == f"(showing 7 of {COPIES} — `--limit 0` for all)\n"
    csv_out = govcrawl_cli("query", "--format", "csv")
    assert len(csv_out.out.splitlines()) == COPIES + 1 and csv_out.err == ""
    table = govcrawl_cli("query", "--format", "table", "--limit", "3")
    assert table.out.splitlines()[-1] == f"(showing 3 of {COPIES} — `--limit 0` for all)"
    assert govcrawl_cli("query", "--limit", "0").jsonl() == everything.jsonl()
    exported = govcrawl_cli("export", "--json", "-o", "-", "--limit", "4")
    assert len(exported.jsonl()) == 4
    assert exported.err == f"govcrawl export: showing 4 of {COPIES} — `--limit 0` for all\n"


def test_a_terminal_shows_fifty_and_says_how_many_there_are(many_env, monkeypatch):
    lines = run_on_terminal(monkeypatch, "query").splitlines()
    assert len(lines) == 1 + 50 + 1  # header, rows, the count
    assert lines[-1] == f"(showing 50 of {COPIES} — `--limit 0` for all)"


def test_the_api_streams_every_match_unless_limited(many_env):
    import govcrawl.api as gc

    with gc.open() as arc:
        records = arc.articles()
        assert iter(records) is records  # an iterator, not a list built up front
        assert len(list(records)) == COPIES
        assert len(list(arc.articles(limit=5))) == 5
        assert arc.count() == COPIES and arc.count(limit=5) == COPIES
        assert len(arc.search("秦州区")) == COPIES


def test_authors_are_a_list_and_published_at_a_zoned_column(many_env, govcrawl_cli):
    import govcrawl.api as gc

    record = govcrawl_cli("query", "--limit", "1").jsonl()[0]
    assert record["author"] == "沈佳怡 宋晓东" and record["authors"] == ["沈佳怡", "宋晓东"]
    shown = json.loads(govcrawl_cli("show", str(record["id"]), "--json").out)
    assert shown["authors"] == ["沈佳怡", "宋晓东"]
    with gc.open() as arc:
        frame = arc.dataframe()
    assert len(frame) == COPIES
    assert str(frame["published_at"].dt.tz) == "Asia/Shanghai"
    assert frame["published_at"].iloc[0].isoformat() == "2022-07-13T09:41:00+08:00"
    assert str(frame["first_seen"].dt.tz) == "UTC"
    assert frame["authors"].iloc[0] == ["沈佳怡", "宋晓东"]


def test_one_output_option_across_read_commands(devset_env, govcrawl_cli, tmp_path):
    jsonl = govcrawl_cli("query", "--format", "jsonl").jsonl()
    assert govcrawl_cli("query", "--json").jsonl() == jsonl
    for argv in (("stats",), ("portals",), ("show", "1")):
        as_json = govcrawl_cli(*argv, "--json")
        assert as_json.code == 0 and as_json.jsonl(), argv
        assert govcrawl_cli(*argv, "--format", "jsonl").jsonl() == as_json.jsonl(), argv
        assert govcrawl_cli(*argv).out.startswith(("portal", "id", "==")), argv  # table
    for argv in (("stats",), ("portals",), ("query",)):
        out = govcrawl_cli(*argv, "--format", "csv").out
        assert out.startswith(("portal,", "id,")), argv
        excel = govcrawl_cli(*argv, "--excel").out
        assert excel == "\ufeff" + out, argv  # what Excel needs to read UTF-8
    target = tmp_path / "hits.csv"
    assert govcrawl_cli("export", "--excel", "-o", str(target)).code == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbfid,url,")
    assert govcrawl_cli("export", "--json", "-o", str(tmp_path / "a.jsonl")).code == 0
    assert len((tmp_path / "a.jsonl").read_text("utf-8").splitlines()) == len(jsonl)
    bad = govcrawl_cli("query", "--excel", "--format", "jsonl")
    assert bad.code == 2 and "--excel" in bad.err


def test_dated_filters_are_named_for_what_they_filter(devset_copy, govcrawl_cli):
    new = govcrawl_cli("query", "--published-since", "2022-05-10",
                       "--published-until", "2022-05-19")
    old = govcrawl_cli("query", "--since", "2022-05-10", "--until", "2022-05-19")
    assert new.jsonl() == old.jsonl() and new.jsonl()
    assert new.err == ""
    assert "--since is deprecated" in old.err and "--until is deprecated" in old.err
    both = govcrawl_cli("query", "--since", "2022-05-10", "--published-since", "2022-05-10")
    assert both.code == 2 and both.err.count("\n") == 1
    assert govcrawl_cli("stats", "--archived-since", "2999-01-01", "--json").jsonl() == \
        govcrawl_cli("stats", "--since", "2999-01-01", "--json").jsonl()
    future = govcrawl_cli("reprocess", "--fetched-since", "2999-01-01")
    assert future.code == 0 and "0 changed" in future.out


def _starts(line: str, cell: str) -> int:
    """The display column where the last `cell` starts in `line`."""
    return width(line[:line.rindex(cell)])


def test_tables_align_by_display_width_and_fit_the_terminal(devset_env, monkeypatch):
    titles = [r["title"] for r in run_cli("query", "--limit", "0").jsonl()]
    lines = run_on_terminal(monkeypatch, "query", "--limit", "0", columns=80).splitlines()
    assert len(lines) == len(titles) + 2 and all(width(line) <= 80 for line in lines)
    title_at = _starts(lines[0], "title")
    for line, title in zip(lines[1:-1], titles, strict=True):  # Chinese sources before it
        assert _starts(line, title[:3]) == title_at, line
    stats = run_on_terminal(monkeypatch, "stats").splitlines()
    assert any(width(line) > len(line) for line in stats)  # portal names in Chinese
    counts_end = _starts(stats[0], "articles") + len("articles")
    for line in stats[1:-1]:  # right-aligned under the header, whatever the names' width
        through_count = re.match(r"\S+\s+.+?\s{2,}\d+", line)
        assert through_count and width(through_count.group()) == counts_end, line
    shown = run_on_terminal(monkeypatch, "show", "3", columns=90).splitlines()
    fields = [line for line in shown if line.rstrip().endswith(("[byline]", "[selector]"))]
    assert len(fields) >= 5 and all(width(line) <= 90 for line in fields)
    assert len({_starts(line, "[") for line in fields}) == 1  # tags in one column


def test_version_bare_command_and_examples_in_help(capsys):
    from govcrawl import __version__, cli

    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"govcrawl {__version__}\n"
    assert cli.main([]) == 2
    assert "query" in capsys.readouterr().err  # the help, with the commands
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, command in commands.items():
        assert f"example: govcrawl {name}" in command.format_help(), name
    assert "worker processes" in commands["workers"].format_help()
    assert "give up on a request" in commands["save-page"].format_help()
    assert "spill files" in commands["load-spill"].format_help()



def test_extract_takes_the_same_output_option_as_the_other_commands(govcrawl_cli):
    as_json = govcrawl_cli("extract", "--sample", "--json")
    as_format = govcrawl_cli("extract", "--sample", "--format", "jsonl")
    assert as_json.code == as_format.code == 0
    assert as_json.out == as_format.out and as_json.out.startswith("{")
    table = govcrawl_cli("extract", "--sample", "--format", "table")
    assert table.code == 0 and "title:" in table.out
