"""The crawl's item: a PageResult plus which portal it came from and the raw response.

A plain dataclass, so itemadapter, feed exports (`-O out.jsonl`) and the archive pipeline all
take it as it is. `raw` holds bytes and is left out of feeds by FEED_EXPORT_FIELDS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from govcrawl.dedup import BodyKeys
from govcrawl.records import PageResult, RawResponse

# Field order of exported feeds (Scrapy ≥ 2.18 follows it).
EXPORT_FIELDS = [
    "portal", "url", "canonical_url", "kind", "reason", "title", "source", "author", "editor",
    "published_at", "published_precision", "body_text", "byline_raw", "media", "is_mirror",
    "script", "encoding", "encoding_reason", "repairs", "warnings", "provenance", "status",
    "channel",
]


# The kind of a fetched page whose extraction the ExtractionPipeline has not run yet.
PENDING = "pending"


@dataclass
class CrawledPage(PageResult):
    """One fetched page as the spider yields it."""

    portal: str = ""
    canonical_url: str | None = None
    channel: str | None = None
    removed: bool = False  # a revisit found the article gone (404/410, or sent home)
    raw: RawResponse | None = field(default=None, repr=False)
    # the URL as a list page gave it (request meta survives redirects and retries): the spider
    # learns from it when that list page's articles are all archived
    listed_url: str | None = field(default=None, repr=False)
    # duplicate keys of body_text, when the extraction worker computed them with the page
    body_keys: BodyKeys | None = field(default=None, repr=False)

    def take(self, page: PageResult) -> None:
        """Fill in what extraction found (the fields of PageResult)."""
        for name in PageResult.__dataclass_fields__:
            setattr(self, name, getattr(page, name))
