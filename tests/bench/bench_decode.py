"""Decoding accuracy: govcrawl's decode_body against Scrapy's TextResponse.text.

Run by hand: python tests/bench/bench_decode.py
A page counts as right when the decoded text equals the page decoded with its true encoding
(devset: the `true_encoding` label; CWCED: UTF-8 when the bytes are valid UTF-8, else GB18030).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from scrapy.http import HtmlResponse

from govcrawl.text.decode import decode_body

DATA = Path(__file__).resolve().parents[1] / "data"
CODEC = {"gbk": "gb18030", "gb2312": "gb18030", "big5": "big5hkscs"}


def devset():
    for page in sorted((DATA / "devset" / "pages").glob("*.html")):
        meta = json.loads(page.with_suffix(".json").read_text("utf-8"))
        yield page.name, page.read_bytes(), meta["headers"], meta["true_encoding"], meta["url"]


def cwced():
    for page in sorted((DATA / "cwced" / "original").glob("*.html")):
        body = page.read_bytes()
        match = re.match(rb'<text id="([^"]*)" title="[^"]*" encoding="[^"]*">', body)
        url = match.group(1).decode("latin-1") if match else "http://cwced.example/"
        if match:
            body = body[match.end():].rsplit(b"</text>", 1)[0]
        try:
            body.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "gb18030"
        yield page.name, body, {"Content-Type": "text/html"}, encoding, url


def score(pages):
    ours = scrapy_right = 0
    ours_time = scrapy_time = 0.0
    wrong = []
    for name, body, headers, encoding, url in pages:
        truth = body.decode(CODEC.get(encoding, encoding), errors="replace").lstrip("\ufeff")
        started = time.perf_counter()
        decoded = decode_body(body, headers).text.lstrip("\ufeff")
        ours_time += time.perf_counter() - started
        started = time.perf_counter()
        theirs = HtmlResponse(url, body=body, headers=headers).text.lstrip("\ufeff")
        scrapy_time += time.perf_counter() - started
        ours += decoded == truth
        scrapy_right += theirs == truth
        if theirs != truth:
            wrong.append(name)
    return ours, scrapy_right, ours_time, scrapy_time, wrong


def main() -> None:
    decode_body("甘肃".encode("gbk"), None)  # warm-up: the common-character table loads once
    print(f"{'set':<8}{'pages':>6}{'govcrawl':>10}{'Scrapy':>10}{'govcrawl ms':>13}"
          f"{'Scrapy ms':>11}  Scrapy wrong on")
    for label, pages in (("devset", list(devset())), ("cwced", list(cwced()))):
        ours, theirs, ours_time, theirs_time, wrong = score(pages)
        n = len(pages)
        print(f"{label:<8}{n:>6}{ours / n:>10.3f}{theirs / n:>10.3f}{ours_time * 1000:>13.1f}"
              f"{theirs_time * 1000:>11.1f}  {', '.join(wrong)}")


if __name__ == "__main__":
    main()
