"""Every `govcrawl …` and `scrapy …` example in README.md and docs/*.md runs, offline, against
the portal simulator (`govcrawl simulator --declarations FILE` as GOVCRAWL_PORTALS), in a
directory of its own that stands in for the checkout (its scrapy.cfg copied in; the archive is
the default output/govcrawl.db there).

Nothing is changed or skipped silently: real portal ids become the simulator's through
PORTAL_IDS, the few other rewrites are in REWRITES, and the lines not run are in NOT_RUN with
the reason; each entry must still occur in the docs. Lines of other programs (pip, pytest,
sqlite3, systemctl, curl, shell) are not examples of ours and are left alone.
docs/scale-out.md has its own test (tests/scale/test_scale_out_doc.py); docs/browsing.md's
examples all start `govcrawl browse`, which serves until stopped.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from govcrawl.simulator import Simulator
from tests.conftest import ROOT, TESTDATA

pytestmark = pytest.mark.slow

DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md")
                                    if p.name not in ("scale-out.md", "browsing.md"))]
OURS = ("govcrawl ", "scrapy ")
SIM_IDS = ("sim_spp", "sim_changan", "sim_jszf", "sim_fzw", "sim_court", "sim_county",
           "sim_twfx", "sim_farm")
#: The docs' portals, by the simulated portal that stands in for each.
PORTAL_IDS = {"spp": "sim_spp", "chinapeace": "sim_changan", "chinacourt": "sim_court",
              "jl_jcy": "sim_jszf", "my_portal": "sim_fzw"}
#: Other text the test changes, and why.
REWRITES = {
    "crawl --all": "crawl " + " ".join(SIM_IDS),  # --all also names the real portals
    "govcrawl show 1234": "govcrawl show 1",  # an id the small archive holds
    "saved-pages/": str(TESTDATA / "devset" / "pages"),  # the reader's own saved pages
    "tests/data/devset/pages": str(TESTDATA / "devset" / "pages"),  # relative to the checkout
    "capture.warc.gz": "archive.warc.gz",  # a WARC the README's export just wrote
}
#: Live article pages in the docs, by the simulated portal whose first article stands in.
PAGES = {"https://www.spp.gov.cn/spp/zdgz/202103/t20210305_510599.shtml": "spp"}
NOT_RUN = {
    "govcrawl browse": "serves until stopped (tests/browse covers it)",
    "govcrawl save-page http://www.jl.jcy.gov.cn/": "fetches a live site",
    "govcrawl new-portal-test jl_jcy": "needs the pages saved from the live site",
    "govcrawl portals check": "fetches live sites",
    "govcrawl simulator --port 8765 &": "the test runs the simulator itself",
    # After a run that finished, the saved queue is empty and the dupefilter drops the start
    # pages: the resumed run reads no list page and exits 1.
    "scrapy crawl chinapeace -s JOBDIR=output/jobs/chinapeace   # resumes":
        "resumes a run stopped with Ctrl-C, which the test does not send",
}
SIZE = 6  # articles per simulated portal
SPEED = {"GOVCRAWL_DOWNLOAD_DELAY": "0", "GOVCRAWL_AUTOTHROTTLE": "0",
         "GOVCRAWL_CONCURRENT_REQUESTS_PER_DOMAIN": "8"}


def command_lines(markdown: str) -> list[str]:
    """The lines of the ```bash and ```sh blocks, continuation lines joined."""
    blocks = re.findall(r"^```(?:bash|sh)\n(.*?)^```", markdown, flags=re.M | re.S)
    joined = [re.sub(r"\\\n\s*", "", block) for block in blocks]
    return [line.strip() for block in joined for line in block.splitlines() if line.strip()]


def rewrite_ids(line: str) -> str:
    """`line` with the simulator's portal ids for the docs' ones."""
    for real, sim in PORTAL_IDS.items():
        line = re.sub(rf"\b{real}\b", sim, line)
    return line


def rewrite(line: str, pages: dict[str, str] | None = None) -> str:
    """`line` with the simulator's pages and portal ids, then the REWRITES (in one pass, so a
    rewritten text is not rewritten again)."""
    for live, simulated in (pages or {}).items():
        line = line.replace(live, simulated)
    others = "|".join(map(re.escape, REWRITES))
    return re.sub(others, lambda m: REWRITES[m.group(0)], rewrite_ids(line))


def simulated_pages(declarations: Path) -> dict[str, str]:
    """PAGES: each live URL → the URL of its stand-in article on the running simulator."""
    portals = {p["id"]: p for p in tomllib.loads(declarations.read_text("utf-8"))["portal"]}
    truth = {p["id"]: p for p in Simulator(size=SIZE, seed=0).truth()["portals"]}
    pages = {}
    for live, portal in PAGES.items():
        start = urlsplit(portals[f"sim_{portal}"]["start_urls"][0])
        pages[live] = f"{start.scheme}://{start.netloc}{truth[portal]['articles'][0]['url']}"
    return pages


def test_command_lines_and_rewrite():
    text = "x\n```bash\na \\\n   b  # c\n\nd\n```\n```python\nno\n```\n```sh\ne\n```\n"
    assert command_lines(text) == ["a b  # c", "d", "e"]
    assert rewrite("scrapy crawl spp -O spp.jsonl --portal sppx") == \
        "scrapy crawl sim_spp -O sim_spp.jsonl --portal sppx"


@pytest.fixture
def simulator(tmp_path):
    """The simulator's declarations file, while it serves."""
    declarations = tmp_path / "sim-portals.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "govcrawl", "simulator", "--size", str(SIZE), "--declarations",
         str(declarations)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not (declarations.exists() and declarations.stat().st_size):
            assert proc.poll() is None and time.monotonic() < deadline, "no simulator"
            time.sleep(0.1)
        yield declarations
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_every_documented_command_runs(simulator, tmp_path):
    lines = [(doc, line) for doc in DOCS for line in command_lines(doc.read_text("utf-8"))
             if line.startswith(OURS)]
    for live in PAGES:
        assert any(live in line for _, line in lines), f"not in the docs: {live}"
    for start in NOT_RUN:
        assert any(line.startswith(start) for _, line in lines), f"not in the docs: {start}"
    for old in REWRITES:
        assert any(old in rewrite_ids(line) for _, line in lines), f"not in the docs: {old}"
    work = tmp_path / "checkout"
    work.mkdir()
    shutil.copy(ROOT / "scrapy.cfg", work)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVCRAWL_", "SCRAPY_"))}
    env.update(SPEED, GOVCRAWL_PORTALS=str(simulator))
    pages = simulated_pages(simulator)
    failures, ran = [], 0
    for doc, line in lines:
        if line.startswith(tuple(NOT_RUN)):
            continue
        command = rewrite(line, pages)
        result = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=work, env=env,
                                capture_output=True, text=True, timeout=120)
        ran += 1
        if result.returncode != 0:
            failures.append(f"{doc.name}: {line}\n  ran: {command}\n  exit "
                            f"{result.returncode}: {result.stderr.strip()[-800:]}")
    assert not failures, f"{len(failures)} of {ran} examples failed:\n" + "\n".join(failures)
