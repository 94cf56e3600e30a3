"""Coverage by province: which portals each province has, how sure their addresses are, and
what the archive holds from them (last article, articles per month).

`province_coverage` is pure (declarations + counts in, rows out); `archive_counts` is the one
read it needs. Used by `govcrawl stats --by-province`; the browse page `coverage_by_province`
asks the same of the archive in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from govcrawl.portals.registry import Portal

PROVINCES = ("北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏",
             "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南",
             "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆",
             "新疆兵团")
NATIONAL = "(national)"
OTHER = "(no province)"


@dataclass
class Coverage:
    """One portal's row: declaration facts and what the archive holds."""

    province: str
    portal: str
    name: str
    evidence: str | None  # "homepage 2022 low"; None for a portal no longer declared
    declared: bool
    articles: int = 0
    last_published: str | None = None  # YYYY-MM-DD
    per_month: dict[str, int] = field(default_factory=dict)  # YYYY-MM → articles

    def recent(self, months: list[str]) -> list[int]:
        return [self.per_month.get(m, 0) for m in months]


def _order(province: str) -> tuple[int, str]:
    if province == NATIONAL:
        return (-1, "")
    if province in PROVINCES:
        return (PROVINCES.index(province), "")
    return (len(PROVINCES) + (province == OTHER), province)


def province_coverage(declared: Iterable[Portal],
                      counts: Mapping[str, Mapping[str, Any]]) -> list[Coverage]:
    """Every declared portal, and every archived one no longer declared, by province.

    `counts[portal_id]` holds `name`, `province`, `level` (from the archive) and `per_month`,
    `last_published`.
    """
    rows: list[Coverage] = []
    seen = set()
    for portal in declared:
        seen.add(portal.id)
        held = counts.get(portal.id, {})
        province = portal.province or (NATIONAL if portal.level == "national" else OTHER)
        rows.append(Coverage(province, portal.id, portal.name, portal.evidence_label(), True,
                             sum(held.get("per_month", {}).values()),
                             held.get("last_published"), dict(held.get("per_month", {}))))
    for pid, held in counts.items():
        if pid in seen:
            continue
        province = held.get("province") or (NATIONAL if held.get("level") == "national"
                                            else OTHER)
        rows.append(Coverage(province, pid, held.get("name") or pid, None, False,
                             sum(held.get("per_month", {}).values()), held.get("last_published"),
                             dict(held.get("per_month", {}))))
    rows.sort(key=lambda r: (_order(r.province), r.portal))
    return rows


def months_up_to(last: str, n: int) -> list[str]:
    """The n calendar months ending with `last` (YYYY-MM), oldest first."""
    year, month = (int(x) for x in last.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def archive_counts(db: Any) -> dict[str, dict[str, Any]]:
    """Per archived portal: name, province, level, articles per publish month (undated
    articles under ""), and the newest publish day. One grouped read."""
    from sqlalchemy import func, select

    from govcrawl.store.schema import articles, portals

    month = func.substr(articles.c.published_at, 1, 7)
    out: dict[str, dict[str, Any]] = {}
    engine = getattr(db, "read_engine", db)
    with engine.connect() as conn:
        for row in conn.execute(select(portals.c.id, portals.c.name, portals.c.province,
                                       portals.c.level)):
            out[row.id] = {"name": row.name, "province": row.province, "level": row.level,
                           "per_month": {}, "last_published": None}
        query = (select(articles.c.portal_id, month.label("month"), func.count(),
                        func.max(articles.c.published_at))
                 .group_by(articles.c.portal_id, month))
        for pid, key, count, newest in conn.execute(query):
            held = out.setdefault(pid, {"name": pid, "province": None, "level": None,
                                        "per_month": {}, "last_published": None})
            held["per_month"][key or ""] = count
            if newest and (held["last_published"] or "") < newest[:10]:
                held["last_published"] = newest[:10]
    return out
