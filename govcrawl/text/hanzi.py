"""How Chinese a string reads: the share of its Han characters that are common ones.

Right decodings and right repairs give text made of common characters; wrong ones give rare
characters, kana or symbols. Both decode.py and repair.py use this as their prior.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def common_hanzi() -> frozenset[str]:
    """About 2,600 frequent simplified characters plus their traditional forms."""
    import opencc

    data = resources.files("govcrawl.text").joinpath("common_hanzi.txt").read_text("utf-8")
    simplified = "".join(line for line in data.splitlines() if not line.startswith("#"))
    traditional = opencc.OpenCC("s2t").convert(simplified)
    return frozenset(simplified) | frozenset(traditional)


def han_count(text: str) -> int:
    return len(HAN_RE.findall(text))


def common_share(text: str) -> float:
    """Share of Han characters in `text` that are common; 0.0 when there are none."""
    han = HAN_RE.findall(text)
    if not han:
        return 0.0
    return sum(map(common_hanzi().__contains__, han)) / len(han)
