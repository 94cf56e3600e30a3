"""Writers for exported articles (JSONL, CSV, WARC) and the WARC reader used by `import --warc`.

WARC: one `response` record per article with the archived body bytes exactly as stored, then
its `request` record (WARC-Concurrent-To the response). The archive keeps bodies decompressed,
so the HTTP headers written must say so: Content-Encoding and Transfer-Encoding are dropped and
Content-Length is the stored size; otherwise a WARC reader would try to gunzip plain bytes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from typing import Any, BinaryIO, TextIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from govcrawl.records import RawResponse
from govcrawl.store.read import BODY_KEYS, RECORD_KEYS

#: Headers that describe the bytes on the wire, not the decoded bytes the archive keeps.
WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
SOFTWARE = "govcrawl"


def write_jsonl(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    """One JSON object per line (UTF-8, Chinese unescaped); returns the number written."""
    n = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(records: Iterable[dict[str, Any]], out: TextIO, body: bool = False) -> int:
    """CSV with a header row in `RECORD_KEYS` order (plus the body columns if `body`)."""
    keys = list(RECORD_KEYS) + (list(BODY_KEYS) if body else [])
    writer = csv.DictWriter(out, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    n = 0
    for record in records:
        writer.writerow({k: "" if record.get(k) is None else record.get(k) for k in keys})
        n += 1
    return n


def http_headers_for_archive(headers: dict[str, str], body_size: int) -> list[tuple[str, str]]:
    """Response headers that tell the truth about a decompressed stored body."""
    out = [(k, v) for k, v in headers.items() if k.lower() not in WIRE_HEADERS]
    out.append(("Content-Length", str(body_size)))
    return out


def _warc_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


class WarcExporter:
    """Appends response + request record pairs for archived responses to a WARC file."""

    def __init__(self, out: BinaryIO, gzip: bool = True) -> None:
        self.writer = WARCWriter(out, gzip=gzip)
        info = self.writer.create_warcinfo_record(
            "govcrawl-export.warc", {"software": SOFTWARE, "format": "WARC File Format 1.0"})
        self.writer.write_record(info)

    def write(self, uri: str, raw: RawResponse, extra: dict[str, str] | None = None) -> None:
        """Write one response (body = the stored bytes) and the request that fetched it."""
        http = StatusAndHeaders(_status_line(raw.status),
                                http_headers_for_archive(raw.headers, len(raw.body)),
                                protocol="HTTP/1.1")
        warc_headers = {"WARC-Date": _warc_date(raw.fetched_at)}
        warc_headers.update(extra or {})
        response = self.writer.create_warc_record(
            uri, "response", payload=BytesIO(raw.body), length=len(raw.body),
            http_headers=http, warc_headers_dict=warc_headers)
        self.writer.write_record(response)
        parts = urlsplit(uri)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = [(k, v) for k, v in raw.request_headers.items()
                       if k.lower() not in ("host", "content-length")]
        req_headers.insert(0, ("Host", parts.netloc))
        body = raw.request_body or b""
        if body:
            req_headers.append(("Content-Length", str(len(body))))
        request = self.writer.create_warc_record(
            uri, "request", payload=BytesIO(body), length=len(body),
            http_headers=StatusAndHeaders(f"{raw.request_method} {target} HTTP/1.1",
                                          req_headers, is_http_request=True),
            warc_headers_dict={
                "WARC-Date": warc_headers["WARC-Date"],
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})
        self.writer.write_record(request)


def _headers_dict(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in pairs:
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


def _parse_warc_date(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_warc(stream: BinaryIO) -> Iterator[RawResponse]:
    """RawResponses of the HTTP `response` records of a WARC (gzip or not), bodies decoded.

    The body is the payload with transfer and content encodings removed (as a crawl stores it),
    so those headers are dropped; the `request` record that follows a response (linked by
    WARC-Concurrent-To) supplies the request method and headers.
    """
    pending: tuple[str | None, RawResponse] | None = None
    for record in ArchiveIterator(stream):
        kind = record.rec_type
        if kind == "request" and pending is not None and record.http_headers is not None:
            if record.rec_headers.get_header("WARC-Concurrent-To") == pending[0]:
                raw = pending[1]
                method, _, _ = record.http_headers.protocol.partition(" ")
                raw.request_method = method or "GET"
                raw.request_headers = {k: v for k, v in _headers_dict(
                    record.http_headers.headers).items() if k.lower() != "host"}
                raw.request_body = record.content_stream().read() or None
            continue
        if kind != "response" or record.http_headers is None:
            continue
        uri = record.rec_headers.get_header("WARC-Target-URI")
        if not uri or not uri.lower().startswith(("http:", "https:")):
            continue
        if pending is not None:
            yield pending[1]
        body = record.content_stream().read()
        status_text = record.http_headers.get_statuscode() or "0"
        headers = {k: v for k, v in _headers_dict(record.http_headers.headers).items()
                   if k.lower() not in WIRE_HEADERS}
        raw = RawResponse(
            url=uri, status=int(status_text) if status_text.isdigit() else 0,
            headers=http_headers_restore(headers, len(body)), body=body,
            fetched_at=_parse_warc_date(record.rec_headers.get_header("WARC-Date")),
            final_url=uri)
        pending = (record.rec_headers.get_header("WARC-Record-ID"), raw)
    if pending is not None:
        yield pending[1]


def http_headers_restore(headers: dict[str, str], body_size: int) -> dict[str, str]:
    """Headers as a crawl stores them: wire headers gone, Content-Length = the decoded size."""
    return {**headers, "Content-Length": str(body_size)}
