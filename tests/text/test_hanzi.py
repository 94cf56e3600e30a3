"""Counting Han and common characters by runs gives the per-character counts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from govcrawl.text.hanzi import HAN_RE, common_hanzi, common_share, han_count

# common, rare (爨 鱻), compatibility (豈) and Yijing (䷀, outside the Han class) characters
ALPHABET = "的一是國人爨鱻豈䷀a 。，〇々"


@given(st.text(alphabet=st.sampled_from(ALPHABET), max_size=40))
def test_counts_are_per_character_counts(text: str) -> None:
    han = HAN_RE.findall(text)
    assert han_count(text) == len(han)
    expected = sum(c in common_hanzi() for c in han) / len(han) if han else 0.0
    assert common_share(text) == expected
