"""The archive: SQLite or PostgreSQL storage of runs, responses, articles and crawl state.

Entry point: `open_archive()`; writes go through `Archive`, reads through `store.query`.
"""

from govcrawl.store.archive import Archive, StoreEntry, StoreOutcome
from govcrawl.store.db import ArchiveError, open_archive

__all__ = ["Archive", "ArchiveError", "StoreEntry", "StoreOutcome", "open_archive"]
