"""Bytes + HTTP headers → text, with the encoding decision, its reason and a confidence.

Portals lie about their charset: GB2312 labels over GBK bytes, UTF-8 bytes under a gb2312 meta
tag, ISO-8859-1 headers over GBK bodies, header and meta that disagree. Browsers (and Scrapy)
trust the header; we decide from the bytes instead: a BOM wins, strictly valid UTF-8 with
non-ASCII content is UTF-8 whatever the label says, and otherwise the GB and Big5 candidates
(declared ones first) are trial-decoded and scored on how Chinese the result reads.

Damaged UTF-8 (a stray byte, a response cut mid-character) is still UTF-8: GB18030 decodes
almost any byte string without error, so falling through to the trial would store the whole
page as mojibake. The rule: at most one invalid sequence per KB of body (at least one allowed),
and at least `UTF8_GOOD_PER_BAD` well-formed non-ASCII characters per invalid sequence. Real GB
and Big5 pages read as UTF-8 give ≥ 94 invalid sequences per KB and at most 0.28 well-formed
non-ASCII characters per invalid one (every GBK/Big5 page of the dev set, CWCED and the test
fixtures), so neither bound comes near them. The invalid sequences are replaced by U+FFFD,
counted in `replaced` and reported in a warning.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from w3lib.encoding import html_body_declared_encoding, read_bom, resolve_encoding

from govcrawl.text.hanzi import common_share

# Labels that say nothing about Chinese text: servers send them by default, never on purpose.
WEAK_LABELS = frozenset({"cp1252", "latin_1", "iso8859_1", "ascii", "us_ascii", "windows_1252"})
GB = "gb18030"
BIG5 = "big5hkscs"
# How much better (in common-character share) an undeclared candidate must score to beat a
# declaration that decodes cleanly.
DECLARED_MARGIN = 0.25
# Damaged UTF-8 stays UTF-8 within these bounds (see the module docstring).
UTF8_BAD_PER_KB = 1
UTF8_GOOD_PER_BAD = 8

# WHATWG labels Python's codec registry does not know.
LABEL_ALIASES = {
    "x-gbk": "gbk", "gb_2312-80": "gbk", "chinese": "gbk", "csgb2312": "gbk", "iso-ir-58": "gbk",
    "csiso58gb231280": "gbk", "x-x-big5": "big5", "cn-big5": "big5", "csbig5": "big5",
    "x-euc-cn": "gbk", "euc-cn": "gbk",
}
_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)


@dataclass
class Decoded:
    """A decoding decision: what was chosen, why, and how sure we are."""

    text: str
    encoding: str  # Python codec name: "gb18030", "utf-8", "big5hkscs", …
    # "bom", "header", "meta", "utf8-valid", "utf8-damaged", "ascii", "detected", "fallback"
    reason: str
    confidence: float
    declared_header: str | None = None
    declared_meta: str | None = None
    replaced: int = 0  # undecodable byte sequences replaced by U+FFFD
    warnings: list[str] = field(default_factory=list)


def normalise_label(label: str | None) -> str | None:
    """A declared charset label as the Python codec we decode it with (gb2312/gbk → gb18030)."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    resolved = resolve_encoding(LABEL_ALIASES.get(label, label))
    if resolved is None:
        return None
    name = codecs.lookup(resolved).name
    if name in ("gb2312", "gbk", "hz"):
        return GB
    if name in ("big5", "cp950"):
        return BIG5
    return name


def header_charset(headers: Mapping[str, str] | None) -> str | None:
    """The raw charset label of the Content-Type header, case-insensitive on the header name."""
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() == "content-type" and value:
            match = _CHARSET_RE.search(value)
            return match.group(1) if match else None
    return None


def meta_charset(body: bytes) -> str | None:
    """The raw charset label of a `<meta>` tag or XML declaration in the first 4 KB."""
    head = body[:4096]
    try:
        label = html_body_declared_encoding(head)
    except (ValueError, LookupError):  # pragma: no cover - w3lib is defensive already
        label = None
    if label:
        match = re.search(
            rb"charset\s*=\s*[\"']?\s*([\w.:-]+)|encoding\s*=\s*[\"']([\w.:-]+)", head, re.I
        )
        if match:
            return (match.group(1) or match.group(2)).decode("ascii", "replace")
    return label


def _trial(body: bytes, encoding: str) -> tuple[str, int]:
    text = body.decode(encoding, errors="replace")
    return text, text.count("\ufffd") - _count_literal_replacements(body, encoding)


def _count_literal_replacements(body: bytes, encoding: str) -> int:
    """U+FFFD characters genuinely present in the input, so they are not counted as errors."""
    if encoding.startswith("utf") and b"\xef\xbf\xbd" in body:
        return body.count(b"\xef\xbf\xbd")
    return 0


