"""`govcrawl export`: JSONL/CSV carry the query records; WARC carries the archived bytes exactly
and `govcrawl import --warc` of it recreates the articles."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from datetime import UTC, datetime

from warcio.archiveiterator import ArchiveIterator

from govcrawl.extract import extract_page
from govcrawl.records import RawResponse
from govcrawl.store import StoreEntry, open_archive
from tests.using.usehelpers import sql

FIELDS = ("url", "canonical_url", "portal", "title", "source", "author", "editor",
          "published_at", "published_precision", "body_text", "is_mirror")


def test_jsonl_and_csv_exports_hold_the_query_records_and_bodies(
        devset_env, tmp_path, govcrawl_cli):
    listed = govcrawl_cli("query", "--limit", "0", "--portal", "chinapeace").jsonl()
    out = tmp_path / "a.jsonl"
    result = govcrawl_cli("export", "--format", "jsonl", "-o", str(out), "--portal",
                          "chinapeace")
    assert result.code == 0, result.err
    exported = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [{k: r[k] for k in listed[0]} for r in exported] == listed
    bodies = dict(sql(devset_env, "select id, body_text from articles"))
    assert all(r["body_text"] == bodies[r["id"]] for r in exported)
    out_csv = tmp_path / "a.csv"
    assert govcrawl_cli("export", "--format", "csv", "-o", str(out_csv)).code == 0
    with out_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 36
    assert {r["url"]: r["body_text"] for r in rows} == dict(
        sql(devset_env, "select url, body_text from articles"))


def test_warc_round_trip_gives_the_archived_bytes(devset_env, tmp_path, govcrawl_cli):
    warc = tmp_path / "out.warc.gz"
    result = govcrawl_cli("export", "--format", "warc", "-o", str(warc))
    assert result.code == 0, result.err
    archived = dict(sql(devset_env, "select a.url, r.body_sha256 from articles a "
                                    "join responses r on r.id = a.response_id"))
    got, requests = {}, 0
    with warc.open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                uri = record.rec_headers.get_header("WARC-Target-URI")
                body = record.content_stream().read()
                got[uri] = hashlib.sha256(body).hexdigest()
                assert record.http_headers.get_header("Content-Length") == str(len(body))
                assert record.http_headers.get_header("Content-Encoding") is None
            elif record.rec_type == "request":
                requests += 1
    assert got == archived and len(got) == 36
    assert requests == 36


def test_import_of_the_warc_into_an_empty_archive_recreates_the_articles(
        devset_env, tmp_path, govcrawl_cli):
    warc = tmp_path / "out.warc.gz"
    assert govcrawl_cli("export", "--format", "warc", "-o", str(warc)).code == 0
    empty = f"sqlite:///{tmp_path}/empty.db"
    result = govcrawl_cli("import", "--warc", str(warc), "--database", empty)
    assert result.code == 0, result.err
    before = govcrawl_cli("export", "--format", "jsonl", "-o", str(tmp_path / "a.jsonl"))
    after = govcrawl_cli("export", "--format", "jsonl", "-o", str(tmp_path / "b.jsonl"),
                         "--database", empty)
    assert before.code == after.code == 0

    def load(name):
        records = [json.loads(x) for x in (tmp_path / name).read_text("utf-8").splitlines()]
        by_id = {r["id"]: r["url"] for r in records}
        return ({r["url"]: {k: r[k] for k in FIELDS} for r in records},
                {r["url"]: by_id.get(r["duplicate_of"]) for r in records})

    (a, a_heads), (b, b_heads) = load("a.jsonl"), load("b.jsonl")
    assert b == a and len(b) == 36
    assert b_heads == a_heads  # the same syndication groups, with the same heads
    # and importing the export again adds nothing
    again = govcrawl_cli("import", "--warc", str(warc), "--database", empty)
    assert "skipped 36" in again.out and "new" not in again.out


def test_warc_headers_tell_the_truth_about_a_decompressed_body(tmp_path, govcrawl_cli):
    """A crawl stores the body gunzipped; the wire's Content-Encoding/Length must not survive."""
    html = ("<html><head><title>测试</title></head><body><h1>某某法院召开会议</h1>"
            "<p>发布时间：2024-05-10 来源：某某法院</p><p>" + "会议要求进一步推进执法规范化建设。" * 20
            + "</p></body></html>").encode()
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip",
               "Content-Length": str(len(gzip.compress(html))), "Server": "nginx"}
    url = "http://www.court.example.cn/a/1.html"
    raw = RawResponse(url=url, status=200, headers=headers, body=html,
                      fetched_at=datetime(2024, 5, 10, tzinfo=UTC), final_url=url,
                      request_headers={"Accept-Encoding": "gzip"})
    db = f"sqlite:///{tmp_path}/g.db"
    with open_archive(db) as arc:
        arc.ensure_portal("court", "某某法院")
        page = extract_page(html, url, 200, headers)
        page.kind = "article"  # whatever the classifier says, this test is about the bytes
        arc.store_batch([StoreEntry(raw, page, "court")])
    warc = tmp_path / "g.warc"
    assert govcrawl_cli("export", "--format", "warc", "-o", str(warc), "--database",
                        db).code == 0
    assert warc.read_bytes().startswith(b"WARC/1.")  # no .gz: plain WARC
    seen = []
    with warc.open("rb") as fh:
        for resp in ArchiveIterator(fh):
            if resp.rec_type != "response":
                continue
            assert resp.http_headers.get_header("Content-Encoding") is None
            assert resp.http_headers.get_header("Content-Length") == str(len(html))
            assert resp.http_headers.get_header("Server") == "nginx"
            assert resp.http_headers.get_statuscode() == "200"
            seen.append(resp.raw_stream.read())  # the payload itself, nothing to decode
    assert seen == [html]


def test_export_bad_arguments(devset_env, tmp_path, govcrawl_cli):
    assert govcrawl_cli("export", "--format", "warc", "-o", "-").code == 2
    assert govcrawl_cli("export", "--format", "jsonl", "-o",
                        str(tmp_path / "no" / "dir.jsonl")).code == 2
    assert govcrawl_cli("export", "--format", "jsonl", "-o", str(tmp_path / "x"),
                        "--since", "2024-02-30").code == 2
    result = govcrawl_cli("export", "--format", "jsonl", "-o", "-", "--portal", "spp")
    assert result.code == 0 and len(result.jsonl()) == 2
