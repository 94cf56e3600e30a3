"""Article pages: selectors, encodings and truth fields are recoverable from the bytes."""

from __future__ import annotations

import re
import unicodedata

import lxml.html
import pytest

from govcrawl.simulator import Simulator
from govcrawl.simulator.corpus import convert

# title selector and body selector per dialect (portals.md §1)
SELECTORS = {
    "spp": ("div.detail_tit", "div#fontzoom"),
    "changan": ("div.title", "div.content_main div#js_content"),
    "jszf": ("div.title", "div#zoom"),
    "fzw": ("div#CONTENT h1", "div#CONTENT-MAIN"),
    "court": (".detail_bigtitle", ".detail_txt"),
    "county": ("h1.art_title", "div.art_content"),
    "twfx": ("h1.art_title", "div.art_content"),
}
PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")


def _decode(sim: Simulator, art: dict, get) -> str:
    resp = get(art["url"])
    assert resp.status == 200
    return resp.body.decode(art["encoding"])


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


@pytest.mark.parametrize("pid", sorted(SELECTORS))
def test_title_and_body_edges_recoverable(sim: Simulator, get, pid: str) -> None:
    title_sel, body_sel = SELECTORS[pid]
    for art in list(sim.iter_articles(pid))[:20]:
        doc = lxml.html.fromstring(_decode(sim, art, get))
        title = doc.cssselect(title_sel)[0].text_content()
        body = _norm(doc.cssselect(body_sel)[0].text_content())
        if art["script"] == "traditional":
            title, body = convert(title, "t2s"), convert(body, "t2s")
        assert title.strip() == art["title"]
        assert body.startswith(_norm(art["body_starts"]))
        # a credits-only line may follow the body's last paragraph; it is byline
        assert _norm(art["body_ends"]) in body


def test_fields_appear_in_page(sim: Simulator, get) -> None:
    checked = 0
    for pid in ("spp", "changan", "jszf", "fzw", "court", "county"):
        for art in list(sim.iter_articles(pid))[:15]:
            text = _decode(sim, art, get)
            for name in ("source", "editor"):
                if art[name]:
                    assert art[name] in text
            if art["author"]:
                for person in art["author"].split(" "):
                    assert person in text
            assert art["title"] in text
            checked += 1
    assert checked == 90


def test_published_at_matches_byline_text(sim: Simulator, get) -> None:
    for pid in ("spp", "changan", "court", "county", "jszf", "fzw"):
        for art in list(sim.iter_articles(pid))[:15]:
            text = _decode(sim, art, get)
            iso = art["published_at"]
            y, m, d = int(iso[:4]), int(iso[5:7]), int(iso[8:10])
            forms = [f"{y}-{m:02d}-{d:02d}", f"{y}年{m:02d}月{d:02d}日", f"{y}/{m}/{d}",
                     f"{y}.{m:02d}.{d:02d}"]
            assert any(f in text for f in forms), art["url"]
            if art["published_precision"] != "day":
                assert iso[11:16] in text
            if art["published_precision"] == "second":
                assert iso[11:19] in text


def test_encoding_profiles(sim: Simulator, get) -> None:
    seen = set()
    for pid in ("spp", "jszf", "fzw", "county", "twfx"):
        for art in sim.iter_articles(pid):
            resp = get(art["url"])
            ctype = resp.headers["Content-Type"]
            profile = art["encoding_profile"]
            seen.add(profile)
            resp.body.decode(art["encoding"])  # the true encoding always works
            if profile == "utf8-as-gb2312":
                assert "charset" not in ctype and b"charset=gb2312" in resp.body
            elif profile == "latin1-gbk":
                assert ctype.endswith("ISO-8859-1") and b"charset=gbk" in resp.body
            elif profile == "gbk-undeclared":
                assert "charset" not in ctype and b"charset" not in resp.body
            elif profile == "big5":
                assert ctype.endswith("big5")
    assert {"utf-8", "utf8-as-gb2312", "gbk", "gb2312-gbk", "latin1-gbk", "big5"} <= seen


