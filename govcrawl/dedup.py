"""Identity and duplicate detection: canonical URLs, content hashes, near-duplicate fingerprints.

Pure functions only (no database, no Scrapy): the crawl, `reprocess` and the tests share them.

* `canonical_url` / `url_key`: one article, one key, whatever tracking tail or scheme a link has.
* `content_hash`: exact duplicates (same normalised simplified body at another URL).
* `fingerprint` + `band_keys`: MinHash (one-permutation hashing over character 4-gram shingles) cut
  into LSH bands; the archive stores the band keys in an indexed table, so candidates are found
  by index lookup. `compare` then verifies a candidate on the two texts themselves.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from w3lib.url import canonicalize_url

# --------------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------------

#: Query parameters that never identify content: analytics and share-sheet tails.
TRACKING_PARAMS = frozenset({"spm", "from", "isappinstalled", "scene", "clicktime", "enterid"})
TRACKING_PREFIXES = ("utm_",)
#: Session ids that some Java CMSs (TRS, Hanweb) put in the path as `;jsessionid=…`.
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid)=[^/?#]*", re.IGNORECASE)
#: Founder-style article pages (`content_7200047.htm`): `?node=` only names the channel the link
#: came from, and one article is linked under several nodes.
_FOUNDER_ARTICLE = re.compile(r"/content_\d+\.html?$", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=65536)
def canonical_url(url: str) -> str:
    """Return the canonical form of `url`, keeping its scheme.

    w3lib's canonicalisation (sorted query, percent-encoding, no fragment) plus: lower-case host,
    no default port, no `;jsessionid=` path parameter, no tracking parameters (`utm_*`, `spm`,
    `from`, `isappinstalled`, …) and no `node=` on Founder `content_N.htm` article URLs.
    Hanweb list parameters (`uid`, `pageNum`) are kept: they select a list page.
    """
    url = url.strip()
    parts = urlsplit(url)
    scheme = (parts.scheme or "http").lower()
    path = _PATH_SESSION.sub("", parts.path)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    founder = bool(_FOUNDER_ARTICLE.search(path))
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS
        and not k.lower().startswith(TRACKING_PREFIXES)
        and not (founder and k.lower() == "node")
    ]
    rebuilt = urlunsplit((scheme, netloc, path or "/", urlencode(query), ""))
    return canonicalize_url(rebuilt, keep_fragments=False)


def url_key(url: str) -> str:
    """The identity key of an article URL: its canonical form without the scheme.

    Portals serve the same page over http and https, and links to both circulate, so the scheme
    is not part of an article's identity. The archive's unique constraint is on this key.
    """
    canon = canonical_url(url)
    return canon.split(":", 1)[1] if ":" in canon else canon


# --------------------------------------------------------------------------------------------
# Text normalisation and exact hashes
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _t2s():  # pragma: no cover - trivial
    import opencc

    return opencc.OpenCC("t2s")


_WS = re.compile(r"\s+")
# NFKC never changes a CJK ideograph, so only the runs between ideographs are normalised (2-3x
# faster on Chinese text, same result: ideographs neither decompose nor compose).
_NOT_IDEOGRAPH = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff]+")


def _nfkc_run(m: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", m.group())
_NON_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")


def normalise_text(text: str) -> str:
    """NFKC, simplified script, lower case, no whitespace: the form both hashes are taken on.

    The body handed to the archive is already simplified; converting again (t2s is idempotent on
    simplified text) keeps a copy whose repair missed a few traditional characters identical.
    """
    if not unicodedata.is_normalized("NFKC", text):
        text = _NOT_IDEOGRAPH.sub(_nfkc_run, text)
    return _WS.sub("", _t2s().convert(text)).lower()


def _hash_norm(norm: str) -> str | None:
    return hashlib.sha256(norm.encode("utf-8")).hexdigest() if norm else None


def content_hash(text: str | None) -> str | None:
    """sha256 (hex) of the normalised body, or None for an empty body (never a duplicate key)."""
    if not text:
        return None
    return _hash_norm(normalise_text(text))


# --------------------------------------------------------------------------------------------
# Near-duplicate fingerprint
# --------------------------------------------------------------------------------------------

SHINGLE = 4  #: characters per shingle (Chinese has no spaces: character n-grams, not words)
NUM_HASHES = 64  #: signature length (one-permutation hashing bins)
BANDS = 16  #: LSH bands
ROWS = NUM_HASHES // BANDS  #: signature values per band
MIN_CHARS = 24  #: shorter bodies get no fingerprint (exact hash only)

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_BIN_SHIFT = np.uint64(64 - 6)  # 2**6 == NUM_HASHES bins
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic, no Python loop)."""
    x = (x ^ (x >> np.uint64(30))) * _M2
    x = (x ^ (x >> np.uint64(27))) * _M3
    return x ^ (x >> np.uint64(31))


