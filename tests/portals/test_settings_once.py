"""Settings are defined once and documented: each `GOVCRAWL_*` variable in the README's table
sets the setting it names (loaded as `govcrawl crawl` and `scrapy crawl` load them, add-ons
applied as a crawler applies them); every variable the code reads is documented; every
`GOVCRAWL_*` setting a component reads has its default in govcrawl/settings.py and nowhere
else; bad scale-out values are one line, not a traceback."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import govcrawl.settings

ROOT = Path(__file__).resolve().parents[2]
CODE = sorted((ROOT / "govcrawl").rglob("*.py"))
DOCS = ("README.md", "docs/scale-out.md", "docs/scheduling.md")
BARE = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}  # this checkout's code, no GOVCRAWL_*
# What a variable that is not a Scrapy setting sets, evaluated by the probe.
OUTSIDE_SCRAPY = {"GOVCRAWL_BUSY_TIMEOUT_MS": "busy_timeout_ms()",
                  "GOVCRAWL_PORTALS": "load_registry().files"}
# Values for variables whose default does not suggest one (numbers and flags are derived).
TEXT = {"GOVCRAWL_LOG_LEVEL": "DEBUG", "GOVCRAWL_PORTALS": "/nonexistent/probe-portals.toml"}

PROBE = """
import json, os, sys

read = set()


class Recording(dict):
    def get(self, key, default=None):
        read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        read.add(key)
        return super().__contains__(key)


os.environ = Recording(os.environ)
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.settings import Settings

from govcrawl.portals.registry import load_registry
from govcrawl.settings_check import check_settings
from govcrawl.store.db import busy_timeout_ms

project = Settings()  # as govcrawl.crawl.run_portals and scrapy.cfg load them
project.setmodule("govcrawl.settings", priority="project")
crawler = Crawler(Spider, project)
crawler.addons.load_settings(crawler.settings)  # what the crawler does first when it crawls
settings = crawler.settings
effects = {key: repr(eval(expr)) for key, expr in json.loads(sys.argv[1]).items()}
print(json.dumps({"effects": effects, "problems": check_settings(settings, os.environ),
                  "read": sorted(name for name in read if name.startswith("GOVCRAWL_"))}))
"""


def documented_table() -> dict[str, list[str]]:
    """The README's variables and what each sets: Scrapy settings, or OUTSIDE_SCRAPY's key."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("### Settings and their precedence"):]
    section = section[:section.index("\n## ")]
    table = {}
    for row in re.findall(r"^\| `(GOVCRAWL_\w+)` \| ([^|]*) \|", section, re.MULTILINE):
        variable, sets = row
        table[variable] = re.findall(r"`(\w+)`", sets) or [variable]
    return table


def probe(env: dict[str, str], effects: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(effects)], cwd=ROOT,
        env={**BARE, **env}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def expression(name: str) -> str:
    return OUTSIDE_SCRAPY.get(name) or f"settings.get({name!r})"


def literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def value_for(variable: str, default: object) -> str:
    """A valid value for `variable` other than its default."""
    if isinstance(default, bool):
        return str(not default).lower()
    if isinstance(default, int | float):
        return str(default + 7)
    return TEXT.get(variable, f"probe-{variable.lower()}")


def rounds(table: dict[str, list[str]]) -> list[list[str]]:
    """The variables in groups that set disjoint settings, so one probe tests a group."""
    groups: list[list[str]] = []
    for variable in table:
        for group in groups:
            if not {s for v in group for s in table[v]} & set(table[variable]):
                group.append(variable)
                break
        else:
            groups.append([variable])
    return groups


def test_each_documented_variable_sets_the_setting_it_names():
    table = documented_table()
    assert len(table) >= 20, table  # the table was found and parsed
    effects = {name: expression(name) for names in table.values() for name in names}
    baseline = probe({}, effects)
    assert baseline["problems"] == []
    for group in rounds(table):
        env = {v: value_for(v, literal(baseline["effects"][table[v][0]])) for v in group}
        got = probe(env, effects)
        assert got["problems"] == [], env
        for variable in group:
            for name in table[variable]:
                assert got["effects"][name] != baseline["effects"][name], (
                    f"{variable}={env[variable]!r} did not change {name} "
                    f"(still {got['effects'][name]})")
        assert set(group) <= set(got["read"])


def code_reads() -> set[str]:
    """GOVCRAWL_* variables read from the environment outside govcrawl/settings.py (whose
    reads the probe records, f-strings included)."""
    found: set[str] = set()
    for path in CODE:
        text = path.read_text("utf-8")
        found |= set(re.findall(r'(?:environ(?:\.get\(|\[)|getenv\()\s*"(GOVCRAWL_\w+)"', text))
        found |= set(re.findall(r'"(GOVCRAWL_\w+)"\s+(?:not\s+)?in\s+(?:os\.)?environ', text))
        found |= set(re.findall(r'^\w*ENV\w* = "(GOVCRAWL_\w+)"', text, re.MULTILINE))
    return found


def test_every_variable_the_code_reads_is_documented():
    documented = set()
    for name in DOCS:
        documented |= set(re.findall(r"GOVCRAWL_[A-Z_]*[A-Z]", (ROOT / name).read_text("utf-8")))
    read = set(probe({}, {})["read"]) | code_reads()
    assert {"GOVCRAWL_DOWNLOAD_DELAY", "GOVCRAWL_BUSY_TIMEOUT_MS", "GOVCRAWL_PORTALS",
            "GOVCRAWL_REDIS_URL"} <= read  # both ways of finding them work
    assert sorted(read - documented) == []


def test_components_read_govcrawl_settings_without_their_own_defaults():
    getter = r'settings(?:\.get\w*\(|\[)\s*"(GOVCRAWL_\w+)"'
    # a setting's getter, or the environment read for more than "is it set", given a default
    with_fallback = (r'settings\.get\w*\(\s*"(GOVCRAWL_\w+)"\s*,'
                     r'|environ\.get\(\s*"(GOVCRAWL_\w+)"\s*,(?!\s*""\s*\))')
    read, fallbacks = set(), []
    for path in CODE:
        text = path.read_text("utf-8")
        read |= set(re.findall(getter, text))
        fallbacks += [f"{path.relative_to(ROOT)}: {''.join(names)}"
                      for names in re.findall(with_fallback, text)]
    assert "GOVCRAWL_BATCH_SIZE" in read  # the pattern finds reads
    assert fallbacks == []
    assert sorted(read - set(vars(govcrawl.settings))) == []


def test_bad_scale_out_values_are_one_line(tmp_path):
    env = {**BARE, "GOVCRAWL_REDIS_URL": "redis://127.0.0.1:1/0",
           "GOVCRAWL_IDLE_SECONDS": "soon", "GOVCRAWL_REDIS_TTL": "1.5",
           "GOVCRAWL_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    for command in (["crawl", "spp"], ["seed", "spp"]):
        result = subprocess.run([sys.executable, "-m", "govcrawl", *command], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [
            f"govcrawl {command[0]}: GOVCRAWL_IDLE_SECONDS='soon': expected a number of "
            "seconds >= 0; GOVCRAWL_REDIS_TTL='1.5': expected a number of seconds >= 1"]
    assert not (tmp_path / "a.db").exists()
