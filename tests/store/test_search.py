"""Full-text search: FTS5 trigram for 2+ characters (two through the term table), instr for one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from factory import entry
from sqlalchemy import text

from govcrawl.store import query, read

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


def _plan(arc, sql: str, **params) -> str:
    with arc.read_engine.connect() as conn:
        return " ".join(str(r) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql), params))


def test_two_character_queries_use_the_index_not_a_scan(archive) -> None:
    _load(archive)
    sql = ("SELECT rowid FROM articles_fts WHERE articles_fts MATCH "
           + query.TWO_CHAR_MATCH.format(t=":t"))
    plan = _plan(archive, sql, t="法院")
    assert "VIRTUAL TABLE INDEX" in plan and "SCAN articles" not in plan.replace("articles_fts", "")


def test_two_characters_at_the_very_end_of_a_title_or_body(archive) -> None:
    archive.store_batch([
        entry("http://e.cn/1.html", "本院依法公开审理此案。", title="某某县人民法院"),
        entry("http://e.cn/2.html", "案件移送至县人民检察", title="案件移送"),
        entry("http://e.cn/3.html", "两个字的标题。", title="禁毒"),
        entry("http://e.cn/4.html", "无关的正文内容。", title="无关标题"),
    ])
    assert _urls(query.search(archive, "法院")) == {"http://e.cn/1.html"}
    assert _urls(query.search(archive, "检察")) == {"http://e.cn/2.html"}
    assert _urls(query.search(archive, "禁毒")) == {"http://e.cn/3.html"}
    assert query.search(archive, "鲲鹏") == []


def test_two_character_search_agrees_with_a_scan(archive) -> None:
    _load(archive)
    archive.store_batch([entry("http://e.cn/5.html", 'AI办案"辅助"系统上线，ai应用。', title="智慧法院")])
    with archive.read_engine.connect() as conn:
        texts = conn.execute(text("SELECT id, title, body_text FROM articles")).all()
    pairs = {t[i:i + 2] for _, *both in texts for t in both for i in range(len(t) - 1)}
    for pair in pairs:
        if pair.strip() != pair:
            continue  # the search trims its query
        expected = {i for i, *both in texts if any(pair.lower() in t.lower() for t in both)}
        assert {h.id for h in query.search(archive, pair, limit=100)} == expected, pair
    assert {h.url for h in query.search(archive, "ai")} == {"http://e.cn/5.html"}
    assert {h.url for h in query.search(archive, '"辅')} == {"http://e.cn/5.html"}


def test_edits_and_deletes_keep_the_index_consistent(archive) -> None:
    _load(archive)
    archive.store_batch([entry("http://x.cn/1.html", "内容改为关于禁毒的报道。", title="禁毒")])
    assert query.search(archive, "法院") == []
    assert _urls(query.search(archive, "禁毒")) == {"http://x.cn/1.html"}
    with archive.engine.begin() as conn:
        gone = conn.execute(text("SELECT id FROM articles WHERE url = 'http://x.cn/2.html'")).scalar()
        conn.execute(text("DELETE FROM article_bands WHERE article_id = :a"), {"a": gone})
        conn.execute(text("DELETE FROM articles WHERE id = :a"), {"a": gone})
        conn.execute(text("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')"))
    assert query.search(archive, "检察") == []


def test_two_character_search_folds_case_beyond_ascii(archive) -> None:
    archive.store_batch([entry("http://f.cn/1.html", "推进ＡＩ办案系统建设。", title="标题"),
                         entry("http://f.cn/2.html", "Ωμέγα ΣΟΦΙΑ 测试", title="标题二")])
    for q in ("ＡＩ", "ａｉ", "Ａｉ"):
        assert _urls(query.search(archive, q)) == {"http://f.cn/1.html"}, q
    for q in ("ΣΟ", "σο", "ΣΟΦ"):
        assert _urls(query.search(archive, q)) == {"http://f.cn/2.html"}, q


def test_search_text_is_words_and_quoted_phrases() -> None:
    assert query.search_terms("法院  检察") == [["法院"], ["检察"]]
    assert query.search_terms('"公益 诉讼" 法') == [["公益 诉讼"], ["法"]]
    assert query.search_terms("檢察 法院 法院") == [["檢察", "检察"], ["法院"]]
    assert query.search_terms('"辅 x') == [['"辅'], ["x"]]  # an unpaired quote is a character
    assert query.search_terms("  ") == [] and query.match_sql(" ", "id") == ("", {})


def test_every_word_must_occur_whatever_its_length_or_script(archive) -> None:
    _load(archive)
    archive.store_batch([entry("http://x.cn/5.html", "Supreme People's Court 发布 公告", title="英文")])
    assert _urls(query.search(archive, "法院 典型案例")) == {"http://x.cn/1.html"}
    assert _urls(query.search(archive, "最高 法院 案例")) == {"http://x.cn/1.html"}
    assert query.search(archive, "法院 检察") == []  # each is in a different article
    assert _urls(query.search(archive, "檢察 公益")) == {"http://x.cn/2.html"}
    assert _urls(query.search(archive, "法 宣传")) == {"http://x.cn/4.html"}
    assert _urls(query.search(archive, "发布 Court")) == {"http://x.cn/5.html"}
    assert _urls(query.search(archive, '"Court 发布"')) == {"http://x.cn/5.html"}
    assert query.search(archive, '"发布 Court"') == []  # a phrase keeps its order


def test_listing_filters_and_repeated_cli_search_combine_words(archive, sqlite_url) -> None:
    _load(archive)
    found = {r["url"] for r in read.iter_articles(archive, read.Filters(search="公益 诉讼 检察"))}
    assert found == {"http://x.cn/2.html"}
    assert read.count_articles(archive, read.Filters(search="法院 检察")) == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVCRAWL_")}
    result = subprocess.run(
        [sys.executable, "-m", "govcrawl", "query", "--database", sqlite_url, "--format",
         "jsonl", "--search", "最高", "--search", "典型案例"],
        capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["url"] for line in result.stdout.splitlines()] == [
        "http://x.cn/1.html"]


def test_every_word_must_occur_on_postgresql_too(pg_archive) -> None:
    _load(pg_archive)
    assert _urls(query.search(pg_archive, "法院 典型案例")) == {"http://x.cn/1.html"}
    assert query.search(pg_archive, "法院 检察") == []
    assert _urls(query.search(pg_archive, "檢察 公益")) == {"http://x.cn/2.html"}
    assert _urls(query.search(pg_archive, '"法治" %1')) == {"http://x.cn/4.html"}
