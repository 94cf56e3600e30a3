"""How Chinese a string reads: the share of its Han characters that are common ones.

Right decodings and right repairs give text made of common characters; wrong ones give rare
characters, kana or symbols. Both decode.py and repair.py use this as their prior.

Counting goes by runs (``[…]+``) rather than one match per character: the regex engine then
does the per-character work and no one-character string is made.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

HAN_CLASS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN_CLASS}]")
HAN_RUN_RE = re.compile(f"[{HAN_CLASS}]+")


@lru_cache(maxsize=1)
def common_hanzi() -> frozenset[str]:
    """About 2,600 frequent simplified characters plus their traditional forms."""
    import opencc

    data = resources.files("govcrawl.text").joinpath("common_hanzi.txt").read_text("utf-8")
    simplified = "".join(line for line in data.splitlines() if not line.startswith("#"))
    traditional = opencc.OpenCC("s2t").convert(simplified)
    return frozenset(simplified) | frozenset(traditional)


@lru_cache(maxsize=1)
def _common_run_re() -> re.Pattern[str]:
    return re.compile("[" + "".join(sorted(c for c in common_hanzi() if HAN_RE.match(c))) + "]+")


def run_chars(pattern: re.Pattern[str], text: str) -> int:
    """How many characters of ``text`` a run pattern (``[…]+``) covers."""
    return sum(map(len, pattern.findall(text)))


def han_count(text: str) -> int:
    return run_chars(HAN_RUN_RE, text)


def common_share(text: str) -> float:
    """Share of Han characters in `text` that are common; 0.0 when there are none."""
    han = han_count(text)
    if not han:
        return 0.0
    return run_chars(_common_run_re(), text) / han
