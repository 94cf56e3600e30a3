"""Raw-byte fixtures for extraction tests: ``<stem>.html|.bin`` + ``<stem>.json`` sidecar."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from govcrawl.extract.page import extract_page
from govcrawl.records import PageResult

# importlib import mode: make the shared devset helper (devset_eval.py) importable by tests
sys.path.insert(0, str(Path(__file__).resolve().parent))

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "extract"


def load_fixture(stem: str) -> tuple[bytes, dict]:
    meta = json.loads((FIXTURES / f"{stem}.json").read_text(encoding="utf-8"))
    body_path = next(p for p in FIXTURES.glob(f"{stem}.*") if p.suffix != ".json")
    return body_path.read_bytes(), meta


@pytest.fixture
def extract_fixture() -> Callable[..., PageResult]:
    def run(stem: str, selectors: Mapping[str, str] | None = None) -> PageResult:
        body, meta = load_fixture(stem)
        return extract_page(body, meta["url"], meta.get("status", 200), meta.get("headers"),
                            selectors)

    return run
