"""Damaged input end to end: a bad byte, a deep page, a truncated WARC.

Promise: one invalid byte does not turn a UTF-8 page into GB18030 mojibake; a paragraph 300
elements deep is still extracted; importing a truncated WARC fails loudly, naming the offset.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

PARAGRAPH = "最高人民检察院近日召开新闻发布会，通报全国检察机关依法惩治涉黑涉恶犯罪工作情况。" * 3
DEEP = "深层段落：检察机关坚持依法从严惩治，推动扫黑除恶常态化，切实维护社会大局稳定。" * 2
BYLINE = "<div class='info'>发布时间：2022-01-04 10:00 来源：最高人民检察院</div>"


def govcrawl(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"GOVCRAWL_DATABASE_URL": f"sqlite:///{tmp_path / 'archive.db'}",
           "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
    return subprocess.run([sys.executable, "-m", "govcrawl", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def page(body: str) -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>检察机关通报工作情况'
            f"</title></head><body>{body}</body></html>").encode()


def extracted(tmp_path: Path, name: str, data: bytes) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    result = govcrawl(tmp_path, "extract", "--json", "--url",
                      "http://www.spp.gov.cn/zdgz/202201/t20220104_1.shtml", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[0])


def test_one_bad_byte_keeps_a_utf8_page_utf8(tmp_path):
    data = page(f"<h1>检察机关通报工作情况</h1><p>{PARAGRAPH}</p>")
    cut = data.index("新闻".encode())
    damaged = data[:cut] + b"\xff" + data[cut:]
    record = extracted(tmp_path, "bad-byte.html", damaged)
    assert (record["encoding"]["name"], PARAGRAPH[:20] in record["text"]) == ("utf-8", True), (
        f"decoded as {record['encoding']}; text starts {record['text'][:80]!r}")


def test_a_paragraph_300_deep_is_extracted(tmp_path):
    deep = "<div>" * 300 + f"<p>{DEEP}</p>" + "</div>" * 300
    record = extracted(tmp_path, "deep.html", page(
        f"<h1>检察机关通报工作情况</h1>{BYLINE}<div class='content'><p>{PARAGRAPH}</p>"
        f"<p>{PARAGRAPH}</p>{deep}</div>"))
    body = record.get("body_text") or ""
    assert (record["kind"], DEEP[:30] in body) == ("article", True), (
        f"kind {record['kind']}, body_text ends {body[-80:]!r}")


def warc_response(n: int) -> bytes:
    """One WARC/1.0 response record (written by hand: the format is simple and exact)."""
    body = page(f"<h1>标题{n}</h1>{BYLINE}<p>{PARAGRAPH}</p>")
    block = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
             + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    head = (f"WARC/1.0\r\nWARC-Type: response\r\n"
            f"WARC-Target-URI: http://www.spp.gov.cn/zdgz/202201/t20220104_{n}.shtml\r\n"
            f"WARC-Date: 2022-01-04T02:00:00Z\r\n"
            f"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-00000000000{n}>\r\n"
            f"Content-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(block)}\r\n\r\n").encode()
    return head + block + b"\r\n\r\n"


def test_a_truncated_warc_fails_naming_the_offset(tmp_path):
    records = [warc_response(n) for n in range(2)]
    offsets = [0, len(records[0])]
    data = b"".join(records)
    cut = offsets[1] + (len(data) - offsets[1]) // 2  # the second record loses its end
    path = tmp_path / "capture.warc"
    path.write_bytes(data[:cut])
    result = govcrawl(tmp_path, "import", "--warc", str(path))
    named = [int(n) for n in re.findall(r"\d+", result.stderr.replace(str(path), ""))]
    assert result.returncode != 0 and any(offsets[1] <= n <= cut for n in named), (
        f"exit {result.returncode}, numbers named {named} (the damaged record spans "
        f"{offsets[1]}..{cut}): {result.stderr.strip()[-500:]}")
