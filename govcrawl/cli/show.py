"""`govcrawl show ID|URL`: one archived article with everything known about how it was made."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from govcrawl.cli import UsageError
from govcrawl.cli.output import add_format_args, chosen_format, fit, pad, terminal_columns, width
from govcrawl.cli.query import add_database_arg, open_to_read
from govcrawl.store import read as R


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "show", help="one article: fields with provenance, copies, versions, raw response",
        description="Show an archived article by id or URL: every field and where it came "
                    "from, the byline as found, the encoding decision and repairs, the same "
                    "story on other portals, versions, removals, media and the raw response.")
    parser.add_argument("article", metavar="ID|URL")
    add_format_args(parser, formats=("table", "jsonl"))
    add_database_arg(parser)
    parser.set_defaults(func=run)


def _one_line(value: Any, room: int = 100) -> str:
    """`value` on one line, cut to `room` terminal columns (a Chinese character fills two)."""
    text = "—" if value is None else str(value).replace("\n", " ⏎ ")
    return fit(text, room)


def render(a: dict[str, Any], columns: int | None = None) -> str:
    """The human-readable report, field values cut to fit `columns` (the terminal's)."""
    tags = [f"[{f['provenance'] or '—'}]" for f in a["fields"].values()]
    room = max(20, min(70, (columns or terminal_columns()) - 24 - max(map(width, tags))))
    lines = [f"== article {a['id']}  {a['url']}",
             f"portal:      {a['portal']} ({a['portal_name'] or '?'}"
             + (f", {a['province']}" if a["province"] else "") + ")",
             f"first seen:  {a['first_seen']}   last seen: {a['last_seen']}", "", "fields:"]
    for (name, f), tag in zip(a["fields"].items(), tags, strict=True):
        lines.append(f"  {name:<20} {pad(_one_line(f['value'], room), room)} {tag}")
    lines.append(f"  {'byline as found':<20} {_one_line(a['byline_raw'], room)}")
    enc = a["encoding"]
    if enc:
        lines.append(f"encoding:    {enc['name']} ({enc['reason']}, confidence "
                     f"{enc['confidence']}, {enc['replaced_bytes']} bytes replaced)")
    lines.append(f"script:      {a['script']}{' (mirror copy)' if a['is_mirror'] else ''}")
    lines.append(f"repairs:     {', '.join(a['repairs']) or 'none'}")
    lines.append(f"warnings:    {', '.join(a['warnings']) or 'none'}")
    lines.append("")
    if a["group"]:
        role = (f"copy of {a['duplicate_of']} (similarity {a['similarity']:.3f})"
                if a["duplicate_of"] else "group head")
        lines.append(f"same article elsewhere ({role}):")
        for m in a["group"]:
            sim = "head" if m["head"] else f"{m['similarity']:.3f}" if m["similarity"] else "—"
            lines.append(f"  {m['id']:>6}  {pad(m['portal'], 14)} {sim:<6} "
                         f"{m['published_at'] or '':<26} {m['url']}")
    else:
        lines.append("same article elsewhere: none")
    if a["versions"]:
        lines.append("versions:")
        for v in a["versions"]:
            lines.append(f"  {v['observed_at']}:")
            for name, ch in v["changed"].items():
                lines.append(f"    {name}: {_one_line(ch['old'], 40)} → {_one_line(ch['new'], 40)}")
    else:
        lines.append("versions:    none")
    lines.append(f"removed:     {a['removed_at'] or 'no'}")
    for e in a["events"]:
        detail = json.dumps(e["detail"], ensure_ascii=False)
        lines.append(f"  event {e['at']}: {e['event']} {detail}")
    if a["media"]:
        lines.append("media:")
        lines += [f"  {m['kind']:<10} {m['url']}  {m['text'] or ''}" for m in a["media"]]
    r = a["response"]
    if r:
        lines += ["", "raw response:",
                  f"  {r['method']} {r['url']} → {r['status']}"
                  + (f" (final URL {r['final_url']})" if r["final_url"] not in (None, r["url"])
                     else ""),
                  f"  fetched {r['fetched_at']}, {r['size']} bytes, sha256 {r['sha256']}"]
        lines += [f"  {k}: {v}" for k, v in r["headers"].items()]
    if len(a["fetches"]) > 1:
        lines.append(f"fetches of this URL: {len(a['fetches'])}")
        lines += [f"  {f['fetched_at']} status {f['status']} {f['kind']} {f['sha256'][:16]}"
                  for f in a["fetches"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    archive = open_to_read(args.database)
    with archive:
        try:
            article = R.show_article(archive, args.article)
        except R.NotFound as exc:
            raise UsageError(str(exc)) from None
    if chosen_format(args) == "jsonl":
        print(json.dumps(article, ensure_ascii=False))
    else:
        sys.stdout.write(render(article) + "\n")
    return 0
