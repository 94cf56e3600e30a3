"""Portal declarations: validation names the file, portal and field; bad ones are skipped."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from govcrawl.portals.registry import PortalError, load_registry, parse_toml, portal_from_mapping
from tests.conftest import ROOT

GOOD = {
    "id": "demo_trs", "name": "演示长安网", "dialect": "trs",
    "start_urls": ["http://127.0.0.1:8000/demo/index.shtml"],
}


def test_shipped_declarations_load_without_errors():
    registry = load_registry("")
    assert registry.errors == []
    assert {"chinapeace", "spp", "chinacourt", "legaldaily", "sichuanpeace", "hnzf", "gdzf",
            "jl_jcy"} <= set(registry.portals)
    for portal in registry.portals.values():
        assert portal.start_urls and portal.allowed_domains and portal.evidence
        # homepage-evidence portals have no pattern to declare: discovery finds their articles
        assert bool(portal.article_pattern) == (portal.evidence.kind == "pattern"), portal.id


def test_allowed_domains_default_to_the_start_hosts():
    portal = portal_from_mapping(GOOD)
    assert portal.allowed_domains == ("127.0.0.1",)
    assert portal.level == "other"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"dialect": "wordpress"}, "dialect", "is not one of"),
        ({"start_urls": []}, "start_urls", "non-empty"),
        ({"start_urls": ["ftp://x/"]}, "start_urls", "not an http(s) URL"),
        ({"id": "Bad Id"}, "id", "lower-case"),
        ({"level": "galactic"}, "level", "is not one of"),
        ({"article_pattern": "(unclosed"}, "article_pattern", "not a regular expression"),
        ({"selectors": {"title": "div[["}}, "selectors.title", "invalid CSS selector"),
        ({"selectors": {"headline": "h1"}}, "selectors.headline", "unknown selector"),
        ({"settings": {"download_delay": -1}}, "settings.download_delay", "invalid value"),
        ({"settings": {"tls": "ancient"}}, "settings.tls", "invalid value"),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
)
def test_errors_name_the_file_portal_and_field(change, field, message):
    with pytest.raises(PortalError) as caught:
        portal_from_mapping({**GOOD, **change}, source="mine.toml")
    error = caught.value
    assert error.source == "mine.toml"
    assert error.field == field
    assert message in error.message
    assert str(error).startswith("mine.toml: portal ")


def test_missing_name_is_reported():
    entry = {k: v for k, v in GOOD.items() if k != "name"}
    with pytest.raises(PortalError, match=r"field 'name': is required"):
        portal_from_mapping(entry, "mine.toml")


def test_one_bad_entry_is_skipped_and_the_others_load(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(textwrap.dedent("""
        [[portal]]
        id = "good_one"
        name = "好"
        dialect = "generic"
        start_urls = ["http://127.0.0.1/a/"]
        article_pattern = '/a/\\d+\\.html$'

        [[portal]]
        id = "bad_one"
        name = "坏"
        dialect = "nonsense"
        start_urls = ["http://127.0.0.1/b/"]
    """), "utf-8")
    registry = load_registry(str(path))
    assert "good_one" in registry.portals and "bad_one" not in registry.portals
    assert [(e.portal, e.field) for e in registry.errors] == [("bad_one", "dialect")]
    assert "chinapeace" in registry.portals  # the shipped ones are unaffected


def test_invalid_toml_and_duplicates(tmp_path):
    assert parse_toml("[[portal]\nid=", "x.toml")[1][0].message.startswith("not valid TOML")
    dup = tmp_path / "dup.toml"
    dup.write_text('[[portal]]\nid = "spp"\nname = "x"\ndialect = "trs"\n'
                   'start_urls = ["http://127.0.0.1/"]\n', "utf-8")
    registry = load_registry(str(tmp_path))
    # a user's file may replace a shipped declaration (a verified one from `portals check
    # --write`), which is said; a second one of an id among the user's files is an error
    assert registry.get("spp").source == str(dup) and registry.errors == []
    assert registry.replaced == {"spp": "govcrawl/portals/national.toml"}
    (tmp_path / "zz.toml").write_text(dup.read_text("utf-8"), "utf-8")
    registry = load_registry(str(tmp_path))
    assert registry.get("spp").source == str(dup)
    assert any(e.portal == "spp" and "already declared" in e.message for e in registry.errors)


def test_scrapy_list_shows_every_portal_and_survives_a_bad_user_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[portal]]\nid = "broken"\nname = "x"\ndialect = "nope"\n'
                   'start_urls = ["http://127.0.0.1/"]\n', "utf-8")
    env = {"GOVCRAWL_PORTALS": str(bad), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    names = result.stdout.split()
    assert set(load_registry("").portals) <= set(names)
    assert "broken" not in names
    assert "bad.toml: portal 'broken': field 'dialect'" in result.stderr
