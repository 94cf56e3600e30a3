"""Deterministic generator of same-article and hard different-article body pairs.

Used by tests/store/test_syndication.py and tests/bench/bench_syndication.py to choose and check the
near-duplicate thresholds in govcrawl.dedup. Every pair carries `half` ("A" or "B"): the half
is decided per *source article*, so no text seen while choosing thresholds (half A) appears in
the held-back half B.

Same-article variants (one or two applied per pair): another portal's chrome lines added, a
traditional + pinyin mirror (OpenCC s2t, `字(pīnyīn)` injected after some characters), editor
line added/removed, lead trimmed or extended, title line with a changed site suffix, a GB2312
round-trip (characters outside GB2312 become `?`), ASCII punctuation / full-width digits.

Hard different pairs: two meeting reports from one template (shared boilerplate, other
names, dates, figures and specific paragraphs), short notices that differ only in names and
dates, the same headline over different text, adjacent sections of one source text, and two
different short articles wrapped in the same portal chrome.

Mirror text is compared after repair. govcrawl.text.repair did not exist when this was written,
so `repair()` here strips pinyin with a regex following docs/portals.md §4c and converts with
OpenCC t2s; switch it to the real repair when that module lands.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import opencc
from pypinyin import Style, pinyin

CWCED = Path(__file__).resolve().parents[1] / "data" / "cwced" / "cleaned"
SEED = 20240501

_PINYIN_A = re.compile(
    r"(?<=[\u3400-\u9fff])\((?:[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*|[a-z]{1,6})\) ?"
)


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool
    kind: str  # variant or hard-negative family
    half: str  # "A" (threshold choice) or "B" (held back)


@lru_cache(maxsize=2)
def _cc(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def repair(text: str) -> str:
    """Stand-in for govcrawl's repair: strip injected pinyin, convert to simplified."""
    return _cc("t2s").convert(_PINYIN_A.sub("", text))


# ------------------------------------------------------------------------------------------
# source articles
# ------------------------------------------------------------------------------------------

def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n+", text) if p.strip()]


def _han(text: str) -> int:
    return sum(1 for c in text if "\u4e00" <= c <= "\u9fff")


def cwced_articles() -> list[list[str]]:
    """Non-overlapping paragraph runs (400–2,500 chars) cut from the CWCED gold bodies."""
    out: list[list[str]] = []
    for path in sorted(CWCED.glob("*.txt")):
        paras = _paragraphs(path.read_text(encoding="utf-8"))
        chunk: list[str] = []
        size = 0
        for p in paras:
            chunk.append(p)
            size += len(p)
            if size >= 400 and (size >= 2500 or len(chunk) >= 12):
                if _han("".join(chunk)) > 250:
                    out.append(chunk)
                chunk, size = [], 0
            if len(out) > 400:
                return out
        if size >= 400 and _han("".join(chunk)) > 250:
            out.append(chunk)
    return out


SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国晓东文斌婷宇浩然"
ORGS = [
    "市中级人民法院", "区人民检察院", "县公安局", "市司法局", "市委政法委", "省高级人民法院",
    "市人民检察院", "区司法局", "县人民法院", "市公安局",
]
PLACES = ["南昌", "赣州", "九江", "上饶", "宜春", "吉安", "抚州", "萍乡", "新余", "鹰潭",
          "邵阳", "常德", "岳阳", "衡阳", "株洲", "湘潭", "益阳", "郴州", "永州", "怀化"]
TOPICS = ["扫黑除恶常态化", "平安建设", "执法司法规范化", "矛盾纠纷多元化解", "法治宣传教育",
          "政法队伍教育整顿", "防范化解重大风险", "知识产权司法保护", "未成年人检察", "营商环境"]
