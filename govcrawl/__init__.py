"""govcrawl: crawl, repair, extract and archive Chinese political-legal (政法) news portals."""

__version__ = "0.1.0"
