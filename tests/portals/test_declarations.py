"""Every province declared, each declaration saying how its address is known (issue 19)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from govcrawl.portals.registry import PortalError, load_registry, parse_toml, portal_from_mapping
from tests.conftest import ROOT

PROVINCES = ("北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏",
             "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南",
             "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆")
REGISTRY = load_registry("")
PORTALS = sorted(REGISTRY.portals.values(), key=lambda p: p.id)
ENTRY = {"id": "mine", "name": "我的", "dialect": "discover",
         "start_urls": ["http://127.0.0.1:8765/mine/"]}


def test_every_province_has_one_provincial_portal_declaration() -> None:
    # the provincial 长安网 / 政法网; 吉林's procuratorate (jl_jcy) is the one other
    portals = [p for p in PORTALS if p.level == "provincial" and p.province
               and "jcy" not in p.id]
    provinces = [p.province for p in portals]
    assert sorted(set(provinces) & set(PROVINCES)) == sorted(PROVINCES)
    assert len(provinces) == len(set(provinces))
    assert {"gy_chinacourt", "jcy_provincial", "chinapeace"} <= set(REGISTRY.portals)


@pytest.mark.parametrize("portal", PORTALS, ids=lambda p: p.id)
def test_each_declaration_carries_evidence_that_fits_it(portal) -> None:
    evidence = portal.evidence
    assert evidence is not None and evidence.kind in ("pattern", "homepage")
    assert 2000 <= evidence.year <= 2026 and evidence.source and evidence.confidence
    assert urlsplit(evidence.url).hostname in portal.allowed_domains
    if evidence.kind == "pattern":  # the URL seen is an article the pattern accepts
        assert re.search(portal.article_pattern, evidence.url), evidence.url
    else:  # only a home page is known: discovery, from it
        assert portal.dialect == "discover" and portal.article_pattern is None
        assert evidence.url in portal.start_urls
    for url in portal.start_urls:
        assert urlsplit(url).hostname in portal.allowed_domains


def test_shipped_declarations_require_evidence_with_a_one_line_error() -> None:
    text = '[[portal]]\nid = "mine"\nname = "我的"\ndialect = "discover"\n' \
           'start_urls = ["http://127.0.0.1/"]\n'
    portals, errors = parse_toml(text, "govcrawl/portals/x.toml", require_evidence=True)
    assert portals == [] and len(errors) == 1
    assert str(errors[0]).startswith("govcrawl/portals/x.toml: portal 'mine': field "
                                     "'evidence': is required")
    assert "\n" not in str(errors[0])
    assert parse_toml(text, "mine.toml")[0]  # a user's own file may leave it out


@pytest.mark.parametrize(("evidence", "field", "message"), [
    ({"kind": "rumour", "year": 2024, "source": "x"}, "evidence.kind", "is not one of"),
    ({"kind": "homepage", "source": "x"}, "evidence.year", "is required"),
    ({"kind": "homepage", "year": "2022", "source": "x"}, "evidence.year", "must be a year"),
    ({"kind": "homepage", "year": 2022, "source": " "}, "evidence.source", "must say where"),
    ({"kind": "homepage", "year": 2022, "source": "x", "url": "ftp://x"}, "evidence.url",
     "not an http(s) URL"),
    ({"kind": "homepage", "year": 2022, "source": "x", "confidence": "certain"},
     "evidence.confidence", "is not one of"),
    ({"kind": "homepage", "year": 2022, "source": "x", "seen": "y"}, "evidence.seen",
     "unknown field"),
    ("pattern", "evidence", "must be a table"),
])
def test_invalid_evidence_names_the_field(evidence, field, message) -> None:
    with pytest.raises(PortalError) as caught:
        portal_from_mapping({**ENTRY, "evidence": evidence}, "mine.toml")
    assert caught.value.field == field and message in caught.value.message


def test_a_port_in_allowed_domains_is_taken_off() -> None:
    # Scrapy's offsite filter ignores a domain with a port: every request would be dropped.
    portal = portal_from_mapping({**ENTRY, "allowed_domains": ["127.0.0.1:8765"]})
    assert portal.allowed_domains == ("127.0.0.1",)
    with pytest.raises(PortalError, match="not a host name"):
        portal_from_mapping({**ENTRY, "allowed_domains": ["http://127.0.0.1/"]})


def test_evidence_round_trips_through_to_toml() -> None:
    from govcrawl.portals.registry import to_toml

    again, errors = parse_toml(to_toml(PORTALS), "again.toml", require_evidence=True)
    assert errors == [] and again == [p.__class__(**{**vars(p), "source": "again.toml"})
                                      for p in PORTALS]


def test_the_registry_lists_the_files_it_read(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text("", "utf-8")
    registry = load_registry(str(mine))
    assert "govcrawl/portals/provincial.toml" in registry.files
    assert registry.files[-1] == str(mine)


def test_no_file_in_the_repository_points_at_the_shared_notes() -> None:
    needle = "/".join(("..", "shared"))  # spelt so this file does not contain it
    suffixes = {".py", ".md", ".toml", ".txt", ".json", ".cfg", ".yml", ".yaml", ".ini", ".html"}
    skip = {".git", "build", "output", ".venv", "node_modules", "__pycache__"}
    offenders = []
    for path in ROOT.rglob("*"):
        if path.suffix in suffixes and not skip & set(path.relative_to(ROOT).parts) \
                and path.is_file() and needle in path.read_text("utf-8", "replace"):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_readme_table_lists_every_declaration_with_its_evidence() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    table = readme.split("## Declared portals", 1)[1].split("\n\n", 2)[1]
    rows = {cells[1]: cells for cells in (
        [c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:])}
    assert set(rows) == set(REGISTRY.portals)
    for pid, portal in REGISTRY.portals.items():
        province, _pid, _name, evidence, confidence, _dialect = rows[pid]
        assert evidence == f"{portal.evidence.kind} {portal.evidence.year}"
        assert confidence == portal.evidence.confidence
        if portal.province:
            assert province == portal.province
    assert set(PROVINCES) <= {cells[0] for cells in rows.values()}


def test_docs_portals_section_7_names_every_provincial_host() -> None:
    section = (ROOT / "docs" / "portals.md").read_text("utf-8").split("## 7.", 1)[1]
    for portal in PORTALS:
        if portal.province:
            for host in portal.allowed_domains:
                assert host in section, (portal.id, host)