@lru_cache(maxsize=256)  # a popular head is compared with every new candidate copy
def match_form(text: str) -> str:
    """Normalised text with punctuation and symbols removed: what shingles are cut from."""
    return _NON_WORD.sub("", normalise_text(text))


def _fingerprint_form(form: str) -> Fingerprint | None:
    if len(form) < MIN_CHARS:
        return None
    h = _shingle_hashes(form)
    bins = (h >> _BIN_SHIFT).astype(np.int64)
    sig = np.full(NUM_HASHES, _EMPTY, dtype=np.uint64)
    np.minimum.at(sig, bins, h)
    empty = sig == _EMPTY
    if empty.any():  # rotation densification: borrow the next non-empty bin, re-hashed by offset
        filled = np.flatnonzero(~empty)
        for i in np.flatnonzero(empty):
            nxt = filled[np.searchsorted(filled, i) % len(filled)]
            offset = np.uint64((nxt - i) % NUM_HASHES)
            sig[i] = _mix(sig[nxt : nxt + 1] + offset)[0]
    return Fingerprint(tuple(sig.tolist()))


def _shingle_hashes(form: str) -> np.ndarray:
    codes = np.frombuffer(form.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes) - SHINGLE + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint64)
    h = codes[:n].copy()
    for i in range(1, SHINGLE):
        h = h * _M1 + codes[i : i + n]
    return np.unique(_mix(h))


@dataclass(frozen=True)
class Fingerprint:
    """A MinHash signature (NUM_HASHES 64-bit values) of one body."""

    values: tuple[int, ...]

    def hex(self) -> str:
        """Compact text form for the database column."""
        return np.array(self.values, dtype=np.uint64).tobytes().hex()

    @classmethod
    def from_hex(cls, text: str) -> Fingerprint:
        return cls(tuple(int(v) for v in np.frombuffer(bytes.fromhex(text), dtype=np.uint64)))

    def estimate(self, other: Fingerprint) -> float:
        """Estimated Jaccard similarity of the shingle sets."""
        same = sum(1 for a, b in zip(self.values, other.values, strict=True) if a == b)
        return same / NUM_HASHES

    def estimate_hex(self, other: str) -> float:
        """estimate() against a stored signature, without building a Fingerprint from it."""
        theirs = np.frombuffer(bytes.fromhex(other), dtype=np.uint64)
        return int(np.count_nonzero(theirs == np.array(self.values, dtype=np.uint64))) / NUM_HASHES


@lru_cache(maxsize=4096)
def _signature(stored: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(stored), dtype=np.uint64)


def estimate_stored(a: str, b: str) -> float:
    """Fingerprint.estimate of two stored signatures (hex), each parsed once while in use."""
    return int(np.count_nonzero(_signature(a) == _signature(b))) / NUM_HASHES


def fingerprint(text: str | None) -> Fingerprint | None:
    """One-permutation MinHash of the body's 4-gram shingles (densified), or None if too short."""
    return _fingerprint_form(match_form(text)) if text else None


@dataclass(frozen=True)
class BodyKeys:
    """Both duplicate keys of one body, computed from a single normalisation."""

    content_hash: str | None
    fingerprint: Fingerprint | None