def _strict_utf8(body: bytes) -> tuple[str | None, int]:
    """The UTF-8 text, or None and the offset of the first invalid byte."""
    try:
        return body.decode("utf-8"), -1
    except UnicodeDecodeError as exc:
        return None, exc.start


def _damaged_utf8(body: bytes, first_error: int) -> tuple[str, int] | None:
    """UTF-8 text and its count of invalid sequences when only a few bytes are bad, else None."""
    budget = max(1, len(body) * UTF8_BAD_PER_KB // 1024)
    # GB and Big5 bytes fail again right after the first error: refuse them without decoding
    # the whole body (a non-final incremental decode does not count a sequence cut by the window).
    window = body[first_error:first_error + 4096]
    head = codecs.getincrementaldecoder("utf-8")("replace").decode(window)
    if head.count("\ufffd") - window.count(b"\xef\xbf\xbd") > budget:
        return None
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - _count_literal_replacements(body, "utf-8")
    if bad > budget:
        return None
    good = len(text) - len(text.encode("ascii", "ignore")) - bad
    return (text, bad) if good >= UTF8_GOOD_PER_BAD * bad else None


def decode_body(body: bytes, headers: Mapping[str, str] | None = None) -> Decoded:
    """Decode a response body; never raises, whatever the bytes and headers."""
    raw_header = header_charset(headers)
    raw_meta = meta_charset(body)
    declared_header = normalise_label(raw_header)
    declared_meta = normalise_label(raw_meta)
    warnings: list[str] = []

    def result(text: str, encoding: str, reason: str, confidence: float, replaced: int = 0):
        for source, raw, label in (("header", raw_header, declared_header),
                                   ("meta", raw_meta, declared_meta)):
            if raw and label != encoding and not (encoding == "utf-8" and label == "ascii"):
                warnings.append(f"{source} declares {raw}, decoded as {encoding}")
        if replaced:
            warnings.append(f"{replaced} undecodable byte sequence(s) replaced")
        return Decoded(text, encoding, reason, round(confidence, 3), raw_header, raw_meta,
                       replaced, warnings)

    text: str | None  # a decoding of the body (None from _strict_utf8: not valid UTF-8)
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        name = codecs.lookup(bom_encoding).name
        text, replaced = _trial(body[len(bom or b''):], name)
        return result(text, name if name != "utf-8" else "utf-8-sig", "bom", 1.0, replaced)

    if body.isascii():
        return result(body.decode("ascii"), "utf-8" if declared_header in (None, "utf-8")
                      else declared_header, "ascii", 1.0)

    text, first_error = _strict_utf8(body)
    utf8_declared = "utf-8" in (declared_header, declared_meta)
    utf8_source = "header" if declared_header == "utf-8" else "meta"
    if text is not None:
        return result(text, "utf-8", utf8_source if utf8_declared else "utf8-valid",
                      1.0 if utf8_declared else 0.98)
    damaged = _damaged_utf8(body, first_error)
    if damaged is not None:
        text, replaced = damaged
        warnings.append(f"damaged utf-8: {replaced} invalid byte sequence(s), the first at "
                        f"byte {first_error}")
        return result(text, "utf-8", utf8_source if utf8_declared else "utf8-damaged", 0.9,
                      replaced)

    # Not UTF-8: trial-decode the declared labels and the Chinese candidates.
    declared: list[tuple[str, str]] = []
    for source, label in (("meta", declared_meta), ("header", declared_header)):
        if label and label not in WEAK_LABELS and label != "utf-8" and _codec_exists(label):
            declared.append((source, label))
    candidates = {GB, BIG5} | {label for _, label in declared}
    trials: dict[str, tuple[str, int, float]] = {}
    for encoding in candidates:
        text, replaced = _trial(body, encoding)
        non_ascii = max(1, len(text) - len(text.encode("ascii", "ignore")))
        error_rate = replaced / non_ascii
        # The first 20,000 characters are plenty to tell GB from Big5.
        trials[encoding] = (text, replaced, common_share(text[:20000]) - 2 * error_rate)

    best = max(trials, key=lambda enc: (trials[enc][2], enc == GB))
    for source, label in declared:  # a declaration stands unless the bytes clearly disagree
        text, replaced, score = trials[label]
        if score >= trials[best][2] - DECLARED_MARGIN and replaced <= max(2, len(body) // 2000):
            confidence = 0.99 if score > 0.6 else 0.7
            return result(text, label, source, confidence, replaced)
    text, replaced, score = trials[best]
    runner_up = max((s for enc, (_, _, s) in trials.items() if enc != best), default=0.0)
    if score <= 0:
        return result(text, best, "fallback", 0.2, replaced)
    confidence = min(0.99, 0.5 + (score - runner_up))
    return result(text, best, "detected", max(confidence, 0.3), replaced)


def _codec_exists(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True
