"""Clock controls (publish, edit, delete), conditional GET and the HTTP control endpoints."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin

from govcrawl.simulator import Simulator


def _first_page_links(sim: Simulator, get) -> list[str]:
    start = next(p for p in sim.truth_portals() if p["id"] == "spp")["start_urls"][0]
    html = get(start).body.decode()
    return [urljoin(start, h) for h in re.findall(r'<li><a href="([^"]+)"', html)]


def test_publish_puts_new_articles_on_top(fresh_sim: Simulator, get) -> None:
    before = _first_page_links(fresh_sim, get)
    fresh_sim.publish(3)
    after = _first_page_links(fresh_sim, get)
    truth = [a["url"] for a in fresh_sim.iter_articles("spp")]
    assert len(truth) == 33
    assert after[:3] == truth[:3] and after[3:] == before[:len(after) - 3]
    assert all(get(u).status == 200 for u in after[:3])
    new_dates = [a["published_at"] for a in list(fresh_sim.iter_articles("spp"))[:4]]
    assert new_dates == sorted(new_dates, reverse=True)


def test_edit_changes_text_byline_and_validators(fresh_sim: Simulator, get) -> None:
    art = fresh_sim.article_truth("court:4")
    first = get(art["url"])
    version = fresh_sim.edit("court:4")
    assert version == 1
    edited = fresh_sim.article_truth("court:4")
    second = get(art["url"])
    assert edited["version"] == 1 and edited["body_ends"] != art["body_ends"]
    assert "第1次更新" in second.body.decode()
    assert second.headers["ETag"] != first.headers["ETag"]
    assert second.headers["Last-Modified"] != first.headers["Last-Modified"]
    assert edited["editor"] is None or edited["editor"] in second.body.decode()
    assert fresh_sim.edit("court:4") == 2


def test_delete_gives_404_and_leaves_lists(fresh_sim: Simulator, get) -> None:
    art = fresh_sim.article_truth("spp:29")  # the newest: first row of the first page
    assert art["url"] in _first_page_links(fresh_sim, get)
    fresh_sim.delete("spp:29")
    assert get(art["url"]).status == 404
    assert art["url"] not in _first_page_links(fresh_sim, get)
    assert "spp:29" not in {a["id"] for a in fresh_sim.iter_articles("spp")}
    assert "spp:29" in fresh_sim.truth()["deleted"]


def test_conditional_get(fresh_sim: Simulator, get) -> None:
    url = fresh_sim.article_truth("changan:7")["url"]
    first = get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert get(url, headers={"If-None-Match": etag}).status == 304
    assert get(url, headers={"If-None-Match": '"other"'}).status == 200
    assert get(url, headers={"If-Modified-Since": modified}).status == 304
    assert get(url, headers={"If-Modified-Since": "Mon, 01 Jan 2018 00:00:00 GMT"}).status == 200
    fresh_sim.edit("changan:7")
    assert get(url, headers={"If-None-Match": etag}).status == 200
    assert get(url, headers={"If-Modified-Since": modified}).status == 200


def test_http_control_endpoints(fresh_sim: Simulator, get) -> None:
    r = get(fresh_sim.url("/_control/publish?n=2"), method="POST", body=b"")
    assert json.loads(r.body) == {"article_slots": 32}
    r = get(fresh_sim.url("/_control/edit"), method="POST", body=b"id=fzw:3")
    assert json.loads(r.body)["version"] == 1
    r = get(fresh_sim.url("/_control/delete?id=fzw:2"), method="POST", body=b"")
    assert json.loads(r.body)["deleted"] is True
    truth = json.loads(get(fresh_sim.url("/_control/truth?portal=fzw")).body)
    ids = [a["id"] for a in truth["portals"][0]["articles"]]
    assert "fzw:2" not in ids and ids[0] == "fzw:31" and len(ids) == 31
    assert get(fresh_sim.url("/_control/edit?id=nope:1")).status == 400
    assert get(fresh_sim.url("/_control/unknown")).status == 404
    stats = json.loads(get(fresh_sim.url("/_control/stats")).body)
    assert stats["requests"] >= 5
