"""The peer govcrawl is measured against: the spider a user would otherwise write with Scrapy,
GNE and SQLAlchemy (needs the bench extra: `pip install -e ".[bench]"`).

It fetches the article URLs it is given, extracts each page with GNE (title, author, publish
time, body) from Scrapy's decoded text, and stores one row per article through the SQLAlchemy
ORM, a session commit per batch of items. No raw responses, repairs, bylines, search index or
duplicate groups: only what such a spider usually keeps.

Run: python tests/bench/peer_spider.py URLS_FILE DATABASE_URL [-s NAME=VALUE …]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import scrapy
from gne import GeneralNewsExtractor
from scrapy.crawler import CrawlerProcess
from sqlalchemy import Integer, String, Text, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String, unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    publish_time: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)


class NewsSpider(scrapy.Spider):
    name = "peer"

    def __init__(self, urls: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.extractor = GeneralNewsExtractor()

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response):
        with warnings.catch_warnings():  # GNE's lxml use warns on some pages
            warnings.simplefilter("ignore")
            out = self.extractor.extract(response.text)
        yield {"url": response.url, "title": out.get("title"), "author": out.get("author"),
               "publish_time": out.get("publish_time"), "content": out.get("content")}


class SqlAlchemyPipeline:
    """One ORM row per article, committed every `PEER_COMMIT_EVERY` items and at the end."""

    def __init__(self, url: str, every: int) -> None:
        self.url, self.every, self.pending = url, every, 0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings["PEER_DATABASE_URL"],
                   crawler.settings.getint("PEER_COMMIT_EVERY", 100))

    def open_spider(self) -> None:
        self.engine = create_engine(self.url)
        Base.metadata.create_all(self.engine)
        self.session = Session(self.engine)

    def process_item(self, item):
        self.session.add(Article(**item))
        self.pending += 1
        if self.pending >= self.every:
            self.session.commit()
            self.pending = 0
        return item

    def close_spider(self) -> None:
        self.session.commit()
        self.session.close()
        self.engine.dispose()


def run(urls: list[str], database_url: str, settings: dict | None = None) -> dict:
    """Crawl `urls` into `database_url`; returns the crawl's Scrapy stats."""
    process = CrawlerProcess({
        "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "ERROR", **(settings or {}),
        "PEER_DATABASE_URL": database_url,
        "ITEM_PIPELINES": {f"{__name__}.SqlAlchemyPipeline": 300}})
    crawler = process.create_crawler(NewsSpider)
    process.crawl(crawler, urls=urls)
    process.start()
    return crawler.stats.get_stats()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("urls", type=Path)
    ap.add_argument("database_url")
    ap.add_argument("-s", action="append", default=[], metavar="NAME=VALUE")
    args = ap.parse_args()
    settings = dict(s.split("=", 1) for s in args.s)
    stats = run(args.urls.read_text("utf-8").split(), args.database_url, settings)
    print(f"{stats.get('item_scraped_count', 0)} articles stored", file=sys.stderr)


if __name__ == "__main__":
    main()
