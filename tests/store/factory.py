"""Builders of StoreEntry values for archive tests and benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime

from govcrawl.records import Media, PageResult, RawResponse
from govcrawl.store.archive import StoreEntry

T0 = datetime(2024, 5, 10, 8, 0, tzinfo=UTC)


def entry(
    url: str,
    body: str | None = "最高人民检察院召开党组会议，研究部署检察工作高质量发展的具体举措。",
    *,
    title: str = "标题",
    portal: str = "p1",
    kind: str = "article",
    is_mirror: bool = False,
    published_at: str | None = "2022-05-10",
    fetched_at: datetime = T0,
    headers: dict[str, str] | None = None,
    run_id: int | None = None,
    html: bytes | None = None,
    media: list[Media] | None = None,
    editor: str | None = None,
) -> StoreEntry:
    raw = RawResponse(
        url=url,
        status=200 if kind == "article" else 412,
        headers=headers or {"Content-Type": "text/html; charset=utf-8"},
        body=html if html is not None else f"<html><body>{body}</body></html>".encode(),
        fetched_at=fetched_at,
    )
    page = PageResult(
        url=url, status=raw.status, kind=kind, reason=None if kind == "article" else "ruishu",
        encoding="utf-8", encoding_reason="header", encoding_confidence=1.0,
        is_mirror=is_mirror, title=title if kind == "article" else None,
        body_text=body if kind == "article" else None, published_at=published_at,
        published_precision="day" if published_at and len(published_at) == 10 else None,
        media=media or [], editor=editor,
    )
    return StoreEntry(raw, page, portal, run_id)
