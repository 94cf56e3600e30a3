"""Per-field accuracy over the dev set (tests/data/devset) with the README matcher: a regression fails CI."""

import pytest
from devset_eval import FIELDS, load_devset, score

from govcrawl.extract.page import extract_page

TARGETS = {"title": 0.98, "source": 0.97, "author": 0.97, "editor": 0.97,
           "published_at": 0.97, "body": 0.95}


@pytest.fixture(scope="module")
def devset_score():
    def predict(page):
        r = extract_page(page.body, page.url, page.status, page.headers)
        return {"kind": r.kind, "title": r.title, "source": r.source, "author": r.author,
                "editor": r.editor, "published_at": r.published_at, "body": r.body_text}

    return score(load_devset(), predict)


@pytest.mark.parametrize("name", [*FIELDS, "body"])
def test_field_accuracy(devset_score, name: str) -> None:
    acc = devset_score.accuracy(name)
    misses = [f for f in devset_score.failures if f.split()[1].rstrip(":") == name]
    assert acc >= TARGETS[name], misses


def test_no_cross_field_confusions(devset_score) -> None:
    assert devset_score.confusions == []


def test_every_non_article_classified(devset_score) -> None:
    assert devset_score.nonarticle_total >= 4
    assert devset_score.nonarticle_hits == devset_score.nonarticle_total, devset_score.failures
