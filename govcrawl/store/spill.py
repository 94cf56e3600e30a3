"""Spill files: pending store entries written aside when the database is unusable.

When a batch cannot be committed (locked beyond busy_timeout, disk full, server gone) the
pipeline writes the batch here instead of dropping it; `govcrawl load-spill` loads it later.
Format: JSON lines, one entry per line, raw bytes in base64, every PageResult field kept.
Each line is flushed and the file fsynced, so a crash loses at most the line being written
(`load` skips a torn last line).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from dataclasses import asdict, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError, OperationalError

from govcrawl.records import Media, PageResult, RawResponse
from govcrawl.store.archive import StoreEntry, StoreOutcome

if TYPE_CHECKING:
    from govcrawl.store.archive import Archive

FORMAT = "govcrawl-spill/1"


def is_unusable(exc: BaseException) -> bool:
    """Whether a failed write means 'the database is unusable now' (spill) rather than a bug."""
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    return isinstance(exc, OSError)


def default_path(output_dir: str | Path = "output") -> Path:
    """A fresh spill file name under output/ (timestamp + pid: concurrent crawls never clash)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return Path(output_dir) / f"spill-{stamp}-{os.getpid()}.jsonl"


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _encode(entry: StoreEntry) -> str:
    raw = entry.raw
    page = entry.page  # may be a crawl item: only the PageResult fields are kept
    record = {
        "format": FORMAT,
        "portal_id": entry.portal_id,
        "run_id": entry.run_id,
        "raw": None if raw is None else {  # None: a failure with no response (DNS, reset…)
            "url": raw.url, "status": raw.status, "headers": raw.headers,
            "body": _b64(raw.body), "fetched_at": raw.fetched_at.isoformat(),
            "final_url": raw.final_url, "request_method": raw.request_method,
            "request_headers": raw.request_headers, "request_body": _b64(raw.request_body),
        },
        "page": {f.name: _plain(getattr(page, f.name)) for f in fields(PageResult)},
    }
    return json.dumps(record, ensure_ascii=False)


def _plain(value):
    if isinstance(value, list):
        return [asdict(v) if is_dataclass(v) else v for v in value]
    return value


def _decode(line: str) -> StoreEntry:
    record = json.loads(line)
    if record.get("format") != FORMAT:
        raise ValueError(f"unknown spill format {record.get('format')!r}")
    r = record["raw"]
    raw = None if r is None else RawResponse(
        url=r["url"], status=r["status"], headers=r["headers"],
        body=base64.b64decode(r["body"]), fetched_at=datetime.fromisoformat(r["fetched_at"]),
        final_url=r["final_url"], request_method=r["request_method"],
        request_headers=r["request_headers"],
        request_body=None if r["request_body"] is None else base64.b64decode(r["request_body"]),
    )
    page_fields = dict(record["page"])
    page_fields["media"] = [Media(**m) for m in page_fields.get("media", [])]
    return StoreEntry(raw, PageResult(**page_fields), record["portal_id"], record["run_id"])


def write(path: str | Path, entries: list[StoreEntry]) -> Path:
    """Append `entries` to the spill file at `path` (created with its folder) and fsync it.

    All or nothing: a write that fails (disk full) is cut off again, so the file keeps only
    whole lines and later appends stay loadable; the OSError propagates.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = memoryview(b"".join((_encode(entry) + "\n").encode("utf-8") for entry in entries))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)
    return path


def read(path: str | Path) -> list[StoreEntry]:
    """Entries of a spill file; a torn final line (crash while writing) is skipped."""
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    out = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(_decode(line))
        except json.JSONDecodeError:
            if i >= len(lines) - 2:  # the last, unterminated line
                break
            raise
    return out


def load(path: str | Path, archive: Archive, batch_size: int = 200) -> list[StoreOutcome]:
    """Store a spill file's entries into `archive` (batches of `batch_size`, one txn each).

    Loading twice is harmless for articles (a re-seen URL is `unchanged`), but responses are
    stored again, so callers rename the file once it has loaded.
    """
    entries = read(path)
    outcomes: list[StoreOutcome] = []
    for entry in entries:
        if entry.raw is None:  # a failure with no response: only its reject is kept
            page = entry.page
            archive.record_reject(page.url, entry.run_id, page.kind, page.reason,
                                  "; ".join(page.warnings) or None, entry.portal_id)
    with_response = [entry for entry in entries if entry.raw is not None]
    for i in range(0, len(with_response), batch_size):
        outcomes += archive.store_batch(with_response[i : i + batch_size])
    return outcomes
