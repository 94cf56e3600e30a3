"""`govcrawl import --warc` of a damaged WARC: the whole records go in, then exit 2 naming the
byte offset where the damage starts."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from govcrawl import ingest
from govcrawl.export import WarcDamaged, WarcExporter, read_warc
from tests.using.usehelpers import sql

PAGES = ("001", "004", "010", "020")


def make_warc(devset_pages: Path, gzip: bool) -> tuple[bytes, list[tuple[str, int, int]]]:
    """Four dev-set pages as response + request pairs, and (type, offset, length) per record."""
    out = io.BytesIO()
    exporter = WarcExporter(out, gzip=gzip)
    for page in PAGES:
        raw = ingest.load_saved_page(devset_pages / f"{page}.html")
        exporter.write(raw.url, raw)
    data = out.getvalue()
    records = ArchiveIterator(io.BytesIO(data))
    layout = []
    for record in records:
        records.read_to_end(record)
        layout.append((record.rec_type, records.get_record_offset(),
                       records.get_record_length()))
    assert [kind for kind, _, _ in layout] == ["warcinfo"] + ["response", "request"] * 4
    return data, layout


def import_warc(govcrawl_cli, tmp_path: Path, data: bytes):
    warc = tmp_path / ("damaged.warc.gz" if data.startswith(b"\x1f\x8b") else "damaged.warc")
    warc.write_bytes(data)
    db = tmp_path / "a.db"
    return govcrawl_cli("import", "--warc", str(warc), "--database", f"sqlite:///{db}"), db


@pytest.mark.parametrize("gzip", [True, False], ids=["gzip", "plain"])
def test_a_warc_cut_inside_a_record_imports_the_whole_ones_and_exits_2(
        devset_pages, tmp_path, govcrawl_cli, gzip):
    data, layout = make_warc(devset_pages, gzip)
    _, start, length = layout[7]  # the fourth response: cut in its payload (or gzip member)
    result, db = import_warc(govcrawl_cli, tmp_path, data[:start + length - 200])
    assert result.code == 2
    assert result.err.count("\n") == 1 and f"damaged from byte {start}" in result.err
    assert "damaged.warc" in result.err
    assert sql(db, "select count(*) from responses") == [(3,)]
    assert "import (run 1)" in result.out


@pytest.mark.parametrize("gzip", [True, False], ids=["gzip", "plain"])
def test_a_warc_cut_in_the_last_request_keeps_its_whole_response(devset_pages, gzip):
    data, layout = make_warc(devset_pages, gzip)
    _, start, length = layout[-1]
    got = []
    with pytest.raises(WarcDamaged) as damage:
        got.extend(read_warc(io.BytesIO(data[:start + length // 2])))
    assert len(got) == 4 and damage.value.offset >= start - 4  # plain: before the blank lines
    assert [raw.request_method for raw in got[:3]] == ["GET"] * 3


@pytest.mark.parametrize("gzip", [True, False], ids=["gzip", "plain"])
def test_garbage_in_the_middle_of_a_warc_is_found_where_it_starts(
        devset_pages, tmp_path, govcrawl_cli, gzip):
    data, layout = make_warc(devset_pages, gzip)
    _, start, _ = layout[5]  # before the third response
    result, db = import_warc(govcrawl_cli, tmp_path,
                             data[:start] + b"\x00\xff garbage " * 40 + data[start:])
    assert result.code == 2 and result.err.count("\n") == 1
    offset = int(re.search(r"damaged from byte (\d+)", result.err).group(1))
    assert start - 4 <= offset <= start  # a plain WARC's record ends before its blank lines
    assert sql(db, "select count(*) from responses") == [(2,)]


def test_a_content_length_that_overruns_its_record_is_damage_not_a_longer_body(devset_pages):
    data, layout = make_warc(devset_pages, gzip=False)
    _, start, _ = layout[3]  # the second response
    head = data[start:start + 400]
    length = re.search(rb"Content-Length: (\d+)\r\n", head)
    assert length is not None
    longer = head.replace(length.group(0),
                          b"Content-Length: %d\r\n" % (int(length.group(1)) + 10), 1)
    got = []
    with pytest.raises(WarcDamaged) as damage:
        got.extend(read_warc(io.BytesIO(data[:start] + longer + data[start + 400:])))
    assert damage.value.offset == start
    assert len(got) == 1  # the first response; the second is not yielded with stray bytes


@pytest.mark.parametrize(("gzip", "tail"), [(True, b""), (False, b""), (False, b"\r\n\r\n")])
def test_a_whole_warc_reads_without_damage(devset_pages, gzip, tail):
    data, _ = make_warc(devset_pages, gzip)
    assert len(list(read_warc(io.BytesIO(data + tail)))) == 4


@pytest.mark.parametrize("cut", [1, 8])
def test_a_gzip_member_without_its_end_is_damage_even_when_its_record_is_all_there(
        devset_pages, cut):
    data, layout = make_warc(devset_pages, gzip=True)
    got = []
    with pytest.raises(WarcDamaged) as damage:
        got.extend(read_warc(io.BytesIO(data[:-cut])))  # the gzip trailer (CRC, size) cut
    assert damage.value.offset == layout[-1][1] and len(got) == 4


def test_importing_the_archive_into_itself_is_refused_and_changes_nothing(tmp_path, govcrawl_cli):
    from govcrawl.store.db import open_archive

    db = tmp_path / "a.db"
    open_archive(f"sqlite:///{db}").close()
    before = db.read_bytes()
    result = govcrawl_cli("import", str(db), "--database", f"sqlite:///{db}")
    assert result.code == 2 and result.err.count("\n") == 1
    assert "is the archive being imported into" in result.err
    assert db.read_bytes() == before
