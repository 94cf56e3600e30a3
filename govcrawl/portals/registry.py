"""Portal declarations: load, validate and look up the TOML entries that describe each portal.

A portal is data, so a researcher adds one without writing Python. The package ships its own
declarations (govcrawl/portals/*.toml); `GOVCRAWL_PORTALS` (paths separated by the OS path
separator, files or folders of *.toml) adds a user's. Every error names the file, the portal
and the field; one bad user declaration is reported and skipped, never breaking the others.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DIALECTS = ("trs", "hanweb", "chinapeace", "founder", "chinacourt", "generic", "discover")
LEVELS = ("national", "provincial", "city", "county", "other")
SELECTOR_KEYS = frozenset({
    "title", "body", "byline", "source", "author", "editor", "published_at", "list_links",
    "next_page",
})
SETTING_KEYS = frozenset({
    "download_delay", "concurrency", "tls", "user_agent", "autothrottle", "robots",
})
EVIDENCE_KINDS = ("pattern", "homepage")
CONFIDENCE_LEVELS = ("high", "medium", "low")
EVIDENCE_KEYS = frozenset({"kind", "year", "source", "url", "confidence"})
_ID_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class PortalError(ValueError):
    """An invalid declaration: says which file, which portal and which field."""

    def __init__(self, source: str, portal: str | None, field_name: str | None, message: str):
        self.source, self.portal, self.field, self.message = source, portal, field_name, message
        where = source + (f": portal {portal!r}" if portal else "")
        where += f": field {field_name!r}" if field_name else ""
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Evidence:
    """How a declaration's address and article pattern are known, so users can weigh it.

    kind "pattern": an article URL on the host was seen, so the pattern is documented;
    "homepage": only the home page is known and articles are found by discovery. `year` is
    when the evidence was written, `source` where it was seen, `url` the URL seen.
    """

    kind: str
    year: int
    source: str
    url: str | None = None
    confidence: str | None = None


@dataclass(frozen=True)
class Portal:
    """One portal: where its channels are, how its CMS pages, and how to be polite to it."""

    id: str
    name: str
    dialect: str
    start_urls: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    level: str = "other"
    province: str | None = None
    article_pattern: str | None = None
    selectors: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    dialect_options: Mapping[str, Any] = field(default_factory=dict)
    evidence: Evidence | None = None
    source: str = "<memory>"

    def article_regex(self) -> re.Pattern[str] | None:
        return re.compile(self.article_pattern) if self.article_pattern else None

    def evidence_label(self) -> str | None:
        """"homepage 2022 low": how the address is known, in a word, a year and a level."""
        e = self.evidence
        return " ".join(str(v) for v in (e.kind, e.year, e.confidence) if v) if e else None


def _require(entry: Mapping[str, Any], key: str, kind: type, source: str, pid: str | None):
    if key not in entry:
        raise PortalError(source, pid, key, "is required")
    value = entry[key]
    if not isinstance(value, kind):
        raise PortalError(source, pid, key, f"must be a {kind.__name__}, got {value!r}")
    return value


def _evidence(value: Any, source: str, pid: str) -> Evidence:
    if not isinstance(value, Mapping):
        raise PortalError(source, pid, "evidence", "must be a table: kind, year, source")
    for key in value:
        if key not in EVIDENCE_KEYS:
            raise PortalError(source, pid, f"evidence.{key}",
                              f"unknown field (known: {', '.join(sorted(EVIDENCE_KEYS))})")
    for key in ("kind", "year", "source"):
        if key not in value:
            raise PortalError(source, pid, f"evidence.{key}", "is required")
    kind, year, where = value["kind"], value["year"], value["source"]
    if kind not in EVIDENCE_KINDS:
        raise PortalError(source, pid, "evidence.kind", f"{kind!r} is not one of {EVIDENCE_KINDS}")
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
        raise PortalError(source, pid, "evidence.year", f"must be a year, got {year!r}")
    if not isinstance(where, str) or not where.strip():
        raise PortalError(source, pid, "evidence.source", "must say where the evidence is from")
    url = value.get("url")
    if url is not None and (not isinstance(url, str)
                            or urlsplit(url).scheme not in ("http", "https")):
        raise PortalError(source, pid, "evidence.url", f"{url!r} is not an http(s) URL")
    confidence = value.get("confidence")
    if confidence is not None and confidence not in CONFIDENCE_LEVELS:
        raise PortalError(source, pid, "evidence.confidence",
                          f"{confidence!r} is not one of {CONFIDENCE_LEVELS}")
    return Evidence(kind, year, where, url, confidence)


def _host_only(domain: str) -> str:
    """`127.0.0.1:8000` → `127.0.0.1`: Scrapy's offsite filter ignores a domain with a port,
    which silently drops every request, so the port is taken off here."""
    return urlsplit("//" + domain).hostname or domain


def portal_from_mapping(entry: Mapping[str, Any], source: str = "<memory>",
                        require_evidence: bool = False) -> Portal:
    """Validate one declaration; raises PortalError naming the field at fault.

    `evidence` is required of the package's own declarations (`require_evidence`) and
    checked whenever given.
    """
    if not isinstance(entry, Mapping):
        raise PortalError(source, None, None, "a portal entry must be a table")
    pid = entry.get("id") if isinstance(entry.get("id"), str) else None
    known = {"id", "name", "dialect", "start_urls", "allowed_domains", "level", "province",
             "article_pattern", "selectors", "settings", "dialect_options", "evidence"}
    for key in entry:
        if key not in known:
            raise PortalError(source, pid, key,
                              f"unknown field (known: {', '.join(sorted(known))})")
    pid = _require(entry, "id", str, source, pid)
    if not _ID_RE.match(pid):
        raise PortalError(source, pid, "id", "must be lower-case letters, digits or _ "
                          "(it is the spider name)")
    name = _require(entry, "name", str, source, pid)
    dialect = _require(entry, "dialect", str, source, pid)
    if dialect not in DIALECTS:
        raise PortalError(source, pid, "dialect", f"{dialect!r} is not one of {DIALECTS}")
    start_urls = _require(entry, "start_urls", list, source, pid)
    if not start_urls or not all(isinstance(u, str) for u in start_urls):
        raise PortalError(source, pid, "start_urls", "must be a non-empty list of URLs")
    for url in start_urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PortalError(source, pid, "start_urls", f"{url!r} is not an http(s) URL")
    domains = entry.get("allowed_domains") or sorted({urlsplit(u).hostname for u in start_urls})
    if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
        raise PortalError(source, pid, "allowed_domains", "must be a list of host names")
    for domain in domains:
        if "/" in domain or not _host_only(domain):
            raise PortalError(source, pid, "allowed_domains",
                              f"{domain!r} is not a host name (no scheme or path)")
    domains = list(dict.fromkeys(_host_only(d) for d in domains))
    level = entry.get("level", "other")
    if level not in LEVELS:
        raise PortalError(source, pid, "level", f"{level!r} is not one of {LEVELS}")
    province = entry.get("province")
    if province is not None and not isinstance(province, str):
        raise PortalError(source, pid, "province", "must be a string")
    pattern = entry.get("article_pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise PortalError(source, pid, "article_pattern",
                              f"not a regular expression: {exc}") from exc
    selectors = entry.get("selectors", {})
    if not isinstance(selectors, Mapping):
        raise PortalError(source, pid, "selectors", "must be a table")
    for key, value in selectors.items():
        if key not in SELECTOR_KEYS:
            raise PortalError(source, pid, f"selectors.{key}",
                              f"unknown selector (known: {', '.join(sorted(SELECTOR_KEYS))})")
        if not isinstance(value, str) or not value.strip():
            raise PortalError(source, pid, f"selectors.{key}", "must be a CSS selector string")
        _check_css(value, source, pid, f"selectors.{key}")
    settings = entry.get("settings", {})
    if not isinstance(settings, Mapping):
        raise PortalError(source, pid, "settings", "must be a table")
    for key, value in settings.items():
        if key not in SETTING_KEYS:
            raise PortalError(source, pid, f"settings.{key}",
                              f"unknown setting (known: {', '.join(sorted(SETTING_KEYS))})")
        _check_setting(key, value, source, pid)
    options = entry.get("dialect_options", {})
    if not isinstance(options, Mapping):
        raise PortalError(source, pid, "dialect_options", "must be a table")
    evidence = None
    if "evidence" in entry:
        evidence = _evidence(entry["evidence"], source, pid)
    elif require_evidence:
        raise PortalError(source, pid, "evidence", "is required: kind = \"pattern\" | "
                          "\"homepage\", year, source (where the address was seen)")
    return Portal(
        id=pid, name=name, dialect=dialect, start_urls=tuple(start_urls),
        allowed_domains=tuple(domains), level=level, province=province,
        article_pattern=pattern, selectors=dict(selectors), settings=dict(settings),
        dialect_options=dict(options), evidence=evidence, source=source,
    )


def _check_css(selector: str, source: str, pid: str, key: str) -> None:
    from cssselect import GenericTranslator, SelectorError

    try:
        GenericTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        raise PortalError(source, pid, key, f"invalid CSS selector {selector!r}: {exc}") from exc


def _check_setting(key: str, value: Any, source: str, pid: str) -> None:
    ok = {
        "download_delay": isinstance(value, int | float) and not isinstance(value, bool)
        and value >= 0,
        "concurrency": isinstance(value, int) and not isinstance(value, bool) and value >= 1,
        "tls": value in ("default", "legacy"),
        "user_agent": isinstance(value, str) and bool(value.strip()),
        "autothrottle": isinstance(value, bool),
        "robots": isinstance(value, bool),
    }[key]
    if not ok:
        raise PortalError(source, pid, f"settings.{key}", f"invalid value {value!r}")


def parse_toml(text: str, source: str,
               require_evidence: bool = False) -> tuple[list[Portal], list[PortalError]]:
    """Every valid portal of one TOML document, and an error for each invalid one."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [PortalError(source, None, None, f"not valid TOML: {exc}")]
    entries = document.get("portal", [])
    if not isinstance(entries, list):
        return [], [PortalError(source, None, "portal", "use [[portal]] tables, one per portal")]
    portals, errors = [], []
    for entry in entries:
        try:
            portals.append(portal_from_mapping(entry, source, require_evidence))
        except PortalError as exc:
            errors.append(exc)
    return portals, errors


