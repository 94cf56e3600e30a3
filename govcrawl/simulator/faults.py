"""Fault plans: which article URLs misbehave, how, and how a crawler should classify them.

A fault is a pure function of (plan seed, portal, article index), so tests can ask the ground
truth which URL carries which fault before crawling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from govcrawl.simulator.corpus import unit_hash

# Order matters: shares are laid out on [0, 1) in this order.
FAULT_KINDS: tuple[str, ...] = (
    "404", "500", "slow", "reset", "redirect-loop", "truncated", "binary", "oversized",
    "challenge-412", "challenge-521", "challenge-512", "waf-403", "robots",
)

# What a crawler should record for a URL with this fault: (kind, reason).  Kinds follow
# govcrawl.records.KINDS; "skipped" means "must not be fetched at all" (robots.txt).
EXPECTED: dict[str, tuple[str, str | None]] = {
    "404": ("error", "http-404"),
    "500": ("error", "http-500"),
    "slow": ("article", None),
    "reset": ("error", "connection-reset"),
    "redirect-loop": ("error", "redirect-loop"),
    "truncated": ("error", "truncated"),
    "binary": ("other", "binary"),  # not a page at all: extraction's "other" kind
    "oversized": ("error", "oversized"),
    "challenge-412": ("challenge", "ruishu-412"),
    "challenge-521": ("challenge", "jsl-521"),
    "challenge-512": ("challenge", "jsl-512"),
    "waf-403": ("blocked", "waf-403"),
    "robots": ("skipped", "robots"),
}

ALIASES = {"412": "challenge-412", "521": "challenge-521", "512": "challenge-512",
           "403": "waf-403", "waf": "waf-403", "loop": "redirect-loop",
           "connection-reset": "reset", "truncate": "truncated"}


@dataclass(frozen=True)
class FaultPlan:
    """Shares of article URLs per fault kind, plus robots.txt and timing options."""

    rates: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    slow_delay: float = 2.0  # seconds before a "slow" article is served
    oversize_bytes: int = 3 * 1024 * 1024  # "oversized" bodies are larger than this
    crawl_delay: float | None = None  # Crawl-delay line in robots.txt
    robots_disallow: tuple[str, ...] = ()  # extra prefixes below every portal, e.g. "/search/"

    def __post_init__(self) -> None:
        rates = {ALIASES.get(k, k): float(v) for k, v in self.rates.items()}
        for kind, rate in rates.items():
            if kind not in EXPECTED:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault share for {kind!r} must be within [0, 1]: {rate}")
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError("fault shares add up to more than 1")
        object.__setattr__(self, "rates", rates)

    @classmethod
    def parse(cls, spec: str, seed: int = 0) -> FaultPlan:
        """Parse `404=0.05,500=0.02,challenge-412=0.02,slow=0.01,slow-delay=3,crawl-delay=2,
        robots-disallow=/search/,oversize-bytes=4000000` (empty spec = no faults)."""
        rates: dict[str, float] = {}
        options: dict[str, object] = {}
        disallow: list[str] = []
        for item in filter(None, (s.strip() for s in spec.split(","))):
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep:
                raise ValueError(f"fault spec item needs KEY=VALUE: {item!r}")
            try:
                if key == "slow-delay":
                    options["slow_delay"] = float(value)
                elif key == "crawl-delay":
                    options["crawl_delay"] = float(value)
                elif key == "oversize-bytes":
                    options["oversize_bytes"] = int(value)
                elif key == "robots-disallow":
                    disallow.append(value.strip())
                elif key == "seed":
                    seed = int(value)
                else:
                    rates[key] = float(value)
            except ValueError as exc:
                raise ValueError(f"bad value in fault spec item {item!r}") from exc
        return cls(rates=rates, seed=seed, robots_disallow=tuple(disallow), **options)  # type: ignore[arg-type]

    def fault_for(self, portal_id: str, index: int) -> str | None:
        """The fault of article (portal, index), or None for a well-behaved URL."""
        if not self.rates:
            return None
        u = unit_hash(self.seed, "fault", portal_id, index)
        acc = 0.0
        for kind in FAULT_KINDS:
            acc += self.rates.get(kind, 0.0)
            if u < acc:
                return kind
        return None

    def spec(self) -> str:
        """The plan as a CLI spec string (round-trips through `parse`)."""
        items = [f"{k}={v:g}" for k, v in self.rates.items()]
        items.append(f"slow-delay={self.slow_delay:g}")
        if self.crawl_delay is not None:
            items.append(f"crawl-delay={self.crawl_delay:g}")
        items += [f"robots-disallow={p}" for p in self.robots_disallow]
        items.append(f"oversize-bytes={self.oversize_bytes}")
        items.append(f"seed={self.seed}")
        return ",".join(items)