BOILER = [
    "会议传达学习了中央政法工作会议精神和上级有关文件要求，研究部署下一阶段重点工作。",
    "会议指出，要坚持以习近平新时代中国特色社会主义思想为指导，深入学习贯彻党的二十大精神，"
    "坚持党对政法工作的绝对领导，切实增强做好新时代政法工作的责任感和使命感。",
    "会议强调，要坚持以人民为中心的发展思想，统筹发展和安全，更加注重系统治理、依法治理、"
    "综合治理、源头治理，不断提升政法工作现代化水平。",
    "会议要求，各部门要压紧压实工作责任，细化工作措施，加强协作配合，形成工作合力，"
    "确保各项任务落地见效。",
    "会议还就全面从严管党治警、意识形态工作、安全生产等工作进行了安排部署。",
    "与会人员一致表示，将认真抓好会议精神的贯彻落实，以实际行动推动各项工作再上新台阶。",
]
SPECIFIC = [
    "今年以来，全市共受理各类案件{n1}件，审结{n2}件，结案率达{p}%，同比上升{q}个百分点。",
    "全年共排查化解矛盾纠纷{n1}起，化解率{p}%，成功调处重大疑难纠纷{n3}起。",
    "截至{m}月底，共打掉涉黑涉恶犯罪团伙{n3}个，抓获犯罪嫌疑人{n1}名，查封扣押冻结涉案资产{n2}万元。",
    "{place}市组织开展“{topic}”专项行动，出动警力{n1}人次，检查重点场所{n2}处，整改隐患{n3}处。",
    "在{topic}方面，{org}创新推出“{place}模式”，建立联席会议制度{n3}项，覆盖乡镇街道{n2}个。",
    "{name}同志通报了{year}年度{topic}工作考核结果，{n3}个单位被评为先进集体。",
    "会上，{place}、{place2}等{n3}个单位作了交流发言，分享了推进{topic}的经验做法。",
    "下一步，{org}将重点围绕{topic}开展督导检查，对工作滞后的单位进行约谈，限期{n3}日内整改到位。",
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _slots(rng: random.Random) -> dict[str, object]:
    return {
        "n1": rng.randint(100, 9999), "n2": rng.randint(50, 5000), "n3": rng.randint(3, 99),
        "p": rng.randint(60, 99), "q": rng.randint(1, 20), "m": rng.randint(1, 12),
        "year": rng.randint(2015, 2024), "place": rng.choice(PLACES),
        "place2": rng.choice(PLACES), "topic": rng.choice(TOPICS), "org": rng.choice(ORGS),
        "name": _name(rng),
    }


def meeting_report(rng: random.Random, boiler: list[str], specific: list[str]) -> list[str]:
    """One meeting report: template lead, shared boilerplate, and specific paragraphs."""
    s = _slots(rng)
    lead = (
        f"{s['year']}年{s['m']}月{rng.randint(1, 28)}日，{s['place']}{s['org']}召开{s['topic']}"
        f"工作推进会，{s['org']}党组书记{_name(rng)}主持会议并讲话。"
    )
    body = [lead, *boiler]
    for tpl in specific:
        body.insert(rng.randint(1, len(body)), tpl.format(**_slots(rng)))
    body.append(f"{s['org']}领导班子成员{_name(rng)}、{_name(rng)}、{_name(rng)}出席会议。")
    return body


def short_notice(rng: random.Random, tpl: int, shared: dict[str, object]) -> list[str]:
    """A short personnel or closure notice; two drawn with one `tpl` differ in names and dates."""
    name, name2 = _name(rng), _name(rng)
    y, m, d = rng.randint(2018, 2024), rng.randint(1, 12), rng.randint(1, 20)
    org = shared["org"]
    if tpl == 0:
        return [
            f"关于{name}等同志任职前公示的通告",
            f"根据干部选拔任用有关规定，经{org}党组研究，拟任命{name}同志为{shared['post']}，"
            f"{name2}同志为办公室主任，现予以公示。",
            f"公示时间：{y}年{m}月{d}日至{y}年{m}月{d + 5}日。",
            f"联系电话：0791-{rng.randint(1000000, 9999999)}。",
        ]
    if tpl == 1:
        return [
            f"{org}关于{y}年{m}月{d}日暂停对外办公的公告",
            f"因{shared['reason']}，我院定于{y}年{m}月{d}日暂停诉讼服务大厅对外办公，"
            f"{m}月{d + 1}日恢复正常。给您带来的不便，敬请谅解。",
            f"联系人：{name}，电话：0791-{rng.randint(1000000, 9999999)}。",
        ]
    return [
        f"{org}开庭公告",
        f"本院定于{y}年{m}月{d}日上午9时在第{rng.randint(1, 20)}审判庭公开开庭审理原告{name}诉被告"
        f"{name2}{shared['cause']}一案。",
        f"审判长：{_name(rng)}，书记员：{_name(rng)}。",
    ]


# ------------------------------------------------------------------------------------------
# variants of one article
# ------------------------------------------------------------------------------------------

CHROME = [
    ["首页 > 新闻中心 > 政法要闻", "【字体：大 中 小】 【打印本页】 【关闭窗口】"],
    ["扫一扫在手机打开当前页", "版权所有：湖南长安网 湘ICP备05006138号 技术支持：湖南省委政法委"],
    ["当前位置：首页 > 工作动态", "分享到：微信 微博 QQ空间", "主办单位：江西省委政法委员会"],
    ["今天是 2024年12月29日 星期日", "欢迎访问甘肃政法网", "字号:A A A 颜色:"],
    ["【我要纠错】", "上一篇：全省政法工作会议召开", "下一篇：我市开展法治宣传进社区活动"],
]
EDITOR = ["责任编辑：{n}", "（责任编辑：{n}）", "编辑：{n} 审核：{m}", "来源：法治日报 作者：{n}"]
LEADS = [
    "本网讯（通讯员 {n}）", "据法治日报报道，", "{p}讯 ", "原标题：{t}", "（记者 {n} 通讯员 {m}）",
]


def _pinyin_mirror(text: str, rng: random.Random) -> str:
    trad = _cc("s2t").convert(text)
    out = []
    toneless = rng.random() < 0.3
    rate = rng.uniform(0.1, 0.4)
    for ch in trad:
        out.append(ch)
        if "\u4e00" <= ch <= "\u9fff" and rng.random() < rate:
            if toneless:
                out.append(f"({pinyin(ch, style=Style.NORMAL)[0][0]}) ")
            else:
                out.append(f"({pinyin(ch, style=Style.TONE)[0][0]})")
    return "".join(out)


def _gb2312_roundtrip(text: str) -> str:
    return text.replace("\u00a0", "\u00a0").encode("gb2312", errors="replace").decode("gb2312")


def _ascii_punct(text: str) -> str:
    table = str.maketrans("，：；！？（）０１２３４５６７８９", ",:;!?()0123456789")
    return text.translate(table).replace("，", ",")


def vary(paras: list[str], title: str, rng: random.Random, kind: str) -> list[str]:
    """Apply one named variation to an article (a list of paragraphs)."""
    p = list(paras)
    if kind == "chrome":
        c = rng.choice(CHROME)
        k = rng.randint(1, len(c))
        return c[:k] + p + c[k:]
    if kind == "mirror":
        return [repair(_pinyin_mirror(x, rng)) for x in p]
    if kind == "editor_add":
        return [*p, rng.choice(EDITOR).format(n=_name(rng), m=_name(rng))]
    if kind == "editor_remove" and len(p) > 2:
        return p[:-1]
    if kind == "lead_trim" and len(p) > 3:
        first = p[0]
        cut = first.find("。")
        return ([first[cut + 1 :]] if 0 < cut < len(first) - 1 else []) + p[1:]
    if kind == "lead_extend":
        lead = rng.choice(LEADS).format(n=_name(rng), m=_name(rng), p=rng.choice(PLACES), t=title)
        return [lead + p[0], *p[1:]]
    if kind == "title_suffix":
        suffix = rng.choice(["--湖南长安网", "_最高人民检察院", " - 中国长安网", "_法治网"])
        return [title + suffix, *p]
    if kind == "encoding":
        return [_gb2312_roundtrip(x) for x in p]
    if kind == "punct":
        return [_ascii_punct(x) for x in p]
    return p


VARIANTS = ("chrome", "mirror", "editor_add", "editor_remove", "lead_trim", "lead_extend",
            "title_suffix", "encoding", "punct")


def _join(paras: list[str]) -> str:
    return "\n".join(paras)


def generate(seed: int = SEED, same_per_source: int = 2) -> list[Pair]:
    """All pairs, deterministic for a seed."""
    rng = random.Random(seed)
    pairs: list[Pair] = []
    sources = [(f"cwced{i}", a) for i, a in enumerate(cwced_articles())]
    for i in range(90):  # synthetic 政法 reports, each its own story
        sources.append((f"report{i}", meeting_report(
            rng, rng.sample(BOILER, 3), rng.sample(SPECIFIC, rng.randint(2, 4)))))
    half_of = {}
    for sid, _ in sources:
        half_of[sid] = "A" if rng.random() < 0.5 else "B"

    # same-article pairs
    for sid, paras in sources:
        title = paras[0][:20]
        for _ in range(same_per_source):
            kinds = rng.sample(VARIANTS, rng.choice((1, 2)))
            a = list(paras)
            b = list(paras)
            for k in kinds:
                if rng.random() < 0.25:
                    a = vary(a, title, rng, k)
                else:
                    b = vary(b, title, rng, k)
            pairs.append(Pair(_join(a), _join(b), True, "+".join(kinds), half_of[sid]))

    # hard different pairs
    cw = [s for s in sources if s[0].startswith("cwced")]
    for i in range(0, len(cw) - 1):  # adjacent sections of one source, or neighbouring sources
        (sa, pa), (_, pb) = cw[i], cw[i + 1]
        pairs.append(Pair(_join(pa), _join(pb), False, "adjacent", half_of[sa]))
    for i in range(160):  # one template, other names, dates, figures and specifics
        boiler = rng.sample(BOILER, rng.randint(3, 6))
        spec = rng.sample(SPECIFIC, rng.randint(1, 3))
        a = meeting_report(rng, boiler, spec)
        b = meeting_report(rng, boiler, spec if rng.random() < 0.6 else rng.sample(SPECIFIC, 2))
        if rng.random() < 0.3:
            b = vary(b, b[0][:20], rng, "chrome")
        pairs.append(Pair(_join(a), _join(b), False, "template", "A" if i % 2 else "B"))
    for i in range(120):  # twin reports: one story template, only places, people, dates swapped
        boiler = rng.sample(BOILER, rng.randint(4, 6))
        spec = rng.sample(SPECIFIC, rng.randint(1, 2))
        base = _join(meeting_report(rng, boiler, spec))
        place, other = rng.sample(PLACES, 2)
        twin = base
        for src in set(re.findall("|".join(PLACES), base)):
            twin = twin.replace(src, other if src != other else place)
        names = re.findall(r"(?:书记|成员|、)([\u4e00-\u9fff]{2,3}?)(?:主持|、|出席)", base)
        for nm in set(names):
            twin = twin.replace(nm, _name(rng))
        if rng.random() < 0.5:
            twin = re.sub(r"(\d+)月(\d+)日", lambda m: f"{m.group(1)}月{int(m.group(2)) % 28 + 1}日",
                          twin, count=1)
        pairs.append(Pair(base, twin, False, "twin", "A" if i % 2 else "B"))
    for i in range(120):  # short notices, names and dates differ
        shared = {"org": rng.choice(PLACES) + rng.choice(ORGS), "post": "副院长",
                  "reason": rng.choice(["系统升级维护", "办公场所装修", "疫情防控需要"]),
                  "cause": rng.choice(["民间借贷纠纷", "买卖合同纠纷", "离婚纠纷"])}
        tpl = i % 3
        a, b = short_notice(rng, tpl, shared), short_notice(rng, tpl, shared)
        pairs.append(Pair(_join(a), _join(b), False, "notice", "A" if i % 2 else "B"))
    for _ in range(60):  # same headline over different text, same chrome
        (sa, pa), (_, pb) = rng.sample(sources, 2)
        title = pa[0][:20]
        chrome = rng.choice(CHROME)
        a = [title, *chrome, *pa[:2]]
        b = [title, *chrome, *pb[:2]]
        pairs.append(Pair(_join(a), _join(b), False, "headline+chrome", half_of[sa]))
    return pairs
