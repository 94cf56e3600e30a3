"""The notebook API: govcrawl.api.open(...) and its plain-dict records."""

from __future__ import annotations

import sys

import pytest

import govcrawl.api as gc
from tests.using.usehelpers import sql


def test_articles_get_group_search(devset_env):
    with gc.open() as arc:
        everything = list(arc.articles(limit=None))
        assert len(everything) == 36 and all(isinstance(r, dict) for r in everything)
        spp = list(arc.articles(portal="spp", since="2021-01-01", until="2022-12-31"))
        assert {r["url"] for r in spp} == {u for (u,) in sql(
            devset_env, "select url from articles where portal_id = 'spp'")}
        heads = list(arc.articles(collapse=True, limit=None))
        assert len(heads) == sum(1 for r in everything if r["duplicate_of"] is None)
        copy = next(r for r in everything if r["duplicate_of"] is not None)
        group = arc.group(copy["id"])
        assert group[0]["head"] and group[0]["id"] == copy["duplicate_of"]
        assert copy["id"] in {m["id"] for m in group[1:]}
        full = arc.get(copy["id"])
        assert full["url"] == copy["url"] and full["response"]["sha256"]
        assert arc.get(copy["url"])["id"] == copy["id"]
        hits = arc.search("掃黑除惡")
        assert hits and all("扫黑除恶" in (h["title"] or "") + (arc.get(h["id"])["fields"]
                            ["body_text"]["value"] or "") for h in hits)
        with pytest.raises(KeyError):
            arc.get(10**9)
        with pytest.raises(ValueError, match="unknown portal"):
            list(arc.articles(portal="nope"))
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            list(arc.articles(since="May 2022"))
        with pytest.raises(TypeError):
            list(arc.articles(colour="red"))
        assert len(arc.portals()) == 9  # www.sc.jcy.gov.cn: the jcy_provincial family


def test_dataframe_without_pandas_says_what_to_install(devset_env, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with gc.open() as arc, pytest.raises(ImportError, match="pip install pandas"):
        arc.dataframe()


def test_dataframe_with_pandas(devset_env):  # pandas is in the dev extra: this never skips
    with gc.open() as arc:
        frame = arc.dataframe(portal="chinapeace")
        assert list(frame["id"]) == [r["id"] for r in arc.articles(portal="chinapeace")]
        assert "title" in frame.columns


def test_open_refuses_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        gc.open(f"sqlite:///{tmp_path}/none.db")
    assert not (tmp_path / "none.db").exists()
