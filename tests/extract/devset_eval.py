"""Devset loader and the README's matcher, shared by the devset test and the benchmark."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEVSET = REPO / "tests" / "data" / "devset"
FIELDS = ("title", "source", "author", "editor", "published_at")


@dataclass
class DevPage:
    id: str
    body: bytes
    url: str
    status: int
    headers: dict[str, str]
    gold: dict
    meta: dict


def load_devset(root: Path = DEVSET) -> list[DevPage]:
    gold = {}
    for line in (root / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            gold[row["id"]] = row
    pages = []
    for pid in sorted(gold):
        meta = json.loads((root / "pages" / f"{pid}.json").read_text(encoding="utf-8"))
        body = (root / "pages" / f"{pid}.html").read_bytes()
        pages.append(DevPage(pid, body, meta["url"], meta.get("status", 200),
                             meta.get("headers") or {}, gold[pid], meta))
    return pages


def nfkc(text: str | None) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip()


def squash(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def field_ok(name: str, gold: str | None, pred: str | None) -> bool:
    """The README matcher for one field."""
    if name == "author":
        return set(nfkc(gold).split()) == set(nfkc(pred).split())
    if name == "published_at":
        if not gold:
            return not pred
        if not pred:
            return False
        if len(gold) == 10:
            return pred[:10] == gold
        return pred == gold
    return nfkc(gold) == nfkc(pred)


def body_ok(gold: dict, body: str | None) -> bool:
    text = squash(body)
    starts, ends = squash(gold["body_starts"]), squash(gold["body_ends"])
    n = gold["body_chars"]
    length = len(re.sub(r"\s+", "", body or ""))
    return starts in text and ends in text and abs(length - n) <= 0.1 * n


@dataclass
class Score:
    n_articles: int
    field_hits: dict[str, int]
    body_hits: int
    nonarticle_total: int
    nonarticle_hits: int
    confusions: list[str]
    failures: list[str]

    def accuracy(self, name: str) -> float:
        if name == "body":
            return self.body_hits / max(self.n_articles, 1)
        return self.field_hits[name] / max(self.n_articles, 1)


CROSS = ("source", "author", "editor")


def score(pages: Iterable[DevPage], predict: Callable[[DevPage], dict]) -> Score:
    """predict(page) → {"kind", "title", "source", "author", "editor", "published_at", "body"}."""
    hits = dict.fromkeys(FIELDS, 0)
    body_hits = n_art = non_total = non_hits = 0
    confusions: list[str] = []
    failures: list[str] = []
    for page in pages:
        pred = predict(page)
        gold = page.gold
        if "not_article" in gold:
            non_total += 1
            if pred.get("kind") == gold["not_article"]:
                non_hits += 1
            else:
                failures.append(f"{page.id} kind {pred.get('kind')} != {gold['not_article']}")
            continue
        n_art += 1
        for name in FIELDS:
            if field_ok(name, gold.get(name), pred.get(name)):
                hits[name] += 1
            else:
                failures.append(f"{page.id} {name}: {pred.get(name)!r} != {gold.get(name)!r}")
        if body_ok(gold, pred.get("body")):
            body_hits += 1
        else:
            failures.append(f"{page.id} body")
        for name in CROSS:
            value = pred.get(name)
            if not value:
                continue
            for other in CROSS:
                if other != name and gold.get(other) and nfkc(value) == nfkc(gold[other]) \
                        and nfkc(value) != nfkc(gold.get(name)):
                    confusions.append(f"{page.id} {other} reported as {name}: {value}")
    return Score(n_art, hits, body_hits, non_total, non_hits, confusions, failures)
