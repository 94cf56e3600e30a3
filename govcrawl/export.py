"""Writers for exported articles (JSONL, CSV, WARC) and the WARC reader used by `import --warc`.

WARC: one `response` record per article with the archived body bytes exactly as stored, then
its `request` record (WARC-Concurrent-To the response). The archive keeps bodies decompressed,
so the HTTP headers written must say so: Content-Encoding and Transfer-Encoding are dropped and
Content-Length is the stored size; otherwise a WARC reader would try to gunzip plain bytes.
"""

from __future__ import annotations

import csv
import io
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


class WarcDamaged(Exception):
    """A WARC that stops being readable at ``offset``: every record before it was whole."""

    def __init__(self, offset: int, detail: str) -> None:
        super().__init__(f"damaged from byte {offset}: {detail}")
        self.offset = offset
        self.detail = detail


class _ArchiveIterator(ArchiveIterator):
    """warcio's iterator without its multi-line stderr warning for a mis-sized record:
    read_warc reports that damage itself, in one line."""

    INC_RECORD = ""


#: The WARC header naming the portal an exported article was archived under.
PORTAL_HEADER = "WARC-Govcrawl-Portal"


def read_warc(stream: BinaryIO) -> Iterator[RawResponse]:
    """RawResponses of the HTTP `response` records of a WARC (gzip or not), bodies decoded;
    see `read_warc_portals`."""
    for raw, _portal in read_warc_portals(stream):
        yield raw


def read_warc_portals(stream: BinaryIO) -> Iterator[tuple[RawResponse, str | None]]:
    """Each HTTP `response` record of a WARC (gzip or not) as a RawResponse, bodies decoded,
    with the portal its `WARC-Govcrawl-Portal` header names (None in other WARCs).

    The body is the payload with transfer and content encodings removed (as a crawl stores it),
    so those headers are dropped; the `request` record that follows a response (linked by
    WARC-Concurrent-To) supplies the request method and headers.

    Damage ends the reading: a record cut short (warcio hands it over with a short payload, or
    stops silently at a truncated gzip member), a gzip member without its end, a Content-Length
    that does not match its record, an unparsable record, or bytes after the last whole record.
    The whole responses before it are yielded, then WarcDamaged names the offset. (Garbage that
    leaves a WARC header line parsable, and bit flips in a plain WARC, go unnoticed: digests
    are not checked, since writers disagree on the payload digest of chunked responses,
    webrecorder/warcio#74, and a check would refuse readable files.)
    """
    size = _stream_size(stream)
    records = _ArchiveIterator(stream)
    whole_end: int = records.offset  # just past the last whole record
    last_start = whole_end
    # start, record id, response, portal
    pending: tuple[int, str | None, RawResponse, str | None] | None = None
    damage: WarcDamaged | None = None
    unparsable: WarcDamaged | None = None
    try:
        for record in records:
            if records.err_count:
                break
            kind = record.rec_type
            content = (record.content_stream().read() if kind in ("request", "response")
                       else b"")
            records.read_to_end(record)
            # bool(): in `x or getattr(…)` mypy takes the left operand's bool as the context
            if record.length is None or bool(getattr(record.raw_stream, "limit", 0)):
                raise WarcDamaged(records.get_record_offset(), "record cut short")
            if not _member_ended(records):  # every byte of the record may be there, unverified
                raise WarcDamaged(records.get_record_offset(), "its gzip member is cut short")
            last_start = records.get_record_offset()
            whole_end = last_start + records.get_record_length()
            if kind == "request" and pending is not None and record.http_headers is not None:
                if record.rec_headers.get_header("WARC-Concurrent-To") == pending[1]:
                    raw = pending[2]
                    method, _, _ = record.http_headers.protocol.partition(" ")
                    raw.request_method = method or "GET"
                    raw.request_headers = {k: v for k, v in _headers_dict(
                        record.http_headers.headers).items() if k.lower() != "host"}
                    raw.request_body = content or None
                continue
            if kind != "response" or record.http_headers is None:
                continue
            uri = record.rec_headers.get_header("WARC-Target-URI")
            if not uri or not uri.lower().startswith(("http:", "https:")):
                continue
            if pending is not None:
                yield pending[2], pending[3]
            pending = (last_start, record.rec_headers.get_header("WARC-Record-ID"),
                       _raw_response(record, uri, content),
                       record.rec_headers.get_header(PORTAL_HEADER))
    except WarcDamaged as exc:
        damage = exc
    except Exception as exc:  # warcio, zlib and the chunk decoder raise anything on bad bytes
        damage = unparsable = WarcDamaged(whole_end, _one_line(f"{type(exc).__name__}: {exc}"))
    if records.err_count and damage in (None, unparsable):
        # warcio met no blank line after the last whole record: it was mis-sized
        if pending is not None and pending[0] == last_start:
            pending = None
        damage = WarcDamaged(last_start, "a record's Content-Length does not match it")
    if pending is not None:
        yield pending[2], pending[3]
    if damage is None and size is not None and whole_end < size:
        stream.seek(whole_end)
        tail = stream.read(4096)
        if len(tail) == 4096 or tail.strip():  # more than the blank lines after a record
            damage = WarcDamaged(whole_end, "what follows the last whole record is not one "
                                 "(a record cut short, or garbage)")
    if damage is not None:
        raise damage


def _member_ended(records: ArchiveIterator) -> bool:
    """Whether the gzip member just read reached its end (True for an uncompressed WARC)."""
    decompressor = getattr(records.reader, "decompressor", None)
    return decompressor is None or getattr(decompressor, "eof", True)


def _one_line(text: str, limit: int = 100) -> str:
    """An error message fit for one line: warcio quotes the garbage it met, binary included."""
    text = "".join(c if c.isprintable() else "?" for c in text.strip().split("\n")[0])
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _stream_size(stream: BinaryIO) -> int | None:
    try:
        here = stream.tell()
        size = stream.seek(0, io.SEEK_END)
        stream.seek(here)
    except (OSError, ValueError):
        return None
    return size


def _raw_response(record: Any, uri: str, body: bytes) -> RawResponse:
    status_text = record.http_headers.get_statuscode() or "0"
    headers = {k: v for k, v in _headers_dict(record.http_headers.headers).items()
               if k.lower() not in WIRE_HEADERS}
    return RawResponse(
        url=uri, status=int(status_text) if status_text.isdigit() else 0,
        headers=http_headers_restore(headers, len(body)), body=body,
        fetched_at=_parse_warc_date(record.rec_headers.get_header("WARC-Date")),
        final_url=uri)


def http_headers_restore(headers: dict[str, str], body_size: int) -> dict[str, str]:
    """Headers as a crawl stores them: wire headers gone, Content-Length = the decoded size."""
    return {**headers, "Content-Length": str(body_size)}
