"""The notebook API: read an archive as plain dicts (or a pandas DataFrame) without SQL.

    import govcrawl.api as gc
    arc = gc.open()                      # $GOVCRAWL_DATABASE_URL or output/govcrawl.db
    for a in arc.articles(portal="spp", since="2024-01-01", search="扫黑除恶"):
        print(a["published_at"], a["title"], a["authors"])

Filters are those of `govcrawl query` (see `govcrawl.store.read.Filters`); dates may be given
as `datetime.date` or "YYYY-MM-DD".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from govcrawl.store import query as _query
from govcrawl.store import read as _read
from govcrawl.store.db import open_reader

__all__ = ["ArchiveReader", "open"]

#: The portals' own time zone: a published_at without an offset is local time there.
CHINA_TIME = "Asia/Shanghai"


def _with_china_time(value: str) -> str:
    """An ISO published_at with its UTC offset: a bare day or time is China time (+08:00)."""
    if len(value) == 10:
        value += "T00:00:00"
    has_offset = value.endswith("Z") or "+" in value[10:] or "-" in value[10:]
    return value if has_offset else value + "+08:00"


def _filters(filters: dict[str, Any]) -> _read.Filters:
    """Filters from keyword arguments; unknown names and bad values raise ValueError/TypeError."""
    values = dict(filters)
    for name in ("since", "until"):
        value = values.get(name)
        if isinstance(value, str):
            values[name] = _read.parse_day(value, name)
        elif value is not None and not isinstance(value, date):
            raise TypeError(f"{name}: expected a date or 'YYYY-MM-DD', got {value!r}")
    return _read.Filters(**values)


class ArchiveReader:
    """Read-only access to one archive; use as a context manager or call `close()`."""

    def __init__(self, url: str | None = None) -> None:
        self._archive = open_reader(url)
        self.url = self._archive.url

    def close(self) -> None:
        self._archive.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def portals(self) -> list[dict[str, Any]]:
        """Per-portal statistics (articles, duplicates, rejects by kind, dates, last run)."""
        return _read.portal_stats(self._archive)

    def articles(self, *, body: bool = False, **filters: Any) -> Iterator[dict[str, Any]]:
        """An iterator over every article record matching `filters` (portal, province, source,
        author, editor, since, until, search, edited, removed, collapse, sort; `limit=N` for
        the first N only). Records are streamed, so any archive size fits in memory.
        `body=True` adds body_text, body_original and byline_raw."""
        f = _filters(filters)
        if f.portal is not None and f.portal not in _read.known_portals(self._archive):
            raise ValueError(f"unknown portal {f.portal!r}")
        return _read.iter_articles(self._archive, f, body=body)

    def get(self, id_or_url: int | str) -> dict[str, Any]:
        """One article in full (fields with provenance, versions, group, raw response metadata);
        KeyError if the archive has no such article."""
        try:
            return _read.show_article(self._archive, id_or_url)
        except _read.NotFound as exc:
            raise KeyError(str(exc)) from None

    def group(self, id: int) -> list[dict[str, Any]]:
        """The syndication group of an article: its head first, then copies by date."""
        group = _query.group_of(self._archive, id)
        if group is None:
            raise KeyError(f"no article {id!r} in the archive")
        return [{"id": m.id, "portal": m.portal_id, "url": m.url, "title": m.title,
                 "published_at": m.published_at, "similarity": m.similarity,
                 "is_mirror": m.is_mirror, "head": i == 0}
                for i, m in enumerate([group.head, *group.copies])]

    def count(self, **filters: Any) -> int:
        """How many articles `filters` select (a `limit` is ignored)."""
        return _read.count_articles(self._archive, _filters(filters))

    def search(self, text: str, limit: int | None = None,
               **filters: Any) -> list[dict[str, Any]]:
        """Articles whose title or body contains every word of `text` ("quoted phrases" whole;
        any length, either script); all of them unless `limit`."""
        return list(self.articles(search=text, limit=limit, **filters))

    def dataframe(self, *, body: bool = False, **filters: Any) -> Any:
        """The selected articles as a pandas DataFrame (needs pandas; all rows by default).

        Dates are timezone-aware columns: published_at in China time (a day-precision date is
        that day's midnight there), first_seen, last_seen and removed_at in UTC; `authors` is a
        list per row."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "ArchiveReader.dataframe() needs pandas, which is not installed: "
                "pip install pandas (or use .articles(), which returns plain dicts)") from None
        columns = [*_read.RECORD_KEYS, "authors", *(_read.BODY_KEYS if body else ())]
        frame = pd.DataFrame.from_records(list(self.articles(body=body, **filters)),
                                          columns=columns)
        published = frame["published_at"].map(_with_china_time, na_action="ignore")
        frame["published_at"] = pd.to_datetime(published, format="ISO8601", utc=True) \
            .dt.tz_convert(CHINA_TIME)
        for name in ("first_seen", "last_seen", "removed_at"):
            frame[name] = pd.to_datetime(frame[name], format="ISO8601", utc=True)
        return frame


def open(url: str | None = None) -> ArchiveReader:
    """Open the archive at `url` ($GOVCRAWL_DATABASE_URL or output/govcrawl.db by default).

    The archive is opened read-only: never created, upgraded or written, and no write lock is
    taken, so it can be read while a crawl writes it. Raises `govcrawl.store.ArchiveError`
    (one line) for a missing SQLite file (also a FileNotFoundError), an empty file, a database
    that is not a govcrawl archive, and an archive older or newer than this govcrawl (an older
    one is upgraded by any command that writes, e.g. `govcrawl reprocess`).
    """
    return ArchiveReader(url)

