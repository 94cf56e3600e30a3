"""Test helpers: the vendored reference data (tests/data) and throwaway PostgreSQL databases."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
# Labelled pages and datasets the tests read, vendored with their origin and licence (README.md
# in each folder): devset/ (the 政法 dev set) and cwced/ (CWCED, MIT).
TESTDATA = ROOT / "tests" / "data"


def load_fixture(path: Path) -> tuple[bytes, dict]:
    """Raw bytes of a saved page and its sidecar (url, status, headers)."""
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text("utf-8")) if sidecar.exists() else {}
    return path.read_bytes(), meta


@pytest.fixture(scope="session")
def testdata() -> Path:
    return TESTDATA


PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def throwaway_pg_database(prefix: str) -> Iterator[str]:
    """A new database on the local PostgreSQL server, dropped (connections and all) after."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{secrets.token_hex(4)}_{os.getpid()}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
