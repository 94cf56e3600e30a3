"""Distinct articles built from a small stock of shared sentences (deterministic).

Real 政法 news shares boilerplate paragraphs (会议强调…, standard closing lines); a portal whose
bodies are mostly such sentences produced false copies (issue 18). Two uses:

* `negative_pairs()`: 300 pairs of *different* articles that share stock sentences, beside the
  300+ same-article pairs of `pairgen`, halves A/B as there. Families: "subset" (a short article
  whose sentences all appear, spread out, in a longer one), "overlap" (most sentences shared,
  each with its own lead and one sentence of its own), "excerpt" (the short one's stock
  sentences are a run of the longer one's, with a lead of its own).
* `corpus()`: a portal's worth of such articles, for the grouping property test.
"""

from __future__ import annotations

import random

from pairgen import BOILER, ORGS, PLACES, SPECIFIC, TOPICS, Pair, _name, _slots

SEED = 20241205

STOCK = [
    *BOILER,
    "会议强调，要坚决扛起维护国家政治安全、确保社会大局稳定、促进社会公平正义、保障人民安居乐业的职责使命。",
    "会议要求，要深化政法领域改革，健全完善执法司法制约监督体系，加快推进执法司法责任体系改革和建设。",
    "会议指出，要坚持和发展新时代“枫桥经验”，把矛盾纠纷化解在基层、化解在萌芽状态。",
    "会议强调，要锻造忠诚干净担当的政法铁军，持续巩固深化政法队伍教育整顿成果。",
    "会议要求，要加强政法宣传舆论工作，讲好政法故事，传播政法好声音。",
    "会议指出，要统筹推进扫黑除恶常态化，依法严厉打击各类违法犯罪活动。",
    "下一步，我们将继续深入贯彻落实上级决策部署，奋力开创政法工作新局面。",
    "大家纷纷表示，此次活动形式新颖、内容丰富，进一步增强了法治意识。",
    "活动现场，工作人员通过发放宣传资料、解答法律咨询等方式，向群众普及法律知识。",
    "此次活动的开展，有效提升了群众的法治意识和安全防范意识，营造了良好的法治氛围。",
    "本次培训内容丰富、针对性强，为进一步提升队伍履职能力打下了坚实基础。",
    "参训人员纷纷表示，将把所学知识运用到实际工作中，切实提高工作质效。",
]


def _lead(rng: random.Random, dated: bool) -> str:
    s = _slots(rng)
    when = f"{s['year']}年{s['m']}月{rng.randint(1, 28)}日，" if dated else "近日，"
    return (f"{when}{rng.choice(PLACES)}{rng.choice(ORGS)}召开{rng.choice(TOPICS)}工作会议，"
            f"{_name(rng)}出席会议并讲话。")


def _own(rng: random.Random) -> str:
    return rng.choice(SPECIFIC).format(**_slots(rng))


def _pair(rng: random.Random, kind: str) -> tuple[list[str], list[str]]:
    if kind == "subset":  # the short one's sentences are spread through the long one
        long = rng.sample(STOCK, rng.randint(7, 10))
        picks = sorted(rng.sample(range(0, len(long), 2), 3))
        return [long[i] for i in picks], [_lead(rng, False), *long]
    if kind == "overlap":  # most sentences shared; a lead and one sentence of its own each
        shared = rng.sample(STOCK, rng.randint(5, 8))
        a, b = list(shared), rng.sample(shared, len(shared))
        for text in (a, b):
            text.insert(rng.randint(1, len(text)), _own(rng))
        return [_lead(rng, False), *a], [_lead(rng, False), *b]
    long = rng.sample(STOCK, rng.randint(8, 10))  # excerpt: a run of stock, a lead of its own
    start = rng.randint(0, len(long) - 4)
    return [_lead(rng, False), *long[start : start + 4]], [_lead(rng, False), *long]


KINDS = ("subset", "overlap", "excerpt")


def negative_pairs(seed: int = SEED, n: int = 300) -> list[Pair]:
    """n pairs of different articles sharing stock sentences, alternating halves A and B."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        a, b = _pair(rng, kind)
        out.append(Pair("\n".join(a), "\n".join(b), False, f"stock-{kind}",
                        "A" if (i // len(KINDS)) % 2 else "B"))
    return out


def corpus(seed: int = SEED, n: int = 36) -> list[str]:
    """n distinct article bodies from one small stock, as on the portal of issue 18: a dated
    lead of its own, three to ten stock sentences, sometimes one sentence of its own."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        body = [_lead(rng, rng.random() < 0.5), *rng.sample(STOCK, rng.randint(3, 10))]
        if rng.random() < 0.5:
            body.insert(rng.randint(1, len(body)), _own(rng))
        out.append("\n".join(body))
    return out
