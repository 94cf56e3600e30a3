"""Full-text search: FTS5 trigram for 3+ characters, instr for 1–2, traditional input."""

from __future__ import annotations

from factory import entry
from sqlalchemy import text

from govcrawl.store import query

DOCS = {
    "http://x.cn/1.html": ("最高人民法院发布典型案例", "最高人民法院今天发布一批知识产权司法保护典型案例。"),
    "http://x.cn/2.html": ("检察机关开展公益诉讼", "各级检察机关持续加大公益诉讼办案力度，守护绿水青山。"),
    "http://x.cn/3.html": ("平安建设推进会召开", "会议部署平安建设重点任务，要求扫黑除恶常态化。"),
    "http://x.cn/4.html": ("法治宣传进社区", "司法局工作人员走进社区开展\"法治\"宣传，发放资料%100份。"),
}


def _load(arc) -> None:
    arc.store_batch([entry(u, b, title=t) for u, (t, b) in DOCS.items()])


def _urls(hits) -> set[str]:
    return {h.url for h in hits}


def test_two_character_queries(archive) -> None:
    _load(archive)
    assert _urls(query.search(archive, "法院")) == {"http://x.cn/1.html"}
    assert _urls(query.search(archive, "检察")) == {"http://x.cn/2.html"}
    assert _urls(query.search(archive, "法")) == {"http://x.cn/1.html", "http://x.cn/4.html"}


def test_four_character_query_uses_fts(archive) -> None:
    _load(archive)
    assert _urls(query.search(archive, "公益诉讼")) == {"http://x.cn/2.html"}
    assert _urls(query.search(archive, "扫黑除恶")) == {"http://x.cn/3.html"}
    assert query.search(archive, "不存在的词") == []
    with archive.read_engine.connect() as conn:
        plan = " ".join(str(r) for r in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"公益诉讼\"'"
        )))
    assert "VIRTUAL TABLE INDEX" in plan


def test_traditional_input_is_converted(archive) -> None:
    _load(archive)
    assert _urls(query.search(archive, "檢察機關")) == {"http://x.cn/2.html"}
    assert _urls(query.search(archive, "檢察")) == {"http://x.cn/2.html"}


def test_query_syntax_is_quoted_not_spliced(archive) -> None:
    _load(archive)
    assert _urls(query.search(archive, '"法治"')) == {"http://x.cn/4.html"}
    assert query.search(archive, "法院 OR 检察") == []  # one literal string, not FTS syntax
    assert query.search(archive, "'; DROP TABLE articles; --") == []
    assert _urls(query.search(archive, "%1")) == {"http://x.cn/4.html"}
    assert archive.count("articles") == 4


def test_search_follows_updates(archive) -> None:
    _load(archive)
    archive.store_batch([entry("http://x.cn/3.html", "会议部署矛盾纠纷多元化解工作。", title="推进会")])
    assert query.search(archive, "扫黑除恶") == []
    assert _urls(query.search(archive, "多元化解")) == {"http://x.cn/3.html"}


def test_heads_only(archive) -> None:
    _load(archive)
    archive.store_batch([entry("http://y.cn/1.html", DOCS["http://x.cn/1.html"][1], portal="p2")])
    assert len(query.search(archive, "典型案例")) == 2
    hits = query.search(archive, "典型案例", heads_only=True)
    assert [h.url for h in hits] == ["http://x.cn/1.html"]
    assert query.list_articles(archive, "p2")[0]["head_id"] == hits[0].id
