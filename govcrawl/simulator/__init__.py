"""A loopback simulator of 政法 portals for crawl tests: dialects, faults and ground truth.

Use `Simulator(size=…, seed=…, faults=FaultPlan(...))` in-process (`.start()` / `.stop()` or a
`with` block), or `python -m govcrawl.simulator --port 0` as a subprocess: its first stdout line
is the base URL.  It never imports Scrapy.
"""

from govcrawl.simulator.corpus import PORTALS, Corpus, PortalSpec
from govcrawl.simulator.faults import EXPECTED, FAULT_KINDS, FaultPlan
from govcrawl.simulator.server import Simulator

__all__ = ["EXPECTED", "FAULT_KINDS", "PORTALS", "Corpus", "FaultPlan", "PortalSpec",
           "Simulator"]
