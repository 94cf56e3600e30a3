"""Crude body text of devset pages, for the syndication test and bench only.

govcrawl.extract did not exist when this was written. This decodes with the page's labelled
encoding (an evaluation label, acceptable in a test), drops script/style/comments, and takes the
text of the element whose own paragraphs hold the most Han characters. Mirror text then goes
through pairgen.repair (pinyin strip + t2s).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from lxml import html as lxml_html
from pairgen import repair

DEVSET = Path(__file__).resolve().parents[1] / "data" / "devset"
_HAN = re.compile(r"[\u4e00-\u9fff]")


def page_body(page_id: str) -> str:
    meta = json.loads((DEVSET / "pages" / f"{page_id}.json").read_text(encoding="utf-8"))
    raw = (DEVSET / "pages" / f"{page_id}.html").read_bytes()
    enc = meta.get("true_encoding") or "utf-8"
    if enc.lower() in ("gbk", "gb2312"):
        enc = "gb18030"
    text = raw.decode("utf-8-sig" if enc.lower() == "utf-8" else enc, errors="replace")
    doc = lxml_html.fromstring(text)
    for bad in doc.xpath("//script|//style|//comment()"):
        bad.drop_tree()
    best, best_score = doc, -1
    for el in doc.iter("div", "td", "article", "section"):
        score = 0
        for child in el:
            if child.tag in ("p", "br") or (child.tag == "div" and not len(child)):
                score += len(_HAN.findall(child.text_content()))
        if score > best_score:
            best, best_score = el, score
    lines = [ln.strip() for ln in best.text_content().splitlines()]
    return repair("\n".join(ln for ln in lines if ln))


def pairs() -> list[tuple[str, str, bool]]:
    out = []
    for line in (DEVSET / "pairs.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append((d["a"], d["b"], bool(d["same_article"])))
    return out
