"""Raw bodies are stored compressed and read back byte for byte, whatever compressed them."""

from __future__ import annotations

import hashlib
import zlib

import pytest
from factory import entry
from sqlalchemy import text

from govcrawl.store import bodies

PAGE = "<html><head><meta charset='gbk'></head><body>最高人民法院发布典型案例</body></html>"


def test_pack_round_trips_and_hashes_the_original_bytes() -> None:
    raw = PAGE.encode("gb18030") * 50
    blob, sha = bodies.pack(raw)
    assert len(blob) < len(raw) / 5
    assert sha == hashlib.sha256(raw).hexdigest()
    assert bodies.unpack(blob, bodies.COMPRESSION) == raw


def test_unknown_compression_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown body compression 'lz4'"):
        bodies.unpack(b"x", "lz4")


def test_an_older_archive_with_zlib_bodies_reads_back(archive) -> None:
    archive.store_batch([entry("http://x.cn/1.html", "正文。", title="标题"),
                         entry("http://x.cn/2.html", "另一篇。", title="标题二")])
    old = PAGE.encode("utf-8")
    with archive.engine.begin() as conn:  # as govcrawl wrote bodies before zstd
        conn.execute(text("UPDATE responses SET body = :b, body_compression = 'zlib', "
                          "body_size = :n WHERE url = 'http://x.cn/1.html'"),
                     {"b": zlib.compress(old, 6), "n": len(old)})
    got = {raw.url: raw.body for _, raw in archive.iter_responses()}
    assert got["http://x.cn/1.html"] == old
    with archive.read_engine.connect() as conn:
        kinds = set(conn.execute(text("SELECT body_compression FROM responses")).scalars())
    assert kinds == {"zlib", "zstd"}
    assert b"<html" in got["http://x.cn/2.html"]