def body_keys(text: str | None) -> BodyKeys:
    """content_hash and fingerprint together (the archive's hot path normalises once)."""
    if not text:
        return BodyKeys(None, None)
    norm = normalise_text(text)
    return BodyKeys(_hash_norm(norm), _fingerprint_form(_NON_WORD.sub("", norm)))


_BAND_SALT = _mix(np.arange(1, BANDS + 1, dtype=np.uint64) * _M1)


def band_keys(fp: Fingerprint) -> list[tuple[int, int]]:
    """(band, key) pairs for the LSH index; a key is a signed 63-bit hash of the band's rows.

    The band number is mixed into the key, so one index on `key` serves all bands. Signed so it
    fits SQLite INTEGER and PostgreSQL BIGINT alike.
    """
    rows = np.array(fp.values, dtype=np.uint64).reshape(BANDS, ROWS)
    h = _BAND_SALT.copy()
    for j in range(ROWS):
        h = _mix(h ^ rows[:, j])
    keys = (h.view(np.int64) >> np.int64(1)).tolist()
    return list(enumerate(keys))


# --------------------------------------------------------------------------------------------
# Verification of a candidate pair
# --------------------------------------------------------------------------------------------

#: Chosen on half A of the generated pairs (tests/store/pairgen.py, grid search in
#: tests/store/syndication_eval.py); tests/store/test_syndication.py checks they are still optimal
#: there and meet the targets on the held-back half B.
CONTAINMENT_THRESHOLD = 0.85
NUMBERS_THRESHOLD = 0.80
MAX_GAPS = 1
#: Sentences of one text missing from the other *between* shared ones. Copies differ at the
#: edges (chrome, a lead, an editor line, a trimmed ending); a short article whose sentences
#: are spread through a longer one is another article built from the same boilerplate.
#: One allowed: a title line repeated into the body reads as one (measured on the pairs).
MAX_INSERTIONS = 1
SENTENCE_CHARS = 8  #: shorter pieces (datelines, "记者 张三") are not counted as sentences


@dataclass(frozen=True)
class Comparison:
    """How alike two bodies are, and whether that makes them one article."""

    containment: float  # shared shingles / shingles of the smaller body
    jaccard: float
    numbers: float  # shared digit runs / digit runs of the body with fewer (1.0 if none)
    # Substitutions: interior uncovered runs found on both sides (min of the two); None when
    # containment or numbers already ruled the pair out and the costly count was skipped
    # (`exhaustive=True` always counts, for threshold studies).
    gaps: int | None
    # Sentences inserted between shared ones (max of the two sides); None when skipped, as gaps
    insertions: int | None
    # Both texts open with sentences of their own: another story's lead over shared boilerplate
    # (a copy keeps its source's lead, prefixes it or trims it; it does not replace it)
    own_leads: bool | None
    same: bool


#: MinHash error allowed for before a candidate is ruled out unread: four standard errors of a
#: 64-bin estimate (sqrt(J(1-J)/64) <= 0.0625).
ESTIMATE_SLACK = 0.25


@lru_cache(maxsize=1024)  # a stored candidate is sized for every new article it is checked for
def form_length(text: str) -> int:
    """About len(match_form(text)) without its script conversion: a cheap size for a body."""
    return len(_NON_WORD.sub("", text))


def could_be_same(estimate: float, length_a: int, length_b: int) -> bool:
    """Whether a pair's estimated Jaccard leaves room for the containment `compare` requires.

    Containment t of the smaller shingle set in the larger bounds Jaccard from below:
    J >= t*r / (1 + (1-t)*r) for the size ratio r = smaller/larger. A candidate whose estimate is
    far below that bound cannot be accepted, and ruling it out spares a text comparison (most
    LSH candidates are template twins, not copies).
    """
    small, large = sorted((max(1, length_a), max(1, length_b)))
    ratio, t = small / large, CONTAINMENT_THRESHOLD
    return estimate >= t * ratio / (1 + (1 - t) * ratio) - ESTIMATE_SLACK


