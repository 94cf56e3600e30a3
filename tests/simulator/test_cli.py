"""Subprocess mode and the `govcrawl simulator` subcommand."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from govcrawl.cli import simulator as cli_simulator

ROOT = Path(__file__).resolve().parents[2]


def test_subprocess_prints_base_url_first(get) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "govcrawl.simulator", "--port", "0", "--size", "5",
         "--faults", "404=0.2,crawl-delay=1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        base = proc.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        lines = [proc.stdout.readline().split() for _ in range(8)]
        assert [x[0] for x in lines] == ["spp", "changan", "jszf", "fzw", "court", "county",
                                         "twfx", "farm"]
        assert all(x[1].startswith(base + "/") for x in lines)
        robots = get(base + "/robots.txt").body.decode()
        assert "Crawl-delay: 1" in robots
        assert get(lines[0][1]).status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


def test_register_adds_subcommand() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    cli_simulator.register(sub)
    args = parser.parse_args(["simulator", "--size", "7", "--faults", "500=0.1", "--seed", "2"])
    assert args.size == 7 and args.faults == "500=0.1" and args.seed == 2
    assert args.port == 0 and args.host == "127.0.0.1"
    assert args.func is cli_simulator.run


def test_bad_fault_spec_exits_2(capsys) -> None:
    assert cli_simulator.main(["--faults", "bogus=1"]) == 2
    assert "unknown fault kind" in capsys.readouterr().err
