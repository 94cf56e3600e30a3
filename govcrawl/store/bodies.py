"""How raw response bodies are stored: compressed, with the SHA-256 of the original bytes.

zstd at level 3 packs a portal page about as small as zlib level 6 (within ~8%) in a fifth of
the time, which matters because every fetched page is kept. Archives written before it hold
zlib bodies; `body_compression` says which, and both read back.
"""

from __future__ import annotations

import hashlib
import zlib

try:
    from compression import zstd  # Python 3.14+
except ImportError:  # pragma: no cover - depends on the Python version
    from backports import zstd

COMPRESSION = "zstd"
ZSTD_LEVEL = 3


def pack(body: bytes) -> tuple[bytes, str]:
    """The stored form of `body` (compressed with COMPRESSION) and its SHA-256 hex digest."""
    return zstd.compress(body, ZSTD_LEVEL), hashlib.sha256(body).hexdigest()


def unpack(blob: bytes, compression: str) -> bytes:
    """The original bytes of a stored body."""
    if compression == "zstd":
        return zstd.decompress(blob)
    if compression == "zlib":
        return zlib.decompress(blob)
    raise ValueError(f"unknown body compression {compression!r} in the archive")
