"""What every table, view and column of the archive holds, in Chinese and English.

`metadata.build_metadata` walks the live schema and looks each name up here, so a column the
store adds later shows up in Datasette at once; `metadata.missing_descriptions` (asserted empty by
the tests) says which names still need a line here.
"""

# ruff: noqa: E501 - Chinese text measures double width; splitting each pair hurts reading (as tests/**).

from __future__ import annotations

from typing import NamedTuple


class Text(NamedTuple):
    """One description in both languages."""

    zh: str
    en: str

    def both(self) -> str:
        return f"{self.zh} / {self.en}"


class Described(NamedTuple):
    """A table or view: what it holds, and each column."""

    text: Text
    columns: dict[str, Text]


T = Text

# Columns that recur with the same meaning.
_ID = T("行号（自增主键）", "row id (auto-increment primary key)")
_PORTAL_ID = T("门户网站编号（见 portals 表）", "portal id (see the portals table)")
_URL_KEY = T("去掉协议头的规范网址，用于识别同一网页", "canonical URL without its scheme: the page's identity")
_RUN_ID = T("抓取批次编号（见 runs 表）", "crawl run id (see the runs table)")
_RESPONSE_ID = T("对应的原始响应（见 responses 表）", "the raw response it came from (see responses)")
_ARTICLE_ID = T("文章编号（见 articles 表）", "article id (see the articles table)")
_UTC = "UTC，ISO 8601"