def _user_files(spec: str) -> Iterable[Path]:
    for part in filter(None, spec.split(os.pathsep)):
        path = Path(part).expanduser()
        if path.is_dir():
            yield from sorted(path.glob("*.toml"))
        else:
            yield path


@dataclass
class Registry:
    """All known portals by id, plus the errors met while loading them."""

    portals: dict[str, Portal] = field(default_factory=dict)
    errors: list[PortalError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # every declaration file read, in order
    replaced: dict[str, str] = field(default_factory=dict)  # id → shipped source it replaced

    def add(self, portal: Portal, replace_shipped: bool = False) -> None:
        """Add a declaration; a second one of an id is an error, except that a user's file may
        replace a shipped declaration (`replace_shipped`: how `portals check --write` output,
        a verified declaration, takes effect)."""
        held = self.portals.get(portal.id)
        if held is not None and replace_shipped and held.source.startswith("govcrawl/portals/"):
            self.replaced[portal.id] = held.source
            self.portals[portal.id] = portal
            return
        if portal.id in self.portals:
            self.errors.append(PortalError(
                portal.source, portal.id, "id",
                f"already declared in {self.portals[portal.id].source}; this one is skipped"))
            return
        self.portals[portal.id] = portal

    def get(self, portal_id: str) -> Portal:
        try:
            return self.portals[portal_id]
        except KeyError:
            raise KeyError(f"unknown portal {portal_id!r}") from None


def load_registry(user_spec: str | None = None, include_shipped: bool = True) -> Registry:
    """The shipped declarations plus the user's (`GOVCRAWL_PORTALS` when not given)."""
    registry = Registry()
    if include_shipped:
        for item in sorted(resources.files("govcrawl.portals").iterdir(), key=lambda p: p.name):
            if item.name.endswith(".toml"):
                source = f"govcrawl/portals/{item.name}"
                registry.files.append(source)
                portals, errors = parse_toml(item.read_text("utf-8"), source,
                                             require_evidence=True)
                for portal in portals:
                    registry.add(portal)
                registry.errors.extend(errors)
    spec = user_spec if user_spec is not None else os.environ.get("GOVCRAWL_PORTALS", "")
    for path in _user_files(spec):
        registry.files.append(str(path))
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            registry.errors.append(PortalError(str(path), None, None, f"cannot read: {exc}"))
            continue
        portals, errors = parse_toml(text, str(path))
        for portal in portals:
            registry.add(portal, replace_shipped=True)
        registry.errors.extend(errors)
    return registry


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value + "'" if "'" not in value and "\n" not in value \
            else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(portals: Iterable[Portal]) -> str:
    """Declarations as a TOML document that load_registry reads back unchanged."""
    out = []
    for portal in portals:
        out.append("[[portal]]")
        for key in ("id", "name", "level", "province", "dialect", "allowed_domains",
                    "start_urls", "article_pattern"):
            value = getattr(portal, key)
            if isinstance(value, tuple):
                value = list(value)
            if value is not None:
                out.append(f"{key} = {_toml_value(value)}")
        tables = {"selectors": portal.selectors, "settings": portal.settings,
                  "dialect_options": portal.dialect_options}
        if portal.evidence is not None:
            tables["evidence"] = {k: v for k, v in vars(portal.evidence).items()
                                  if v is not None}
        for table, values in tables.items():
            if values:
                out.append(f"[portal.{table}]")
                out.extend(f"{k} = {_toml_value(v)}" for k, v in values.items())
        out.append("")
    return "\n".join(out)
