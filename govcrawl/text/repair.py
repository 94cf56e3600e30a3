"""Text repair: undo what content farms and mis-decoding did to a page, one small step at a time.

Order matters (portals.md §4c): the GBK byte-shift garble is repaired first, because its repair
needs the injected pinyin that sits next to it; then injected pinyin is stripped; mojibake
(UTF-8 read as GBK, GBK read as Latin-1) is repaired on its own. Traditional → simplified is a
normalisation of extracted fields (`to_simplified`), not of the stored page: the original
script is kept for audit. Every step reports what it changed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from govcrawl.text.hanzi import HAN_RE, HAN_RUN_RE, common_share, han_count, run_chars

HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
PINYIN_LETTERS = "a-zü" + TONE_VOWELS + "ɑɡ"
# A toneless group must be this dense (groups per 100 Han characters) before it is stripped,
# so a lone genuine "(a)" after a Han character survives.
TONELESS_MIN_DENSITY = 3.0

# The match starts at the "(" and the character before it is read by a look-behind: the scan
# can then jump between "(" instead of trying every Han character.
_GROUP_RE = re.compile(
    rf"\((?<=(?P<char>[{HAN}])\()(?P<py>[{PINYIN_LETTERS}]{{1,7}})\)(?P<space> ?)"
)
# `績(jī)?yōu)辄h`: a `?` (or U+FFFD, possibly with the swallowed `(`) then an unopened pinyin
# group, then the shifted run: double-byte characters up to and including the ASCII byte that
# realigned the decoder.  The character before the `?` is any double-byte one, punctuation
# included (`“雷霆行動”?yáng)探Y`): the misaligned pair is its trail byte and the next character's
# lead byte.  The run is empty when the split character's own trail byte is ASCII (`治?xī)h`).
_GARBLE_RE = re.compile(
    rf"(?P<prev>[^\x00-\x7f\ufffd])(?P<prevpy>\([{PINYIN_LETTERS}]{{1,7}}\))?"
    rf"(?:\?|\ufffd\(?)(?P<py>[{PINYIN_LETTERS}]{{1,7}})\)"
    r"(?P<run>[^\x00-\x7f\ufffd]*)(?P<tail>[\x21-\x7e]?)"
)
# What every garble contains: a cheap scan that rules most pages out before the full pattern.
_GARBLE_HINT_RE = re.compile(rf"(?:\?|\ufffd)\(?[{PINYIN_LETTERS}]{{1,7}}\)")
_UTF8_AS_GBK_RE = re.compile(r"[^\x00-\x7f\ufffd]{4,}")
_LATIN1_RUN_RE = re.compile(r"[\x80-\xff]{4,}")
_SPACE_TRANSLATION = {
    **{cp: " " for cp in (0x00A0, 0x3000, 0x202F, 0x205F, 0x1680, *range(0x2000, 0x200B))},
    **{cp: None for cp in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD)},
    **{0xFF10 + d: str(d) for d in range(10)},
}
# Translating only the runs that need it: str.translate pays a dict miss per character.
_SPACE_RUN_RE = re.compile("[" + "".join(map(chr, _SPACE_TRANSLATION)) + "]+")


@dataclass
class Repaired:
    """Repaired text plus what was done to it."""

    text: str
    repairs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pinyin_groups: int = 0


@lru_cache(maxsize=8192)
def readings(char: str, toned: bool) -> frozenset[str]:
    """Every pinyin reading pypinyin knows for a character (tone-marked or plain)."""
    from pypinyin import Style, pinyin

    style = Style.TONE if toned else Style.NORMAL
    found = pinyin(char, style=style, heteronym=True, errors="ignore")
    return frozenset(r.replace("ü", "v") if not toned else r for group in found for r in group)


def _fold_pinyin(py: str) -> str:
    return py.replace("ɑ", "a").replace("ɡ", "g")


_TONE_SET = frozenset(TONE_VOWELS)


def _is_toned(py: str) -> bool:
    return not _TONE_SET.isdisjoint(py)


def _reading_key(py: str) -> str:
    """A group's text as it appears in `readings`: tone marks kept, plain ü spelled v."""
    py = _fold_pinyin(py)
    return py if _is_toned(py) else py.replace("ü", "v")


@lru_cache(maxsize=16384)
def _reading_matches(char: str, py: str) -> bool:
    return _reading_key(py) in readings(char, _is_toned(py))


@lru_cache(maxsize=8192)
def _usual_readings(char: str) -> tuple[str, str]:
    """A character's usual reading, tone-marked (neutral tone unmarked) and plain."""
    from pypinyin import Style, pinyin

    toned = pinyin(char, style=Style.TONE, heteronym=False, errors="ignore")
    plain = pinyin(char, style=Style.NORMAL, heteronym=False, errors="ignore")
    return (toned[0][0] if toned else "", plain[0][0].replace("ü", "v") if plain else "")


