"""`govcrawl extract FILE...`: decode, repair and extract saved pages exactly as the crawl does."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

from govcrawl.cli import UsageError
from govcrawl.cli.output import add_format_args, chosen_format
from govcrawl.extract import extract_page
from govcrawl.text.decode import decode_body
from govcrawl.text.repair import repair_document


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="decode, repair and extract saved pages (HTML or text)",
        description=(
            "Decode, repair and extract saved pages the way the crawl does. A sidecar "
            "<stem>.json beside a page supplies its url, status and headers."
        ),
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="saved page (raw bytes)")
    parser.add_argument("--sample", action="store_true",
                        help="also extract the bundled content-farm mirror sample")
    parser.add_argument("--url", help="the page's URL (overrides the sidecar)")
    parser.add_argument("--headers", metavar="FILE", help="JSON object of response headers")
    add_format_args(parser, formats=("table", "jsonl"))  # table: the fields, for a person
    parser.set_defaults(func=run)


def _sidecar(path: Path) -> dict[str, Any]:
    sidecar = path.with_suffix(".json")
    if sidecar == path or not sidecar.is_file():
        return {}
    try:
        data = json.loads(sidecar.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"unreadable sidecar {sidecar}: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _load_headers(path: str | None) -> dict[str, str] | None:
    if path is None:
        return None
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"--headers {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"--headers {path}: expected a JSON object of headers")
    return {str(k): str(v) for k, v in data.items()}


def extract_file(path: Path, url: str | None = None,
                 headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything `extract --json` prints for one saved page."""
    body = path.read_bytes()
    sidecar = _sidecar(path)
    url = url or sidecar.get("url") or path.resolve().as_uri()
    if headers is None:
        headers = {str(k): str(v) for k, v in (sidecar.get("headers") or {}).items()}
    if path.suffix.lower() == ".txt" and not any(k.lower() == "content-type" for k in headers):
        headers = {**headers, "Content-Type": "text/plain"}
    status = int(sidecar.get("status") or 200)
    decoded = decode_body(body, headers)
    repaired = repair_document(decoded.text)
    page = extract_page(body, url, status=status, headers=headers)
    record = {
        "file": str(path),
        "url": url,
        "status": status,
        "encoding": {
            "name": decoded.encoding,
            "reason": decoded.reason,
            "confidence": decoded.confidence,
            "declared_header": decoded.declared_header,
            "declared_meta": decoded.declared_meta,
            "replaced": decoded.replaced,
        },
        "repairs": page.repairs,
        "warnings": page.warnings,
        "text": repaired.text,
    }
    fields = asdict(page)
    for key in ("url", "status", "encoding", "encoding_reason", "encoding_confidence",
                "replaced_bytes", "repairs", "warnings"):
        fields.pop(key)
    record.update(fields)
    return record


def _human(record: dict[str, Any]) -> str:
    enc = record["encoding"]
    lines = [
        f"== {record['file']}",
        f"url:        {record['url']}",
        f"encoding:   {enc['name']} ({enc['reason']}, confidence {enc['confidence']})",
        f"kind:       {record['kind']}" + (f" ({record['reason']})" if record["reason"] else ""),
    ]
    for key in ("title", "source", "author", "editor", "published_at"):
        if record.get(key):
            lines.append(f"{key + ':':<11} {record[key]}")
    if record["repairs"]:
        lines.append(f"repairs:    {', '.join(record['repairs'])}")
    if record["warnings"]:
        lines.append(f"warnings:   {', '.join(record['warnings'])}")
    if record.get("body_text"):
        lines.append("")
        lines.append(record["body_text"])
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    headers = _load_headers(args.headers)
    paths = [Path(name) for name in args.files]
    if args.sample:
        paths.append(Path(str(resources.files("govcrawl.samples") / "farm-mirror-article.txt")))
    if not paths:
        raise UsageError("give at least one FILE, or --sample")
    failed = 0
    for path in paths:
        name = str(path)
        try:
            record = extract_file(path, args.url, headers)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"govcrawl extract: {name}: {reason}", file=sys.stderr)
            failed += 1
            continue
        if chosen_format(args) == "jsonl":
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(_human(record))
    return 1 if failed else 0
