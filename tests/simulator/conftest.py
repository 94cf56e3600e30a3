"""Fixtures for simulator tests: a running Simulator and a small HTTP client."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from govcrawl.simulator import FaultPlan, Simulator


@dataclass
class Resp:
    """One HTTP response, fully read."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes


def fetch(url: str, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None, timeout: float = 10.0) -> Resp:
    """GET/POST one URL on a fresh connection that is always closed (no ResourceWarnings)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        conn.request(method, target, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return Resp(resp.status, resp.headers, data)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """A fault-free simulator shared by a test module (do not mutate its clock)."""
    with Simulator(size=47, seed=11) as s:
        yield s


@pytest.fixture
def fresh_sim() -> Iterator[Simulator]:
    """A simulator a test may publish to, edit and delete in."""
    with Simulator(size=30, seed=5, faults=FaultPlan()) as s:
        yield s


@pytest.fixture(scope="session")
def get() -> object:
    """The `fetch` helper, as a fixture (test modules cannot import conftest in importlib mode)."""
    return fetch
