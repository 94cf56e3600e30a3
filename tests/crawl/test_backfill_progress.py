"""The saved backfill position never passes a list page whose articles are not archived yet:
a run killed there must find them again when it resumes."""

from __future__ import annotations

from govcrawl.portals.dialects import ListRequest
from govcrawl.portals.registry import portal_from_mapping
from govcrawl.spiders.loader import spider_class_for

CHANNEL = "http://127.0.0.1/p/index.shtml"


class RecordingWriter:
    def __init__(self) -> None:
        self.saved: list[dict] = []

    def set_channel_progress(self, portal_id, channel_url, *, last_page, backfill_complete,
                             resume=None) -> None:
        self.saved.append({"last_page": last_page, "complete": backfill_complete,
                           "resume": resume and resume["page"]})


def make_spider():
    portal = portal_from_mapping({"id": "probe", "name": "探针", "dialect": "trs",
                                  "start_urls": [CHANNEL]})
    spider = spider_class_for(portal)()
    spider.progress_writer = RecordingWriter()
    return spider


def page(n: int) -> ListRequest:
    return ListRequest(url=f"{CHANNEL}?page={n}", channel=CHANNEL, page=n)


def test_the_position_waits_for_the_oldest_page_with_unarchived_articles():
    spider = make_spider()
    saved = spider.progress_writer.saved
    spider._save_progress(page(0), page(1), ["http://127.0.0.1/a1", "http://127.0.0.1/a2"])
    assert saved[-1] == {"last_page": 0, "complete": False, "resume": 0}
    spider._save_progress(page(1), page(2), ["http://127.0.0.1/b1"])
    assert saved[-1]["resume"] == 0
    spider.settle(["http://127.0.0.1/b1", "http://127.0.0.1/a1"])  # page 0 still waits for a2
    assert saved[-1]["resume"] == 0
    spider.settle(["https://127.0.0.1/a2"])  # the same article by its URL identity
    assert saved[-1] == {"last_page": 1, "complete": False, "resume": 2}


def test_the_last_page_completes_the_backfill_only_once_its_articles_are_archived():
    spider = make_spider()
    saved = spider.progress_writer.saved
    spider._save_progress(page(0), None, ["http://127.0.0.1/z"])
    assert saved[-1] == {"last_page": 0, "complete": False, "resume": 0}
    spider.settle(["http://127.0.0.1/z", None])
    assert saved[-1] == {"last_page": 0, "complete": True, "resume": None}


def test_an_article_settled_before_its_page_is_parsed_does_not_hold_the_page():
    spider = make_spider()
    spider.settle(["http://127.0.0.1/pinned"])  # archived from an earlier page
    spider._save_progress(page(3), page(4), ["http://127.0.0.1/pinned"])
    assert spider.progress_writer.saved[-1] == {"last_page": 3, "complete": False, "resume": 4}
