"""A spider loader that makes one spider class per portal declaration.

`scrapy list` shows every declared portal and `scrapy crawl <id>` runs one, without a Python
file per portal. Hand-written spiders in SPIDER_MODULES still load as usual. A bad user
declaration is logged and skipped; it never breaks the others.
"""

from __future__ import annotations

import logging

from scrapy.settings import BaseSettings
from scrapy.spiderloader import SpiderLoader, SpiderLoaderProtocol

from govcrawl.portals.registry import Portal, load_registry
from govcrawl.spiders.portal import PortalSpider

logger = logging.getLogger(__name__)


def spider_class_for(portal: Portal) -> type[PortalSpider]:
    """A PortalSpider subclass named after the portal."""
    return type(
        f"{portal.id.title().replace('_', '')}Spider",
        (PortalSpider,),
        {"name": portal.id, "portal": portal, "__doc__": f"{portal.name} ({portal.dialect})"},
    )


class PortalSpiderLoader(SpiderLoader):
    def __init__(self, settings: BaseSettings):
        self._portals_spec = settings.get("GOVCRAWL_PORTALS")
        super().__init__(settings)

    def _load_all_spiders(self) -> None:
        super()._load_all_spiders()
        registry = load_registry(self._portals_spec)
        self.declaration_files = registry.files
        for error in registry.errors:
            logger.error("portal declaration skipped: %s", error)
        for portal in registry.portals.values():
            if portal.id in self._spiders:
                logger.error("portal %r (%s) has the name of a spider module; skipped",
                             portal.id, portal.source)
                continue
            self._spiders[portal.id] = spider_class_for(portal)


def where_declared(loader: SpiderLoaderProtocol) -> str:
    """For an unknown spider: the declaration files that were read, and how to add one."""
    files = getattr(loader, "declaration_files", None) or []
    unset = "" if any(not f.startswith("govcrawl/portals/") for f in files) else \
        " (GOVCRAWL_PORTALS names no file)"
    return (f"declarations read: {', '.join(files) or 'none'}{unset}; declare a portal in a "
            "TOML file named in GOVCRAWL_PORTALS (docs/adding-a-portal.md)")