@lru_cache(maxsize=256)
def _shingle_set(form: str) -> frozenset[str]:
    return frozenset(form[i : i + SHINGLE] for i in range(max(1, len(form) - SHINGLE + 1)))


def _interior_gaps(form: str, other: frozenset[str]) -> int:
    """Runs of 2+ characters of `form` that no shared shingle covers, not touching either end.

    A name or place swapped inside a text leaves such a run on both sides; a one-character run
    is usually a script-conversion artefact of a mirror, and an edge run is added chrome or lead.
    """
    n = len(form)
    if n < SHINGLE:
        return 0
    hit = np.fromiter((form[i : i + SHINGLE] in other for i in range(n - SHINGLE + 1)),
                      dtype=np.int8, count=n - SHINGLE + 1)
    uncovered = np.convolve(hit, np.ones(SHINGLE, dtype=np.int8)) == 0  # length n
    edges = np.diff(np.concatenate(([False], uncovered, [False])).astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int(np.count_nonzero((starts > 0) & (ends < n) & (ends - starts >= 2)))


_SENTENCE_END = re.compile(r"[。!?;！？；]+")


@lru_cache(maxsize=256)
def _sentence_forms(text: str) -> tuple[str, ...]:
    """The text's sentences in match form (punctuation gone), in order, short pieces left out."""
    pieces = (_NON_WORD.sub("", p) for p in _SENTENCE_END.split(normalise_text(text)))
    return tuple(p for p in pieces if len(p) >= SENTENCE_CHARS)


def _sentence_layout(text: str, other: frozenset[str]) -> tuple[int, int]:
    """(sentences before the first one mostly present in `other`, sentences mostly absent
    from it that lie between present ones)."""
    shared = []
    for f in _sentence_forms(text):
        grams = [f[i : i + SHINGLE] for i in range(len(f) - SHINGLE + 1)]
        shared.append(2 * sum(g in other for g in grams) >= len(grams))
    if True not in shared:
        return len(shared), 0
    first, last = shared.index(True), len(shared) - shared[::-1].index(True)
    return first, shared[first:last].count(False)


def compare(a: str, b: str, exhaustive: bool = False) -> Comparison:
    """Verify a candidate: shingle containment, agreement of numbers, and no swapped names.

    Containment (not Jaccard) so a copy with a trimmed lead or added chrome still scores high.
    Template twins (the same meeting report or notice with other places, people, dates and
    figures) share most shingles; they are kept apart by the digit runs and by substitutions
    (interior uncovered runs on both sides), which copies do not have: their changes are
    additions at the edges. Articles assembled from shared boilerplate sentences are kept apart
    by sentence layout: one has sentences of its own between the shared ones (insertions), or
    each opens with a lead of its own.
    """
    fa, fb = match_form(a), match_form(b)
    sa, sb = _shingle_set(fa), _shingle_set(fb)
    inter = len(sa & sb)
    containment = inter / max(1, min(len(sa), len(sb)))
    jaccard = inter / max(1, len(sa | sb))
    na, nb = set(_DIGITS.findall(fa)), set(_DIGITS.findall(fb))
    numbers = len(na & nb) / min(len(na), len(nb)) if na and nb else 1.0
    if not exhaustive and (containment < CONTAINMENT_THRESHOLD or numbers < NUMBERS_THRESHOLD):
        return Comparison(containment, jaccard, numbers, None, None, None, False)
    gaps = min(_interior_gaps(fa, sb), _interior_gaps(fb, sa))
    (lead_a, ins_a), (lead_b, ins_b) = _sentence_layout(a, sb), _sentence_layout(b, sa)
    insertions, own_leads = max(ins_a, ins_b), lead_a > 0 and lead_b > 0
    same = (containment >= CONTAINMENT_THRESHOLD and numbers >= NUMBERS_THRESHOLD
            and gaps <= MAX_GAPS and insertions <= MAX_INSERTIONS and not own_leads)
    return Comparison(containment, jaccard, numbers, gaps, insertions, own_leads, same)
