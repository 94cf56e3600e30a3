"""docs/scale-out.md runs as written: its fenced bash blocks are run, line for line, against
the loopback Redis and a throwaway PostgreSQL database.

Nothing is skipped silently: the lines not run are listed in NOT_RUN with the reason, and each
must occur in the document exactly once. The only text changed is the database URL (the test's
throwaway database instead of `govcrawl`); speed knobs come through the environment, which the
document's commands leave alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

DOC = ROOT / "docs" / "scale-out.md"
DOC_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/govcrawl"
NOT_RUN = {
    'pip install -e ".[scale,postgres]"': "installed already (and the test has no network)",
    "redis-server --bind 127.0.0.1": "the test's Redis is running on 127.0.0.1:6379",
    "createdb -h 127.0.0.1 -U postgres govcrawl": "the test creates a throwaway database",
}


def bash_lines(markdown: str) -> list[str]:
    """The command lines of the ```bash blocks, in order."""
    blocks = re.findall(r"^```bash\n(.*?)^```", markdown, flags=re.M | re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_bash_lines():
    text = "x\n```bash\na b\n\nc\n```\n```sh\nno\n```\n```bash\nd\n```\n"
    assert bash_lines(text) == ["a b", "c", "d"]


def test_the_documented_commands_run(pg_url, redis_server, tmp_path):
    text = DOC.read_text("utf-8")
    lines = bash_lines(text)
    for start in NOT_RUN:
        assert sum(line.startswith(start) for line in lines) == 1, start
    run = [line for line in lines if not line.startswith(tuple(NOT_RUN))]
    script = "\n".join(["set -eu", *run])
    assert script.count(DOC_DATABASE) == 1
    script = script.replace(DOC_DATABASE, pg_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVCRAWL_", "SCRAPY_"))}
    env.update({
        "GOVCRAWL_REDIS_PREFIX": redis_server.govcrawl_prefix,
        "GOVCRAWL_DOWNLOAD_DELAY": "0.1", "GOVCRAWL_AUTOTHROTTLE": "0",
        "GOVCRAWL_IDLE_SECONDS": "2", "GOVCRAWL_WORKER_TIMEOUT": "3",
        "GOVCRAWL_LOG_DIR": str(tmp_path / "logs"), "PYTHONPATH": str(ROOT),
    })
    shell = subprocess.Popen(["bash", "-c", script], cwd=tmp_path, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    try:
        out, err = shell.communicate(timeout=240)
    finally:
        with contextlib.suppress(ProcessLookupError):  # the simulator, if the script failed
            os.killpg(shell.pid, signal.SIGKILL)
        shell.wait()
    assert shell.returncode == 0, out[-3000:] + err[-5000:]
    assert out.count("new crawl, 1 start request(s) queued") == 4, out
    assert "sim_changan: done, queue 0" in out and "stored articles 8" in out, out
    assert "sim_spp: the crawl finished at" in err
    from sqlalchemy import create_engine
    from sqlalchemy import text as sql

    engine = create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(sql("SELECT count(*) FROM articles")).scalar_one() == 16
    engine.dispose()
