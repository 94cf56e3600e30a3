"""govcrawl: crawl, repair, extract and archive Chinese political-legal (政法) news portals."""

import os

__version__ = "0.1.0"

# Scrapy's cookie middleware builds a tldextract extractor when it is imported, and that tries
# to download the Public Suffix List (blocked offline and in much of China: each failed try
# printed a traceback). No URLs means tldextract's bundled snapshot, without the network. Set
# here, before any Scrapy import, in every process that imports govcrawl (crawl, scrapy crawl,
# workers); a value the user set is kept.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