def test_gb2312_declared_pages_need_gbk(get) -> None:
    with Simulator(size=60, seed=2) as s:
        failing = 0
        for art in s.iter_articles("fzw"):
            if art["encoding_profile"] != "gb2312-gbk":
                continue
            body = get(art["url"]).body
            assert b"charset=gb2312" in body
            try:
                body.decode("gb2312")
            except UnicodeDecodeError:
                failing += 1
                assert any(c in body.decode("gbk") for c in "喆堃玥镕昇")
        assert failing > 0


def test_gov_meta_tags(sim: Simulator, get) -> None:
    kinds = set()
    for art in list(sim.iter_articles("jszf"))[:20]:
        doc = lxml.html.fromstring(_decode(sim, art, get))
        meta = {m.get("name"): m.get("content") for m in doc.cssselect("meta[name]")}
        if meta.get("ArticleTitle"):
            kinds.add("filled")
            assert meta["ArticleTitle"] == art["title"]
            assert meta["PubDate"][:10] == art["published_at"][:10]
            assert (meta["ContentSource"] or None) == art["source"]
        else:
            kinds.add("empty")
            assert meta["PubDate"] == ""
    assert kinds == {"filled", "empty"}


def test_media_links_served(sim: Simulator, get) -> None:
    with_media = [a for p in ("spp", "changan", "court", "fzw", "jszf", "county")
                  for a in sim.iter_articles(p) if a["media"]]
    assert with_media
    kinds = set()
    for art in with_media[:25]:
        text = _decode(sim, art, get)
        for item in art["media"]:
            kinds.add(item["kind"])
            assert item["url"] in text
            assert get(sim.url(item["url"])).status == 200
    assert kinds == {"image", "attachment"}


def _repair(segment: str) -> str:
    """The documented mechanical repair of `P(pinyin)?pinyin)garbage` (portals.md §4b)."""
    from pypinyin import Style, pinyin

    def fix(m: re.Match[str]) -> str:
        prev, annot, run = m.group(1), m.group(2), m.group(3)
        trail = prev.encode("gbk")[-1]
        for x in range(0x40, 0xFF):
            try:
                cand = bytes([trail, x]).decode("gbk")
            except UnicodeDecodeError:
                continue
            if pinyin(cand, style=Style.TONE)[0][0] != annot:
                continue
            for cut in range(len(run), 0, -1):
                try:
                    fixed = (bytes([x]) + run[:cut].encode("gbk")).decode("gbk")
                except UnicodeDecodeError:
                    continue
                return prev + fixed + run[cut:]
        return m.group(0)

    return re.sub(r"([^\x00-\x7f])(?:\([^()]*\))?\?([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+)\)"
                  r"([^\x00-\x7f]{1,24}[\x00-\x7f]?)", fix, segment)


def test_farm_pinyin_garble_is_repairable_to_truth(get) -> None:
    with Simulator(size=60, seed=4) as s:
        garbled = 0
        for art in s.iter_articles("farm"):
            text = get(art["url"]).body.decode(art["encoding"])
            assert PINYIN.search(text)
            doc = lxml.html.fromstring(text)
            label = doc.cssselect("div.info")[0].text_content()
            if art["source"]:
                assert "來(lái)源" in label or "來源" in label
            paras = [p.text_content() for p in doc.cssselect("div.content p")]
            for raw in paras:
                if re.search(r"\?[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", raw):
                    garbled += 1
                clean = PINYIN.sub("", _repair(raw))
                simp = _norm(convert(clean, "t2s"))
                assert simp in _norm(s.corpus.view("farm", art["index"]).body_text()), raw
            body = _norm(convert(PINYIN.sub("", "".join(_repair(p) for p in paras)), "t2s"))
            assert body.startswith(_norm(art["body_starts"]))
            assert body.endswith(_norm(art["body_ends"]))
        assert garbled >= 3
