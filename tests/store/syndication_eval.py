"""Threshold choice and scoring for near-duplicate verification (shared by test and bench)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from govcrawl import dedup

CONTAINMENT_GRID = [round(0.50 + 0.05 * i, 2) for i in range(10)]
NUMBERS_GRID = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
GAPS_GRID = [0, 1, 2, 3]


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def decide(c: dedup.Comparison, cont: float, num: float, gaps: int) -> bool:
    """`compare`'s decision at other thresholds (the sentence-layout rules held fixed)."""
    return (c.containment >= cont and c.numbers >= num and c.gaps <= gaps
            and c.insertions <= dedup.MAX_INSERTIONS and not c.own_leads)


def score(rows: list[tuple[dedup.Comparison, bool]], cont: float, num: float, gaps: int) -> Score:
    tp = fp = fn = tn = 0
    for c, same in rows:
        pred = decide(c, cont, num, gaps)
        tp += pred and same
        fp += pred and not same
        fn += same and not pred
        tn += not same and not pred
    return Score(tp, fp, fn, tn)


def choose(rows: list[tuple[dedup.Comparison, bool]]) -> tuple[tuple[float, float, int], float]:
    """Best F1 on `rows`; among ties the middle containment, then middle number bar, then gaps."""
    scored = [
        ((c, n, g), score(rows, c, n, g).f1)
        for c, n, g in itertools.product(CONTAINMENT_GRID, NUMBERS_GRID, GAPS_GRID)
    ]
    best = max(f for _, f in scored)
    ties = sorted(p for p, f in scored if f == best)
    return ties[len(ties) // 2], best


def evaluate_pairs(pairs) -> dict[str, list[tuple[dedup.Comparison, bool]]]:
    rows: dict[str, list[tuple[dedup.Comparison, bool]]] = {"A": [], "B": []}
    for p in pairs:
        rows[p.half].append((dedup.compare(p.a, p.b, exhaustive=True), p.same))
    return rows
