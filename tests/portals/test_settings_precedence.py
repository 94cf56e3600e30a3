"""Settings precedence, lowest first: project settings, GOVCRAWL_* environment variables,
the portal declaration's own settings, `-s` on the command line."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from scrapy.crawler import Crawler
from scrapy.settings import Settings
from govcrawl.portals.registry import portal_from_mapping
from govcrawl.spiders.loader import spider_class_for
declared = json.loads(sys.argv[1])
cmdline = json.loads(sys.argv[2])
portal = portal_from_mapping({"id": "probe", "name": "探针", "dialect": "trs",
                              "start_urls": ["http://127.0.0.1/p/index.shtml"],
                              "settings": declared})
settings = Settings()
settings.setmodule("govcrawl.settings", priority="project")
settings.setdict(cmdline, priority="cmdline")
crawler = Crawler(spider_class_for(portal), settings)
print(json.dumps({k: crawler.settings.get(k) for k in
                  ("DOWNLOAD_DELAY", "CONCURRENT_REQUESTS_PER_DOMAIN", "USER_AGENT")}))
"""


def effective(env: dict[str, str], declared: dict, cmdline: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(declared), json.dumps(cmdline)],
        env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_each_level_overrides_the_one_below():
    assert effective({}, {}, {})["DOWNLOAD_DELAY"] == 1.0  # project default
    assert effective({"GOVCRAWL_DOWNLOAD_DELAY": "3"}, {}, {})["DOWNLOAD_DELAY"] == 3.0
    assert effective({"GOVCRAWL_DOWNLOAD_DELAY": "3"}, {"download_delay": 5},
                     {})["DOWNLOAD_DELAY"] == 5
    assert effective({"GOVCRAWL_DOWNLOAD_DELAY": "3"}, {"download_delay": 5},
                     {"DOWNLOAD_DELAY": 7})["DOWNLOAD_DELAY"] == 7


def test_portal_concurrency_and_user_agent():
    got = effective({"GOVCRAWL_USER_AGENT": "Mozilla/5.0 (env)"},
                    {"concurrency": 1, "user_agent": "Mozilla/5.0 (portal)"}, {})
    assert got["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1
    assert got["USER_AGENT"] == "Mozilla/5.0 (portal)"
    assert "govcrawl" in effective({}, {}, {})["USER_AGENT"]
