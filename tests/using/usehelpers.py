"""Helpers for the archive-use tests: an in-process CLI runner and direct SQLite access."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from govcrawl import cli

SIM_PORTALS = ("sim_spp", "sim_changan", "sim_jszf", "sim_fzw", "sim_court", "sim_county",
               "sim_twfx", "sim_farm")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def jsonl(self) -> list[dict]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


def run_cli(*argv: str) -> Result:
    """`govcrawl ARGV` in this process (stdout/stderr are pipes, not terminals)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse errors
            code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


def sql(db: Path, query: str, *params) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(query, params).fetchall()


def copy_db(src: Path, dst: Path) -> Path:
    """A private copy of a (closed) SQLite archive, for tests that write."""
    shutil.copyfile(src, dst)
    for suffix in ("-wal", "-shm"):
        extra = Path(str(src) + suffix)
        if extra.exists():
            shutil.copyfile(extra, Path(str(dst) + suffix))
    return dst
