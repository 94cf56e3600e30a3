"""Plain records passed between the core layers (decode → repair → extract → dedup → store).

They know nothing of Scrapy; itemadapter handles dataclasses, so the crawl yields them as items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("article", "list", "challenge", "blocked", "error", "stub", "other")


@dataclass
class Media:
    """An attachment or image linked from an article."""

    url: str
    kind: str  # "attachment" or "image"
    text: str | None = None  # link text or caption
    path: str | None = None  # the downloaded file under FILES_STORE, when media are fetched


@dataclass
class RawResponse:
    """A response exactly as fetched: what the archive keeps so extraction can be re-run."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime  # timezone-aware
    final_url: str | None = None
    request_method: str = "GET"
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: bytes | None = None


@dataclass
class PageResult:
    """Everything derived from one response: the encoding decision, repairs, kind and fields."""

    url: str
    status: int
    kind: str
    reason: str | None = None
    encoding: str | None = None
    encoding_reason: str | None = None
    encoding_confidence: float = 0.0
    replaced_bytes: int = 0
    repairs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    script: str = "simplified"
    is_mirror: bool = False
    title: str | None = None
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    published_at: str | None = None  # ISO 8601: "2022-05-10" or "2022-05-10T10:23:00+08:00"
    published_precision: str | None = None  # "day", "minute" or "second"
    body_text: str | None = None  # normalised: repaired, simplified
    body_original: str | None = None  # the page's own script, repaired
    byline_raw: str | None = None
    media: list[Media] = field(default_factory=list)
    # field -> where its value came from: selector, meta, byline, credits, url, …
    provenance: dict[str, str] = field(default_factory=dict)
