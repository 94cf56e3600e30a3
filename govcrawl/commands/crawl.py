"""`scrapy crawl` with an exit status a scheduler can act on.

Scrapy's own crawl exits 0 even when every request failed. This one judges the run the way
`govcrawl crawl` does (govcrawl.crawl.assess): 1 when the portal failed entirely, 3 when
storage failed, 4 when article pages stopped yielding a title, body or publish time.

Bad input exits 2 with one line on stderr before Scrapy starts (no crawler, log file, run row
or database is created): a malformed `-s`/`-a`, an unknown spider, an unknown or bad spider
argument, a bad setting (govcrawl.settings_check), an archive that cannot be used.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from typing import TYPE_CHECKING, NoReturn

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from govcrawl.crawl import EXIT_USAGE, assess

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler


def _refuse(message: str) -> NoReturn:
    print(f"scrapy crawl: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


class Command(ScrapyCrawlCommand):
    # Not Scrapy's `_crawler` (typed as always set): None until run() creates the crawler.
    _created_crawler: Crawler | None

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        # Runs before Scrapy creates the crawler process, which configures logging (a bad
        # LOG_LEVEL fails there) and prints its start-up lines.
        try:
            super().process_options(args, opts)
        except UsageError as exc:
            _refuse(str(exc))
        if len(args) == 1:  # otherwise Scrapy's run() prints the usage
            self._preflight(args[0], opts.spargs)

    def _preflight(self, name: str, spider_args: dict[str, str]) -> None:
        from scrapy.spiderloader import get_spider_loader

        from govcrawl.settings_check import check_archive, check_settings
        from govcrawl.spiders.portal import ArgumentError, PortalSpider, parse_arguments

        assert self.settings is not None
        problems = check_settings(self.settings, os.environ)
        if problems:
            _refuse("; ".join(problems))
        loader = get_spider_loader(self.settings)
        try:
            spidercls = loader.load(name)
        except KeyError:
            close = difflib.get_close_matches(name, loader.list(), n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            from govcrawl.spiders.loader import where_declared

            _refuse(f"unknown spider {name!r} ({hint}`scrapy list` shows the ids); "
                    f"{where_declared(loader)}")
        if not issubclass(spidercls, PortalSpider):
            return  # a hand-written spider: its arguments and storage are its own
        try:
            parse_arguments(spider_args)
        except ArgumentError as exc:
            _refuse(str(exc))
        problem = check_archive(self.settings.get("GOVCRAWL_DATABASE_URL"))
        if problem:
            _refuse(problem)

    def _create_crawler(self, spname: type[Spider] | str) -> Crawler:
        self._created_crawler = super()._create_crawler(spname)
        return self._created_crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        self._created_crawler = None
        super().run(args, opts)
        crawler = self._created_crawler
        if self.exitcode or crawler is None or crawler.spider is None:
            return
        spider = crawler.spider
        if getattr(spider, "portal", None) is None:
            return  # a hand-written spider: Scrapy's own status
        report = assess(spider.name, getattr(spider, "run_id", None), crawler.stats.get_stats())
        for line in report.lines():
            print(line)
        self.exitcode = report.exit_status()
