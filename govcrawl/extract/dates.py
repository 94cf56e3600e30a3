"""Publish-date parsing: Chinese portal date strings → ISO 8601 plus the precision the page shows.

Portals write dates as ``2022-05-10``, ``2022/5/10``, ``2022.05.10``, ``2022年05月10日``, with or
without a time, sometimes in full-width digits. The page's precision is kept: a bare date never
becomes midnight, because a fabricated ``00:00`` would be indistinguishable from a real one.
Times are Beijing time (+08:00).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

TZ = "+08:00"

_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９：－／．　", "0123456789:-/. "
)
# str.translate costs a dict miss per character; translating only the runs that need it is
# several times cheaper on Chinese text, where such runs are rare and short.
_FULLWIDTH_RUN_RE = re.compile("[０-９：－／．　]+")

# A date: 2022-05-10, 2022/5/10, 2022.05.10, 2022年5月10日; then an optional time.
DATE_RE = re.compile(
    r"(?<![\d.])(?P<y>(?:19|20)\d{2})\s*(?P<s>[-/.年])\s*(?P<m>\d{1,2})\s*[-/.月]\s*"
    r"(?P<d>\d{1,2})(?!\d)\s*日?"
    r"(?:[\sT,，]*(?P<H>\d{1,2})\s*[:：时時]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?(?!\d))?"
)

# Header widgets and banners: "今天是 2024年12月29日 星期日", "2021-09-20 星期一".
_BANNER_BEFORE = re.compile(r"(今天是|今日|当前日期|当前时间|今天|现在是)\s*[:：]?\s*$")
_WEEKDAY_AFTER = re.compile(r"^\s*(星期|礼拜|周)[一二三四五六日天]")


@dataclass(frozen=True)
class ParsedDate:
    """A publish time at the precision the page gives."""

    iso: str  # "2022-05-10" or "2022-05-10T10:23:00+08:00"
    precision: str  # "day", "minute" or "second"
    raw: str  # the matched text
    start: int = 0
    end: int = 0

    @property
    def day(self) -> str:
        return self.iso[:10]


def fold_digits(text: str) -> str:
    """Full-width digits/colons/dashes to ASCII, same length (offsets stay valid)."""
    return _FULLWIDTH_RUN_RE.sub(_fold_run, text)


def _fold_run(match: re.Match[str]) -> str:
    return match[0].translate(_FULLWIDTH)


def _build(m: re.Match[str]) -> ParsedDate | None:
    y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    if m["s"] == "年" and "月" not in m.group(0):
        return None
    try:
        date(y, mo, d)
    except ValueError:
        return None
    day = f"{y:04d}-{mo:02d}-{d:02d}"
    if m["H"] is None:
        return ParsedDate(day, "day", m.group(0).strip(), m.start(), m.end())
    hh, mm = int(m["H"]), int(m["M"])
    if hh > 23 or mm > 59:
        return ParsedDate(day, "day", m.group(0).strip(), m.start(), m.end())
    if m["S"] is not None and int(m["S"]) <= 59:
        iso = f"{day}T{hh:02d}:{mm:02d}:{int(m['S']):02d}{TZ}"
        return ParsedDate(iso, "second", m.group(0).strip(), m.start(), m.end())
    return ParsedDate(f"{day}T{hh:02d}:{mm:02d}:00{TZ}", "minute", m.group(0).strip(),
                      m.start(), m.end())


def find_dates(text: str, *, skip_banners: bool = True) -> list[ParsedDate]:
    """Every plausible date in ``text`` in order; banner and weekday-widget dates are skipped."""
    folded = fold_digits(text)
    out: list[ParsedDate] = []
    for m in DATE_RE.finditer(folded):
        if skip_banners and (
            _BANNER_BEFORE.search(folded[max(0, m.start() - 8):m.start()])
            or _WEEKDAY_AFTER.match(folded[m.end():m.end() + 4])
        ):
            continue
        parsed = _build(m)
        if parsed is not None:
            out.append(parsed)
    return out


# US-style M/D/YYYY h:mm[:ss] AM/PM (IIS/ASP CMSes); only with AM/PM, where the order is certain.
US_DATE_RE = re.compile(
    r"(?<!\d)(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>(?:19|20)\d{2})\s+(?P<H>\d{1,2}):(?P<M>\d{2})"
    r"(?::(?P<S>\d{2}))?\s*(?P<ap>[AP]M)\b",
    re.I,
)


def _us_date(text: str) -> ParsedDate | None:
    m = US_DATE_RE.search(text)
    if not m:
        return None
    hh = int(m["H"]) % 12 + (12 if m["ap"].upper() == "PM" else 0)
    y, mo, d, mm = int(m["y"]), int(m["m"]), int(m["d"]), int(m["M"])
    try:
        date(y, mo, d)
    except ValueError:
        return None
    if hh > 23 or mm > 59:
        return None
    day = f"{y:04d}-{mo:02d}-{d:02d}"
    if m["S"] is not None:
        return ParsedDate(f"{day}T{hh:02d}:{mm:02d}:{int(m['S']):02d}{TZ}", "second",
                          m.group(0), m.start(), m.end())
    return ParsedDate(f"{day}T{hh:02d}:{mm:02d}:00{TZ}", "minute", m.group(0), m.start(), m.end())


def parse_date(text: str | None) -> ParsedDate | None:
    """The first date in a labelled value (e.g. the text after ``发布时间:``), or None."""
    if not text:
        return None
    found = find_dates(text, skip_banners=False)
    if found:
        return found[0]
    return _us_date(fold_digits(text))


_URL_DATE_PATTERNS = (
    re.compile(r"/t(?P<y>20\d{2})(?P<m>\d{2})(?P<d>\d{2})_"),  # TRS t-date
    re.compile(r"/(?P<y>20\d{2})-(?P<m>\d{2})/(?P<d>\d{2})/"),  # Founder / chinapeace
    re.compile(r"/art/(?P<y>20\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/"),  # Hanweb
    re.compile(r"/(?P<y>20\d{2})/(?P<m>\d{2})/(?P<d>\d{2})/"),
    re.compile(r"/(?P<y>20\d{2})(?P<m>\d{2})(?P<d>\d{2})/"),
    re.compile(r"/(?P<y>20\d{2})/(?P<m>\d{2})(?P<d>\d{2})/"),
)


def url_date(url: str) -> ParsedDate | None:
    """A day-precision date from a URL path; a last resort (TRS URL dates are often not the
    publish date), so callers must record provenance "url" and a warning."""
    for pattern in _URL_DATE_PATTERNS:
        m = pattern.search(url)
        if not m:
            continue
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
        try:
            date(y, mo, d)
        except ValueError:
            continue
        return ParsedDate(f"{y:04d}-{mo:02d}-{d:02d}", "day", m.group(0))
    return None
