"""Shared test helpers: where the read-only reference material lives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = ROOT.parent / "shared"


def load_fixture(path: Path) -> tuple[bytes, dict]:
    """Raw bytes of a saved page and its sidecar (url, status, headers)."""
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text("utf-8")) if sidecar.exists() else {}
    return path.read_bytes(), meta


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"reference material missing: {SHARED} (tests read ../shared beside the repo)")
    return SHARED