DESCRIPTIONS: dict[str, Described] = {
    "meta": Described(
        T("档案库自身的键值信息，例如格式标记", "key/value facts about the archive itself, e.g. its format marker"),
        {"key": T("键", "key"), "value": T("值", "value")},
    ),
    "alembic_version": Described(
        T("数据库结构版本（Alembic 迁移编号）", "schema revision applied (Alembic migration id)"),
        {"version_num": T("当前迁移编号", "current migration revision")},
    ),
    "portals": Described(
        T("已声明的门户网站：名称、级别、省份", "declared portals: name, level, province"),
        {
            "id": T("门户网站编号", "portal id"),
            "name": T("网站名称", "portal name"),
            "level": T("级别：national 全国 / provincial 省级 / other 其他",
                       "level: national, provincial or other"),
            "province": T("所属省份（全国性网站为空）", "province (empty for national portals)"),
            "extra": T("其他声明信息（JSON）", "other declared settings (JSON)"),
            "updated_at": T(f"声明最近更新时间（{_UTC}）", "when the declaration was last updated (UTC)"),
        },
    ),
    "runs": Described(
        T("每次抓取运行：爬虫、参数、起止时间、状态、统计", "each crawl run: spider, arguments, times, status, stats"),
        {
            "id": _ID,
            "spider": T("爬虫名称（通常即门户编号）", "spider name (usually the portal id)"),
            "arguments": T("运行参数（JSON）", "run arguments (JSON)"),
            "started_at": T(f"开始时间（{_UTC}）", "start time (UTC)"),
            "finished_at": T(f"结束时间（{_UTC}），未结束为空", "finish time (UTC); empty while running"),
            "status": T("状态：running / finished / failed / aborted",
                        "status: running, finished, failed or aborted"),
            "stats": T("Scrapy 统计数据（JSON）", "Scrapy stats (JSON)"),
            "pid": T("运行进程号", "process id of the run"),
        },
    ),
    "responses": Described(
        T("抓取到的原始 HTTP 响应（正文经压缩，方式见 body_compression）",
          "raw HTTP responses fetched (body compressed as body_compression says)"),
        {
            "id": _ID,
            "url": T("请求网址", "requested URL"),
            "url_key": _URL_KEY,
            "final_url": T("重定向后的最终网址", "final URL after redirects"),
            "status": T("HTTP 状态码", "HTTP status code"),
            "method": T("请求方法", "request method"),
            "headers": T("响应头（JSON）", "response headers (JSON)"),
            "request_headers": T("请求头（JSON）", "request headers (JSON)"),
            "request_body": T("请求正文（POST 时）", "request body (for POST)"),
            "body": T("响应正文（压缩后）", "response body, compressed"),
            "body_compression": T("正文压缩方式：zstd（旧档案为 zlib）", "body compression: zstd (zlib in older archives)"),
            "body_size": T("解压后正文字节数", "uncompressed body size in bytes"),
            "body_sha256": T("解压后正文的 SHA-256", "SHA-256 of the uncompressed body"),
            "fetched_at": T(f"抓取时间（{_UTC}）", "fetch time (UTC)"),
            "etag": T("ETag 响应头", "ETag header"),
            "last_modified": T("Last-Modified 响应头", "Last-Modified header"),
            "encoding": T("判定的文字编码", "text encoding decided"),
            "encoding_reason": T("编码判定依据", "why that encoding was chosen"),
            "encoding_confidence": T("编码判定置信度", "confidence of the encoding guess"),
            "replaced_bytes": T("解码时被替换的字节数", "bytes replaced while decoding"),
            "kind": T("响应类别：article 文章、list 列表、error 错误等",
                      "kind: article, list, error, …"),
            "reason": T("类别的具体原因", "reason for that kind"),
            "portal_id": _PORTAL_ID,
            "run_id": _RUN_ID,
        },
    ),
    "articles": Described(
        T("抽取出的文章：标题、来源、作者、编辑、发布时间、正文；duplicate_of 指向首发稿",
          "extracted articles: title, source, author, editor, date, text; duplicate_of points "
          "at the group's head"),
        {
            "id": _ID,
            "portal_id": _PORTAL_ID,
            "url": T("文章网址（首次发现时）", "article URL (as first found)"),
            "canonical_url": T("规范化网址", "canonical URL"),
            "url_key": _URL_KEY,
            "title": T("标题", "title"),
            "source": T("稿件来源（如 检察日报）", "source named by the page (e.g. 检察日报)"),
            "author": T("作者 / 记者 / 通讯员", "author, reporter or correspondent"),
            "editor": T("责任编辑", "responsible editor"),
            "published_at": T("发布时间，按网页原样（可能只有日期）",
                              "publication time as extracted (may be a bare date)"),
            "published_precision": T("发布时间精度：day / minute / second",
                                     "precision of published_at: day, minute or second"),
            "body_text": T("正文纯文本", "body as plain text"),
            "body_original": T("原始正文（修复前）", "body as originally found (before repairs)"),
            "byline_raw": T("网页上原样的署名行（来源、作者、编辑、时间）",
                            "the byline exactly as found on the page"),
            "script": T("文字：simplified 简体 / traditional 繁体", "script: simplified or traditional"),
            "provenance": T("各字段从网页何处取得（JSON）", "where on the page each field came from (JSON)"),
            "warnings": T("抽取时的警告（JSON 列表）", "extraction warnings (JSON list)"),
            "repairs": T("对文字做过的修复（JSON 列表）", "repairs applied to the text (JSON list)"),
            "is_mirror": T("是否为镜像站点的副本", "whether the page is a mirror site's copy"),
            "content_hash": T("正文哈希（完全相同的转载）", "hash of the body (exact reposts)"),
            "fingerprint": T("正文 MinHash 指纹（近似转载）", "MinHash fingerprint of the body (near copies)"),
            "duplicate_of": T("若为转载，首发文章的编号", "if a copy, the id of the group's head article"),
            "similarity": T("与首发文章的相似度（0–1）", "similarity to the head article (0–1)"),
            "first_seen": T(f"首次抓到时间（{_UTC}）", "first time the crawler saw it (UTC)"),
            "last_seen": T(f"最近一次抓到时间（{_UTC}）", "last time the crawler saw it (UTC)"),
            "response_id": _RESPONSE_ID,
            "removed_at": T(f"发现网页被删除的时间（{_UTC}）", "when the page was found removed (UTC)"),
        },
    ),
    "article_events": Described(
        T("文章事件：删除、重新链接、重新处理等", "article events: removed, relinked, reprocessed, …"),
        {
            "id": _ID,
            "article_id": _ARTICLE_ID,
            "at": T(f"事件时间（{_UTC}）", "when it happened (UTC)"),
            "event": T("事件类型", "event type"),
            "detail": T("详情（JSON）", "details (JSON)"),
        },
    ),
    "article_versions": Described(
        T("文章修改记录：每次改动前的旧值", "article edits: the old values before each change"),
        {
            "id": _ID,
            "article_id": _ARTICLE_ID,
            "observed_at": T(f"发现修改的时间（{_UTC}）", "when the change was seen (UTC)"),
            "changed": T("改动的字段名（JSON 列表）", "names of the fields that changed (JSON list)"),
            "old_values": T("改动前的旧值（JSON）", "their values before the change (JSON)"),
            "response_id": _RESPONSE_ID,
        },
    ),
    "media": Described(
        T("文章中的图片、附件等", "images, attachments and other media in articles"),
        {
            "id": _ID,
            "article_id": _ARTICLE_ID,
            "url": T("媒体网址", "media URL"),
            "kind": T("类别：image 图片、attachment 附件等", "kind: image, attachment, …"),
            "text": T("图片说明或附件名", "caption or attachment name"),
            "path": T("下载后保存的文件路径", "stored file path, when downloaded"),
        },
    ),
    "article_bands": Described(
        T("转载检测用的 LSH 分段索引", "LSH band index used to find near copies"),
        {
            "band": T("分段序号", "band number"),
            "key": T("该分段的哈希键", "hash key of the band"),
            "article_id": _ARTICLE_ID,
        },
    ),
    "rejects": Described(
        T("被拒绝或失败的网址及原因", "URLs refused or failed, and why"),
        {
            "id": _ID,
            "url": T("网址", "URL"),
            "url_key": _URL_KEY,
            "portal_id": _PORTAL_ID,
            "run_id": _RUN_ID,
            "kind": T("拒绝类别（如 error、blocked、not_article）",
                      "kind of refusal (e.g. error, blocked, not_article)"),
            "reason": T("具体原因", "specific reason"),
            "detail": T("详情", "detail"),
            "response_id": _RESPONSE_ID,
            "at": T(f"发生时间（{_UTC}）", "when (UTC)"),
        },
    ),
    "channel_progress": Described(
        T("各栏目回溯抓取进度", "backfill progress of each channel (list page)"),
        {
            "portal_id": _PORTAL_ID,
            "channel_url": T("栏目网址", "channel URL"),
            "backfill_complete": T("是否已回溯到底", "whether the backfill reached the end"),
            "last_page": T("已抓到的最后一页", "last list page fetched"),
            "updated_at": T(f"更新时间（{_UTC}）", "last update (UTC)"),
            "resume": T("下次继续抓取的列表请求（JSON）", "the list request to resume from (JSON)"),
        },
    ),
    "fetch_state": Described(
        T("失败网址的重试计划", "retry schedule of URLs that failed"),
        {
            "url_key": _URL_KEY,
            "url": T("网址", "URL"),
            "last_kind": T("最近一次失败类别", "kind of the last failure"),
            "attempts": T("已尝试次数", "attempts so far"),
            "last_try_at": T(f"最近一次尝试（{_UTC}）", "last attempt (UTC)"),
            "next_try_at": T(f"下次最早重试时间（{_UTC}）", "earliest next attempt (UTC)"),
        },
    ),
    "articles_fts": Described(
        T("标题与正文的全文索引（FTS5 三元组分词；两个字的词请用“搜索”查询）",
          "full-text index of title and body (FTS5 trigram: use the search query for "
          "two-character terms)"),
        {"title": T("标题", "title"), "body_text": T("正文", "body text")},
    ),
    "articles_fts_source": Described(
        T("全文索引读取的文本（视图）：标题与正文末尾各加一个换行，使结尾的两字词也能检索",
          "the text the full-text index reads (view): title and body each with a newline "
          "appended, so a two-character word at the end is found too"),
        {"id": _ARTICLE_ID, "title": T("标题", "title"), "body_text": T("正文", "body text")},
    ),
    "articles_fts_terms": Described(
        T("全文索引词表：每个三字组及其出现的文章数、次数；两个字的搜索由此展开",
          "full-text index vocabulary: each trigram with its article and occurrence counts; "
          "two-character searches expand through it"),
        {"term": T("三字组", "trigram"), "doc": T("包含它的文章数", "articles containing it"),
         "cnt": T("出现次数", "occurrences")},
    ),
    "articles_fts_config": Described(
        T("全文索引内部表：配置", "full-text index internals: configuration"),
        {"k": T("配置项", "setting"), "v": T("值", "value")},
    ),
    "articles_fts_data": Described(
        T("全文索引内部表：索引数据块", "full-text index internals: index blocks"),
        {"id": T("数据块编号", "block id"), "block": T("数据块", "block data")},
    ),
    "articles_fts_docsize": Described(
        T("全文索引内部表：各文档长度", "full-text index internals: document sizes"),
        {"id": T("文章编号", "article id"), "sz": T("各列词元数", "token counts per column")},
    ),
    "articles_fts_idx": Described(
        T("全文索引内部表：词项目录", "full-text index internals: term directory"),
        {
            "segid": T("段编号", "segment id"),
            "term": T("词项前缀", "term prefix"),
            "pgno": T("页号", "page number"),
        },
    ),
    "article_list": Described(
        T("文章一览（视图）：带网站名、首发编号与是否转载", "article list (view): with portal name, head id "
          "and whether it is a copy"),
        {
            "id": _ARTICLE_ID,
            "portal_id": _PORTAL_ID,
            "portal": T("网站名称", "portal name"),
            "province": T("网站所属省份", "the portal's province"),
            "level": T("网站级别（国家、省、市、县）", "the portal's level (national, provincial, city, county)"),
            "title": T("标题", "title"),
            "published_at": T("发布时间（按网页原样）", "publication time as extracted"),
            "publish_month": T("发布年月（YYYY-MM）", "publication month (YYYY-MM)"),
            "source": T("稿件来源", "source"),
            "author": T("作者", "author"),
            "editor": T("责任编辑", "editor"),
            "url": T("文章网址", "article URL"),
            "head_id": T("所属转载组的首发文章编号", "id of the syndication group's head"),
            "is_copy": T("是否为转载（1 是）", "whether it is a copy (1 = yes)"),
            "similarity": T("与首发文章的相似度", "similarity to the head"),
            "is_mirror": T("是否为镜像站点副本", "whether it is a mirror's copy"),
            "first_seen": T("首次抓到时间（UTC）", "first seen (UTC)"),
            "last_seen": T("最近抓到时间（UTC）", "last seen (UTC)"),
            "removed_at": T("发现被删除的时间（UTC）", "found removed at (UTC)"),
        },
    ),
    "syndication_groups": Described(
        T("转载组（视图）：首发文章及其在其他网站的转载", "syndication groups (view): a head article and "
          "its copies on other portals"),
        {
            "head_id": T("首发文章编号", "head article id"),
            "head_title": T("首发标题", "head title"),
            "head_published_at": T("首发发布时间", "head publication time"),
            "head_portal": T("首发网站", "head portal"),
            "copies": T("转载篇数", "number of copies"),
            "copy_portals": T("转载网站", "portals carrying copies"),
            "min_similarity": T("最低相似度", "lowest similarity among copies"),
        },
    ),
    "rejects_by_kind": Described(
        T("拒绝统计（视图）：按类别、原因、网站", "refusals (view) by kind, reason and portal"),
        {
            "kind": T("拒绝类别", "kind"),
            "reason": T("原因", "reason"),
            "portal_id": _PORTAL_ID,
            "n": T("次数", "count"),
            "first_at": T("最早一次（UTC）", "first occurrence (UTC)"),
            "last_at": T("最近一次（UTC）", "last occurrence (UTC)"),
        },
    ),
    "run_summary": Described(
        T("运行汇总（视图）：每次运行的响应数与拒绝数", "run summary (view): responses and refusals per run"),
        {
            "id": T("运行编号", "run id"),
            "spider": T("爬虫名称", "spider"),
            "status": T("状态", "status"),
            "started_at": T("开始时间（UTC）", "started (UTC)"),
            "finished_at": T("结束时间（UTC）", "finished (UTC)"),
            "responses": T("响应数", "responses fetched"),
            "rejects": T("拒绝数", "refusals"),
        },
    ),
    "sqlite_sequence": Described(
        T("SQLite 内部表：各表自增编号的当前值", "SQLite internals: current auto-increment values"),
        {"name": T("表名", "table name"), "seq": T("当前最大编号", "largest id issued")},
    ),
}
