"""Canned queries: the questions people ask of the archive, answerable without arbitrary SQL.

Every query is read-only SQL with named parameters (Datasette binds them; no user text is
spliced in). Search follows `govcrawl.store.query.match_sql`: the query's terms (AND; "quoted
phrases" whole; each also in simplified form) come from `govcrawl_search_terms()`; terms of 3+
characters go through the FTS5 trigram index as one string, two-character terms (法院) as the
indexed trigrams that start with them (case-folded by `govcrawl_fold()`), and only
one-character terms scan title and body with `instr`. A URL is matched by its identity
`govcrawl_url_key()` (http and https alike). These are SQL functions the browse plugin registers
from the crawler's own code.
"""

from __future__ import annotations

from typing import Any

from govcrawl.store.query import TWO_CHAR_MATCH

#: `hits(id)`: the ids of articles whose title or body contains every term of :q (terms and
#: their variants from `govcrawl_search_terms()`, i.e. `store.query.search_terms`; no term finds
#: nothing). CROSS JOIN keeps `terms` the outer loop so only one-character terms scan the
#: content table; an article is a hit when it matched each term in some variant.
SEARCH_HITS = f"""
terms(i, t) AS (
  SELECT term.key, variant.value
  FROM json_each(govcrawl_search_terms(:q)) AS term, json_each(term.value) AS variant
),
term_hits(i, id) AS (
  SELECT terms.i, articles_fts.rowid FROM terms CROSS JOIN articles_fts
  WHERE length(terms.t) >= 3
    AND articles_fts MATCH '"' || replace(terms.t, '"', '""') || '"'
  UNION
  SELECT terms.i, articles_fts.rowid FROM terms CROSS JOIN articles_fts
  WHERE length(terms.t) = 2
    AND articles_fts MATCH {TWO_CHAR_MATCH.format(t="govcrawl_fold(terms.t)")}
  UNION
  SELECT terms.i, a.id FROM terms CROSS JOIN articles a
  WHERE length(terms.t) = 1
    AND (instr(a.title, terms.t) > 0 OR instr(a.body_text, terms.t) > 0)
),
hits(id) AS (
  SELECT id FROM term_hits GROUP BY id
  HAVING COUNT(DISTINCT i) = (SELECT COUNT(DISTINCT i) FROM terms)
)"""

SEARCH = f"""WITH {SEARCH_HITS}
SELECT a.id AS article_id, a.title, p.name AS portal, a.published_at, a.source, a.author,
       a.editor, COALESCE(a.duplicate_of, a.id) AS head_id, a.url
FROM hits JOIN articles a ON a.id = hits.id JOIN portals p ON p.id = a.portal_id
ORDER BY a.published_at DESC, a.id DESC"""

CARRIED_BY = """WITH target(head_id) AS (
  SELECT COALESCE(duplicate_of, id) FROM articles
  WHERE id = (CASE WHEN trim(:article) GLOB '[0-9]*' AND trim(:article) NOT GLOB '*[^0-9]*'
                   THEN CAST(trim(:article) AS INTEGER) END)
     OR url_key = govcrawl_url_key(trim(:article))
     OR url = trim(:article) OR canonical_url = trim(:article)
)
SELECT a.id AS article_id, p.name AS portal, a.portal_id, p.province,
       CASE WHEN a.duplicate_of IS NULL THEN '首发 head' ELSE '转载 copy' END AS role,
       a.title, a.published_at, a.similarity, a.is_mirror, a.url
FROM articles a JOIN portals p ON p.id = a.portal_id
WHERE COALESCE(a.duplicate_of, a.id) IN (SELECT head_id FROM target)
ORDER BY a.duplicate_of IS NOT NULL, a.published_at, a.id"""

CHANGED_SINCE = """SELECT * FROM (
  SELECT a.id AS article_id, p.name AS portal, a.title, '修改 edited' AS change,
         v.observed_at AS at, v.changed AS fields, v.old_values
  FROM article_versions v JOIN articles a ON a.id = v.article_id
  JOIN portals p ON p.id = a.portal_id
  WHERE v.observed_at >= :since
  UNION ALL
  SELECT a.id, p.name, a.title, '删除 removed', a.removed_at, NULL, NULL
  FROM articles a JOIN portals p ON p.id = a.portal_id
  WHERE a.removed_at IS NOT NULL AND a.removed_at >= :since
)
ORDER BY at DESC, article_id DESC"""

QUIET_PORTALS = """SELECT p.id AS portal_id, p.name AS portal, p.province,
       COUNT(a.id) AS articles,
       substr(MAX(a.published_at), 1, 10) AS newest_published,
       MAX(a.first_seen) AS newest_first_seen,
       CAST(julianday('now') - julianday(substr(MAX(a.published_at), 1, 10)) AS INTEGER)
         AS days_quiet
FROM portals p LEFT JOIN articles a ON a.portal_id = p.id
GROUP BY p.id, p.name, p.province
HAVING MAX(a.published_at) IS NULL
    OR substr(MAX(a.published_at), 1, 10) < date('now', '-' || CAST(:days AS INTEGER) || ' days')
ORDER BY newest_published IS NOT NULL, newest_published, p.id"""