@lru_cache(maxsize=256)
def _gbk_trails(lead: int) -> tuple[dict[str, tuple[int, ...]], ...]:
    """For one GBK lead byte: reading → the trail bytes whose character has that reading, by
    usual tone-marked reading (neutral tone unmarked), by usual plain reading, by any reading."""
    tables: tuple[dict[str, set[int]], ...] = ({}, {}, {})
    for trail in range(0x40, 0xFF):
        try:
            char = bytes((lead, trail)).decode("gbk")
        except UnicodeDecodeError:
            continue
        for table, found in zip(tables[:2], _usual_readings(char), strict=True):
            if found:
                table.setdefault(found, set()).add(trail)
        for toned in (True, False):
            for reading in readings(char, toned):
                tables[2].setdefault(reading, set()).add(trail)
    return tuple({reading: tuple(sorted(t)) for reading, t in table.items()} for table in tables)


def _shift_repairs(lead: int, py: str, run: bytes) -> set[str]:
    """The texts the lost byte can restore, from the strongest evidence that yields any.

    A farm annotates a character with its usual reading, and a toneless group among tone-marked
    ones is a neutral tone (`卜(bo)`): characters whose usual reading is the group are tried
    before those that merely have it among their readings.
    """
    key = _reading_key(py)
    usual_toned, usual_plain, every = _gbk_trails(lead)
    stages = (usual_toned, every) if _is_toned(py) else (usual_toned, usual_plain, every)
    for table in stages:
        results = set()
        for trail in table.get(key, ()):
            try:
                results.add((bytes((trail,)) + run).decode("gbk"))
            except UnicodeDecodeError:
                continue
        if len(results) > 1:  # two lost bytes fit the reading: keep the one that reads as text
            results = {r for r in results if common_share(r) == 1.0}
        if results:
            return results
    return set()


def repair_gbk_garble(text: str) -> tuple[str, int, int]:
    """Repair the content-farm byte shift where the lost byte is provable (portals.md §4b).

    Returns the text, the number of repairs and the number of garbles left unrepaired.
    """
    if not _GARBLE_HINT_RE.search(text):
        return text, 0, 0
    repaired = seen = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal repaired, seen
        if not (match["run"] or match["tail"]):  # nothing shifted after it: not a garble
            return match[0]
        seen += 1
        try:
            prev = match["prev"].encode("gbk")
            run = match["run"].encode("gbk") + match["tail"].encode("ascii")
        except UnicodeEncodeError:
            return match[0]
        if len(prev) != 2:
            return match[0]
        results = _shift_repairs(prev[-1], match["py"], run)
        if len(results) != 1:  # no provable repair: leave it, it is reported as unrepaired
            return match[0]
        repaired += 1
        return match["prev"] + (match["prevpy"] or "") + results.pop()

    for _ in range(8):  # a long run may hide a further shifted annotation: repeat
        before, seen = repaired, 0
        text = _GARBLE_RE.sub(fix, text)
        if repaired == before:  # an unchanged pass saw exactly the garbles that are left
            return text, repaired, seen
    return text, repaired, len(_GARBLE_RE.findall(text))


def strip_pinyin(text: str) -> tuple[str, int]:
    """Remove `字(pīnyīn)` groups whose reading belongs to the character before them."""
    groups = list(_GROUP_RE.finditer(text))
    if not groups:
        return text, 0
    han = max(1, han_count(text))
    if (len(groups) < 3 and len(groups) * 100 / han < TONELESS_MIN_DENSITY
            and not any(_is_toned(m["py"]) for m in groups)):
        return text, 0  # sparse toneless groups are kept anyway: skip the reading look-ups
    matches = [m for m in groups if _reading_matches(m["char"], m["py"])]
    toned = sum(1 for m in matches if _is_toned(m["py"]))
    toneless = len(matches) - toned
    # Toneless groups go when they are dense (format B) or sit among tone-marked ones
    # (format A writes neutral-tone syllables such as 子(zi) without a mark).
    keep_toneless = toneless * 100 / han < TONELESS_MIN_DENSITY and toneless < 3 and toned < 3
    # Rebuilt from the matches already checked, rather than a second regex pass.
    parts: list[str] = []
    end = removed = 0
    for m in matches:
        if _is_toned(m["py"]):
            kept = m["space"]
        elif keep_toneless:
            continue
        else:
            kept = ""  # format B injects "東(dong) 方": the space is part of it
        parts += (text[end:m.start()], kept)
        end = m.end()
        removed += 1
    parts.append(text[end:])
    return "".join(parts), removed


