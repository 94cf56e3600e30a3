"""The offline demo: the bundled portal simulator, declared as portals, crawled for real."""

from __future__ import annotations

from urllib.parse import urlsplit

from govcrawl.portals.registry import Portal, portal_from_mapping
from govcrawl.simulator.corpus import FARM_SOURCES, PORTAL_BY_ID, PORTALS
from govcrawl.simulator.server import Simulator, _article_pattern

# The simulator's content farm lists like any generic site.
DIALECT_OF = {"farm": "generic"}


def simulator_declarations(simulator: Simulator) -> list[Portal]:
    """One declaration per simulated portal, as a user would write it for a real one."""
    portals = []
    for spec, info in zip(PORTALS, simulator.truth_portals(), strict=True):
        prefix = urlsplit(info["prefix"]).path.rstrip("/")
        sources = [PORTAL_BY_ID[s] for s in FARM_SOURCES] if spec.dialect == "farm" else [spec]
        paths = "|".join(_article_pattern(source).pattern.removeprefix("^").removesuffix("$")
                         for source in sources)
        pattern = f"(?:{paths})(?:\\?.*)?$"
        portals.append(portal_from_mapping({
            "id": f"sim_{info['id']}",  # never shadows a real portal's declaration
            "name": info["name"],
            "dialect": DIALECT_OF.get(info["dialect"], info["dialect"]),
            "start_urls": info["start_urls"],
            "article_pattern": prefix + pattern,
        }, source="simulator"))
    return portals
