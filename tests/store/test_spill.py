"""Spill files: round trip, torn last line, spilling a locked batch, and the load-spill CLI."""

from __future__ import annotations

import argparse
import sqlite3

import pytest
from factory import entry

from govcrawl.cli import load_spill
from govcrawl.records import Media
from govcrawl.store import db, open_archive, spill


def _entries():
    gbk = "<p>法院</p>".encode("gbk") + bytes(range(256))
    return [entry("http://x.cn/a.html", "最高人民法院发布典型案例。" * 3, html=gbk,
                  media=[Media("http://x.cn/1.jpg", "image", "图")]),
            entry("http://x.cn/b.html", kind="challenge")]


def test_roundtrip(tmp_path) -> None:
    path = spill.write(tmp_path / "out" / "spill.jsonl", _entries())
    back = spill.read(path)
    assert back == _entries()  # dataclass equality: bytes, datetimes, media, every field


def test_torn_last_line_is_skipped(tmp_path) -> None:
    path = spill.write(tmp_path / "spill.jsonl", _entries())
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"format": "govcrawl-spill/1", "raw": {"url"')
    assert len(spill.read(path)) == 2


def test_locked_database_spills_then_loads(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    url = f"sqlite:///{tmp_path}/a.db"
    arc = open_archive(url)
    arc.ensure_portal("p1", "门户")
    blocker = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(Exception) as err:
        arc.store_batch(_entries())
    assert spill.is_unusable(err.value)
    path = spill.write(spill.default_path(tmp_path / "output"), _entries())
    blocker.execute("ROLLBACK")
    blocker.close()
    outcomes = spill.load(path, arc)
    assert [o.status for o in outcomes] == ["new", "reject"]
    assert next(arc.iter_responses())[1].body == _entries()[0].raw.body
    arc.close()


def test_load_spill_cli(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/a.db"
    with open_archive(url) as arc:
        arc.ensure_portal("p1", "门户")
    path = spill.write(tmp_path / "spill-1.jsonl", _entries())
    parser = argparse.ArgumentParser()
    load_spill.register(parser.add_subparsers())
    args = parser.parse_args(["load-spill", str(path), "--database", url])
    assert args.func(args) == 0
    assert "2 entries loaded (new 1, reject 1)" in capsys.readouterr().out
    assert not path.exists() and path.with_name("spill-1.jsonl.loaded").exists()
