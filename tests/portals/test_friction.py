"""What a new user following docs/adding-a-portal.md tripped over (issue 19, item 4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from govcrawl import cli
from tests.conftest import ROOT

DECLARATION = """[[portal]]
id = "my_portal"
name = "我的长安网"
dialect = "discover"
start_urls = ["http://127.0.0.1:8765/lingnan/"]
allowed_domains = ["127.0.0.1:8765"]
"""


def test_new_portal_test_writes_beside_a_declaration_that_lives_outside_the_repo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "portals.toml").write_text(DECLARATION, "utf-8")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("GOVCRAWL_PORTALS", str(mine / "portals.toml"))
    assert cli.main(["new-portal-test", "my_portal"]) == 0
    out, err = capsys.readouterr()
    test_file = mine / "tests" / "test_my_portal_pages.py"
    assert out.strip() == str(test_file) and test_file.is_file()
    assert str(mine / "fixtures" / "my_portal") in err
    assert list(elsewhere.iterdir()) == []


def test_scrapy_crawl_of_an_undeclared_id_says_which_files_were_read(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVCRAWL_", "SCRAPY_"))}
    env["GOVCRAWL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'a.db'}"
    done = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "my_portal"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "unknown spider 'my_portal'" in line
    assert "declarations read: govcrawl/portals/families.toml" in line
    assert "(GOVCRAWL_PORTALS names no file)" in line and "docs/adding-a-portal.md" in line
    assert not (tmp_path / "a.db").exists()
