"""Spiders: one generated per portal declaration (see loader.py), over PortalSpider."""
