"""`scrapy parse` that shows extracted items.

The crawl leaves extraction to the ExtractionPipeline's worker processes, so a callback yields
`kind: 'pending'` pages; `scrapy parse` prints what the callback yields and bypasses the
pipelines. With no extraction workers the spider extracts in its callback, as parse needs.
"""

from __future__ import annotations

import argparse

from scrapy.commands.parse import Command as ScrapyParseCommand
from scrapy.settings import SETTINGS_PRIORITIES


class Command(ScrapyParseCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        # Above the project's default (and GOVCRAWL_EXTRACT_WORKERS), below `-s`.
        if (self.settings.getpriority("GOVCRAWL_EXTRACT_WORKERS") or 0) \
                < SETTINGS_PRIORITIES["cmdline"]:
            self.settings.set("GOVCRAWL_EXTRACT_WORKERS", 0, priority="cmdline")