def _looks_chinese(text: str) -> bool:
    """A repair is only accepted when its result is mostly common Chinese characters."""
    return han_count(text) >= max(2, len(text) * 0.6) and common_share(text) >= 0.6


def repair_utf8_read_as_gbk(text: str) -> tuple[str, int]:
    """Undo `鐢樿們鐪侀珮`-style mojibake: UTF-8 bytes that were decoded as GBK.

    Re-encoding gives the original bytes back, except where the wrong decoder already replaced
    an invalid pair; such a run is repaired when at most its edges are lost.
    """
    count = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal count
        run = match[0]
        try:
            fixed = run.encode("gb18030").decode("utf-8", errors="replace")
        except UnicodeEncodeError:
            return run
        # Genuine GBK text re-read as UTF-8 is mostly U+FFFD: that test is cheaper than
        # counting common characters, so it goes first.
        if len(fixed) >= len(run) or fixed.count("\ufffd") > 2:
            return run
        if common_share(run) >= 0.7:  # reads as Chinese already
            return run
        if _looks_chinese(fixed.replace("\ufffd", "")):
            count += 1
            return fixed
        return run

    return _UTF8_AS_GBK_RE.sub(fix, text), count


def repair_gbk_read_as_latin1(text: str) -> tuple[str, int]:
    """Undo `¸ÊËàÊ¡`-style mojibake: GBK bytes decoded as Latin-1 or cp1252."""
    count = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal count
        run = match[0]
        try:
            fixed = run.encode("latin-1").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return run
        if _looks_chinese(fixed):
            count += 1
            return fixed
        return run

    return _LATIN1_RUN_RE.sub(fix, text), count


def normalise_spaces(text: str) -> str:
    """NBSP, U+3000 and odd spaces → ASCII space; zero-width characters removed; ０-９ → 0-9."""
    return _SPACE_RUN_RE.sub(lambda m: m[0].translate(_SPACE_TRANSLATION), text)


@lru_cache(maxsize=2)
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def detect_script(text: str) -> str:
    """"traditional" or "simplified", by which conversion would change more characters.

    Converting blindly is wrong: t2s also rewrites characters that are valid simplified text
    (the name character 昇 becomes 升), so only text that reads as traditional is converted.
    """
    # The first 5,000 Han characters tell the script as well as the whole page.
    han = "".join(HAN_RUN_RE.findall(text))[:5000]
    simplifiable, traditionalisable = _script_run_res()
    to_simplified_changes = run_chars(simplifiable, han)
    if to_simplified_changes >= 3 and to_simplified_changes > run_chars(traditionalisable, han):
        return "traditional"
    return "simplified"


@lru_cache(maxsize=1)
def _script_run_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Runs of the Han characters t2s would change, and of those s2t would change.

    Every Han character is converted once, newline-separated: no dictionary entry spans a
    newline, so each gets the verdict it gets converted alone (a test checks this).
    """
    chars = [chr(c) for c in range(0x3400, 0xFB00) if HAN_RE.match(chr(c))]
    joined = "\n".join(chars)
    patterns = []
    for config in ("t2s", "s2t"):
        converted = _converter(config).convert(joined).split("\n")
        changed = "".join(c for c, out in zip(chars, converted, strict=True) if out != c)
        patterns.append(re.compile(f"[{changed}]+"))
    return patterns[0], patterns[1]


def to_simplified(text: str) -> str:
    """OpenCC t2s; call only on text `detect_script` found traditional."""
    return _converter("t2s").convert(text)


def repair_document(text: str) -> Repaired:
    """Run every repair step on a decoded page (HTML or plain text), keeping its script."""
    result = Repaired(text=text)
    text, count = repair_utf8_read_as_gbk(text)
    if count:
        result.repairs.append(f"utf8-read-as-gbk:{count}")
    text, count = repair_gbk_read_as_latin1(text)
    if count:
        result.repairs.append(f"gbk-read-as-latin1:{count}")
    text, count, left = repair_gbk_garble(text)
    if count:
        result.repairs.append(f"gbk-byte-shift:{count}")
    if left:
        result.warnings.append(f"gbk-byte-shift-unrepaired:{left}")
    text, count = strip_pinyin(text)
    if count:
        result.repairs.append(f"pinyin-stripped:{count}")
        result.pinyin_groups = count
    lost = text.count("\ufffd")
    if lost:
        result.warnings.append(f"replacement-characters:{lost}")
    result.text = unicodedata.normalize("NFC", text)
    return result
