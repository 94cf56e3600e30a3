"""Extraction: classify a response and pull out title, body and byline (see page.py)."""

from govcrawl.extract.page import extract_page

__all__ = ["extract_page"]