BUSIEST_SOURCES = """SELECT a.source, COUNT(*) AS articles,
       COUNT(DISTINCT COALESCE(a.duplicate_of, a.id)) AS distinct_stories,
       COUNT(DISTINCT a.portal_id) AS portals,
       MIN(a.published_at) AS first_published, MAX(a.published_at) AS last_published
FROM articles a
WHERE a.source IS NOT NULL AND a.source != ''
GROUP BY a.source
ORDER BY articles DESC, a.source"""

BUSIEST_EDITORS = """SELECT a.editor, p.name AS portal, a.portal_id, COUNT(*) AS articles,
       MIN(a.published_at) AS first_published, MAX(a.published_at) AS last_published
FROM articles a JOIN portals p ON p.id = a.portal_id
WHERE a.editor IS NOT NULL AND a.editor != ''
GROUP BY a.editor, p.name, a.portal_id
ORDER BY articles DESC, a.editor, a.portal_id"""

PER_PORTAL_MONTH = """SELECT substr(a.published_at, 1, 7) AS month, p.name AS portal,
       COUNT(*) AS articles
FROM articles a JOIN portals p ON p.id = a.portal_id
WHERE a.published_at IS NOT NULL
GROUP BY month, p.name
ORDER BY month, p.name"""

#: Per province: each archived portal, how its address is known (the declaration's evidence,
#: recorded at each crawl), its newest article and its mean articles per month over the span
#: from its first to its newest publish month.
COVERAGE_BY_PROVINCE = """SELECT
  COALESCE(p.province, CASE WHEN p.level = 'national' THEN '(national)'
                            ELSE '(no province)' END) AS province,
  p.id AS portal_id, p.name AS portal,
  COALESCE(json_extract(p.extra, '$.evidence'), '-') AS evidence,
  COUNT(a.id) AS articles,
  substr(MAX(a.published_at), 1, 10) AS last_published,
  ROUND(CAST(COUNT(a.published_at) AS REAL) / MAX(1,
    (CAST(substr(MAX(a.published_at), 1, 4) AS INTEGER) * 12
     + CAST(substr(MAX(a.published_at), 6, 2) AS INTEGER))
    - (CAST(substr(MIN(a.published_at), 1, 4) AS INTEGER) * 12
       + CAST(substr(MIN(a.published_at), 6, 2) AS INTEGER)) + 1), 1) AS articles_per_month
FROM portals p LEFT JOIN articles a ON a.portal_id = p.id
GROUP BY p.id, p.name, p.province, p.level, p.extra
ORDER BY p.province IS NULL, p.province, p.id"""

#: datasette-atom columns. atom_id is the canonical URL: stable across archive rebuilds.
#: An empty :q subscribes to every new article. datasette-atom 0.9 fails (HTTP 500) on a query
#: that returns no rows, so a search nothing matches yet yields one fixed placeholder entry (same
#: id and date every time, so readers show it once) instead of a broken feed.
FEED = f"""WITH {SEARCH_HITS},
entries AS (
  SELECT a.canonical_url AS atom_id, a.title AS atom_title, a.first_seen AS atom_updated,
         a.published_at AS atom_published, a.url AS atom_link, p.name AS atom_author_name,
         p.name || ' · ' || COALESCE(a.published_at, '') || ' · ' || COALESCE(a.source, '')
           || char(10) || char(10) || substr(COALESCE(a.body_text, ''), 1, 500) AS atom_content
  FROM articles a JOIN portals p ON p.id = a.portal_id
  WHERE trim(:q) = '' OR a.id IN (SELECT id FROM hits)
  ORDER BY a.first_seen DESC, a.id DESC
  LIMIT 100
)
SELECT * FROM entries
UNION ALL
SELECT 'tag:govcrawl,2025:feed/no-match/' || trim(:q), '暂无匹配的文章 No article matches yet: '
       || trim(:q), '2025-01-01T00:00:00+00:00', NULL, 'search', 'govcrawl',
       '档案中尚无包含「' || trim(:q) || '」的文章；有新文章时会出现在此订阅中。'
       || char(10) || 'No archived article contains "' || trim(:q) || '" yet; new ones will '
       || 'appear in this feed.'
WHERE NOT EXISTS (SELECT 1 FROM entries)"""

#: The home page: the newest articles by publication date.
LATEST_ARTICLES = """SELECT a.id, a.title, p.name AS portal, a.published_at
FROM articles a JOIN portals p ON p.id = a.portal_id
ORDER BY a.published_at DESC, a.id DESC
LIMIT :n"""

