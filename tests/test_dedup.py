"""govcrawl.dedup: URL identity rules, content hash, fingerprint and pair verification."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from govcrawl import dedup

ROOT = Path(__file__).resolve().parents[1]
BODY = (
    "5月9日，最高人民检察院党组书记、检察长张军主持召开党组会，贯彻落实中共中央关于加强新时代"
    "检察机关法律监督工作的意见，研究讨论质量建设年以检察工作高质量发展服务经济社会高质量发展的"
    "具体举措。会议要求，要把质量建设年的要求抓实抓细，以更优的检察履职实绩为党分忧、为民解难。"
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # fragment dropped, host lower-cased, default port dropped, query sorted
        ("HTTP://WWW.SPP.GOV.CN:80/spp/a.shtml?b=2&a=1#top", "http://www.spp.gov.cn/spp/a.shtml?a=1&b=2"),
        ("https://www.spp.gov.cn:443/x.html", "https://www.spp.gov.cn/x.html"),
        # non-default port kept
        ("http://127.0.0.1:8080/x.html", "http://127.0.0.1:8080/x.html"),
        # tracking parameters
        ("http://a.cn/x.html?utm_source=wx&utm_medium=s&id=3", "http://a.cn/x.html?id=3"),
        ("http://a.cn/x.html?spm=1.2.3&from=timeline&isappinstalled=0", "http://a.cn/x.html"),
        # path session id
        ("http://a.cn/art/2022/5/10/art_282_1.html;jsessionid=ABC123", "http://a.cn/art/2022/5/10/art_282_1.html"),
        # Founder content_*.htm: node is a channel tail
        (
            "http://www.legaldaily.com.cn/index_article/content/2022-03/04/content_8681543.htm?node=5955",
            "http://www.legaldaily.com.cn/index_article/content/2022-03/04/content_8681543.htm",
        ),
        # node kept elsewhere (it may select a list)
        ("http://a.cn/list.htm?node=5955", "http://a.cn/list.htm?node=5955"),
        # Hanweb list pages: uid and pageNum select the page
        ("http://a.cn/col/col282/index.html?uid=423656&pageNum=2", "http://a.cn/col/col282/index.html?pageNum=2&uid=423656"),
        # percent-encoding of non-ASCII
        ("http://a.cn/搜索?q=法院", "http://a.cn/%E6%90%9C%E7%B4%A2?q=%E6%B3%95%E9%99%A2"),
    ],
)
def test_canonical_url_rules(url: str, expected: str) -> None:
    assert dedup.canonical_url(url) == expected


def test_url_key_is_scheme_independent_and_node_independent() -> None:
    a = "http://www.legaldaily.com.cn/index_article/content/2022-03/04/content_8681543.htm?node=5955"
    b = "https://WWW.legaldaily.com.cn/index_article/content/2022-03/04/content_8681543.htm?node=80"
    assert dedup.url_key(a) == dedup.url_key(b)
    assert dedup.url_key(a).startswith("//www.legaldaily.com.cn/")
    assert dedup.url_key("http://a.cn/x?page=1") != dedup.url_key("http://a.cn/x?page=2")


def test_content_hash_normalisation() -> None:
    h = dedup.content_hash(BODY)
    assert h == dedup.content_hash(BODY.replace("，", ",").replace("。", "。\n\u3000\u3000"))
    assert h == dedup.content_hash(" ".join(BODY))  # whitespace removed
    assert h == dedup.content_hash(dedup._t2s().convert(BODY))  # already simplified: stable
    assert h != dedup.content_hash(BODY.replace("张军", "李军"))
    assert dedup.content_hash("") is None
    assert dedup.content_hash(" \n ") is None


def test_body_keys_match_separate_functions() -> None:
    keys = dedup.body_keys(BODY)
    assert keys.content_hash == dedup.content_hash(BODY)
    assert keys.fingerprint == dedup.fingerprint(BODY)
    assert dedup.fingerprint("太短") is None


def test_fingerprint_is_stable_across_processes() -> None:
    """Band keys live in the database: they must not depend on PYTHONHASHSEED."""
    code = (
        "from govcrawl import dedup; import sys;"
        f"print(dedup.band_keys(dedup.fingerprint({BODY!r})))"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            cwd=ROOT, env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1
    assert outs.pop().strip() == str(dedup.band_keys(dedup.fingerprint(BODY)))


def test_fingerprint_roundtrip_and_estimate() -> None:
    fp = dedup.fingerprint(BODY)
    assert dedup.Fingerprint.from_hex(fp.hex()) == fp
    assert fp.estimate(fp) == 1.0
    near = dedup.fingerprint("本网讯 " + BODY + "责任编辑：李婷")
    far = dedup.fingerprint("北京市第一中级人民法院今日公开开庭审理一起涉嫌合同诈骗案，被告人当庭认罪。" * 3)
    assert near.estimate(fp) > 0.6 > far.estimate(fp)
    keys = dedup.band_keys(fp)
    assert len(keys) == dedup.BANDS and all(-(2**63) <= k < 2**63 for _, k in keys)
    assert set(keys) & set(dedup.band_keys(near))


def test_compare_links_copies_and_keeps_template_twins_apart() -> None:
    copy = "首页 > 新闻中心\n" + BODY + "\n责任编辑：李婷"
    assert dedup.compare(BODY, copy).same
    twin = BODY.replace("张军", "王伟").replace("5月9日", "6月2日")
    c = dedup.compare(BODY, twin)
    assert c.containment > 0.75 and not c.same
    assert not dedup.compare(BODY, "完全不同的一篇文章，讲述了某地法院开展普法宣传活动的情况。" * 4).same


def test_could_be_same_follows_the_containment_bound() -> None:
    # equal sizes: containment 0.85 needs Jaccard >= 0.85 / 1.15 = 0.739, less the slack
    bound = 0.85 / 1.15 - dedup.ESTIMATE_SLACK
    assert dedup.could_be_same(bound + 0.01, 1000, 1000)
    assert not dedup.could_be_same(bound - 0.01, 1000, 1000)
    # a short copy inside a long page: a low Jaccard is still possible
    assert dedup.could_be_same(0.2, 300, 1200)
    assert not dedup.could_be_same(0.2, 1000, 1000)


def test_estimate_against_a_stored_signature_matches_estimate() -> None:
    a = dedup.fingerprint("最高人民检察院发布工作报告，强化法律监督，维护社会公平正义。" * 3)
    b = dedup.fingerprint("最高人民检察院发布工作报告，强化法律监督。另有一段不同的文字内容。" * 2)
    assert 0 < a.estimate(b) < 1
    assert a.estimate_hex(b.hex()) == a.estimate(b)


def test_form_length_is_the_length_of_the_match_form() -> None:
    text = "最高人民检察院　发布 2024 年工作报告，（一）强化法律监督！"
    assert dedup.form_length(text) == len(dedup.match_form(text))
