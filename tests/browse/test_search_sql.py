"""The canned search query's SQL on a small archive: the plugin's functions, no server."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

from govcrawl.browse.plugin import PLUGIN_NAME, prepare_connection
from govcrawl.browse.queries import SEARCH
from govcrawl.store import db, query
from tests.store.factory import entry


def test_two_character_terms_fold_case_as_the_index_does(tmp_path):
    path = tmp_path / "a.db"
    archive = db.open_archive(f"sqlite:///{path}")
    archive.ensure_portal("p1", "门户")
    archive.store_batch([entry("http://f.cn/1.html", "推进ＡＩ办案系统建设。", title="智慧检务"),
                         entry("http://f.cn/2.html", "Ωμέγα ΣΟΦΙΑ 测试", title="标题二")])
    conn = sqlite3.connect(path)
    datasette = SimpleNamespace(plugin_config=lambda name: {"database": "govcrawl"}
                                if name == PLUGIN_NAME else None)
    prepare_connection(conn, "govcrawl", datasette)
    try:
        for q, url in (("ＡＩ", "http://f.cn/1.html"), ("ａｉ", "http://f.cn/1.html"),
                       ("ΣΟ", "http://f.cn/2.html"), ("检务", "http://f.cn/1.html")):
            found = {row[-1] for row in conn.execute(SEARCH, {"q": q})}
            assert found == {url} == {h.url for h in query.search(archive, q)}, q
    finally:
        conn.close()
        archive.close()