#: The home page: each declared portal's articles, newest article and its last crawl run
#: (runs are named after the portal they crawled) with the URLs that run refused or failed.
PORTAL_HEALTH = """WITH counts AS (
  SELECT portal_id, COUNT(*) AS articles, MAX(published_at) AS newest_published,
         MAX(first_seen) AS newest_archived
  FROM articles GROUP BY portal_id
),
last_run AS (SELECT spider, MAX(id) AS run_id FROM runs GROUP BY spider)
SELECT p.id AS portal_id, p.name AS portal, p.province, COALESCE(c.articles, 0) AS articles,
       substr(c.newest_published, 1, 10) AS newest_published,
       substr(c.newest_archived, 1, 16) AS newest_archived,
       r.status AS last_run_status, substr(COALESCE(r.finished_at, r.started_at), 1, 16)
         AS last_run_at,
       (SELECT COUNT(*) FROM rejects j WHERE j.run_id = r.id) AS last_run_refused
FROM portals p LEFT JOIN counts c ON c.portal_id = p.id
LEFT JOIN last_run l ON l.spider = p.id LEFT JOIN runs r ON r.id = l.run_id
ORDER BY p.province IS NOT NULL, p.province, p.id"""

#: datasette-vega reads its chart settings from the URL fragment.
CHART_FRAGMENT = ("#g.mark=bar&g.x_column=month&g.x_type=ordinal&g.y_column=articles"
                  "&g.y_type=quantitative&g.color_column=portal")


def canned_queries() -> dict[str, dict[str, Any]]:
    """The `queries` block of the database metadata (read-only: none has `write`)."""
    return {
        "search": {
            "title": "搜索文章 Search articles",
            "sql": SEARCH,
            "params": ["q"],
            "description_html": (
                "标题或正文包含所有词的文章（如 <code>法院 检察</code>；引号内为整句），繁简均可。"
                "可排序、可按网站/省份/月份筛选的结果见"
                '<a href="article_list">文章一览</a>的搜索框。'
                "<br>Articles whose title or body contains every word (<code>法院 检察</code>; "
                '"quoted phrase" whole), any length, simplified or traditional. To sort and '
                'filter by portal, province or month, search in <a href="article_list">'
                "article_list</a>."),
        },
        "carried_by": {
            "title": "哪些网站刊登了这篇文章 Which portals carried an article",
            "sql": CARRIED_BY,
            "params": ["article"],
            "description_html": (
                "输入文章编号或网址，列出同一转载组在各网站的版本。<br>"
                "Give an article id or URL: every portal's copy in its syndication group."),
        },
        "changed_since": {
            "title": "某日以来修改或删除的文章 Articles edited or removed since a date",
            "sql": CHANGED_SINCE,
            "params": ["since"],
            "description_html": (
                "日期格式 2024-05-01（按 UTC）。<br>Date as 2024-05-01 (UTC); edits come from "
                "article_versions, removals from articles.removed_at."),
        },
        "quiet_portals": {
            "title": "沉寂的网站 Portals that went quiet",
            "sql": QUIET_PORTALS,
            "params": ["days"],
            "description_html": (
                "最新文章的发布日期早于 N 天前（或尚无文章）的网站。<br>"
                "Portals whose newest article was published more than N days ago, or that have "
                "none."),
        },
        "busiest_sources": {
            "title": "发稿最多的来源 Busiest sources",
            "sql": BUSIEST_SOURCES,
            "description_html": "按稿件来源统计篇数。<br>Articles per source named in bylines.",
        },
        "busiest_editors": {
            "title": "编稿最多的编辑 Busiest editors",
            "sql": BUSIEST_EDITORS,
            "description_html": "按责任编辑与网站统计篇数。<br>Articles per editor and portal.",
        },
        "coverage_by_province": {
            "title": "各省覆盖情况 Coverage by province",
            "sql": COVERAGE_BY_PROVINCE,
            "description_html": (
                "每省的网站、地址依据（pattern：见过文章网址；homepage：仅知首页）、最新文章日期"
                "与月均文章数。<br>Per province: each portal, how its address is known "
                "(evidence), its newest article and its articles per month. Portals never "
                "crawled are listed by <code>govcrawl stats --by-province</code>."),
        },
        "articles_per_portal_month": {
            "title": "各网站每月文章数 Articles per portal per month",
            "sql": PER_PORTAL_MONTH,
            "description_html": (
                f'<a href="articles_per_portal_month{CHART_FRAGMENT}">图表 Chart</a>：'
                "按发布月份与网站统计。<br>Counted by publication month and portal."),
        },
        "feed": {
            "title": "govcrawl 新文章订阅 New articles",
            "sql": FEED,
            "params": ["q"],
            "description_html": (
                "Atom 订阅：在网址后加 .atom，例如 <code>feed.atom?q=法院</code>；"
                "q 为空则订阅全部新文章。"
                "<br>Atom feed: add .atom, e.g. <code>feed.atom?q=法院</code>; an empty q "
                "subscribes to every new article."),
        },
    }
