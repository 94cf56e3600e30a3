"""Process entry points for the multi-process archive tests (importable by spawned children)."""

from __future__ import annotations

import sys

from factory import entry

from govcrawl.store import open_archive

STORY = (
    "{k}日，{place}市委政法委召开全市政法工作会议，总结{year}年工作，部署下一阶段重点任务。"
    "会议强调，要坚持党对政法工作的绝对领导，第{k}项措施要落实到位，切实维护社会大局稳定，"
    "全力推进平安{place}、法治{place}建设，努力让人民群众在每一个司法案件中感受到公平正义。"
)
PLACES = ["南昌", "赣州", "九江", "上饶", "宜春", "吉安", "抚州", "萍乡", "新余", "鹰潭"]


def story(k: int) -> str:
    return STORY.format(k=k, place=PLACES[k % 10], year=2000 + k)


def store_copies(db_url: str, who: int, rounds: int, barrier, results) -> None:
    """Each round, both processes store a copy of story k at the same moment (other URLs)."""
    arc = open_archive(db_url)
    statuses = []
    for k in range(rounds):
        body = story(k) if who == 0 else "来源：镜像站\n" + story(k)
        barrier.wait()
        out = arc.store_batch([entry(f"http://site{who}.cn/{k}.html", body,
                                     portal="p1" if who == 0 else "p2")])
        statuses.append(out[0].status)
    arc.close()
    results.put((who, statuses))


def write_forever(db_url: str) -> None:
    """Store batches until killed, printing the number of committed articles after each."""
    arc = open_archive(db_url)
    done = 0
    while True:
        batch = [entry(f"http://x.cn/{done + i}.html", story(done + i) + str(done + i))
                 for i in range(25)]
        arc.store_batch(batch)
        done += len(batch)
        print(done, flush=True)


if __name__ == "__main__":
    write_forever(sys.argv[1])
