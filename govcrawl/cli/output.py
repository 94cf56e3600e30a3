"""Output shared by the read commands: one `--format table|jsonl|csv` option (`--json` its
alias), CSV with a BOM for spreadsheets (`--excel`), tables aligned by display width (a Chinese
character fills two columns), dated filters named for what they filter, and help examples.

Kept apart from the commands so `query`, `show`, `stats`, `portals` and `export` print alike.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TextIO

from wcwidth import wcwidth

FORMATS = ("table", "jsonl", "csv")
#: What Excel (Windows, Chinese locale) needs to read a CSV file as UTF-8 instead of GBK.
BOM = "\ufeff"
#: Exit status after the reader of our stdout went away (`| head`): 128 + SIGPIPE, what a
#: shell reports for coreutils in the same place, so `set -o pipefail` scripts see it alike.
BROKEN_PIPE_STATUS = 141


# ------------------------------------------------------------------------------ formats


def add_format_args(parser: argparse.ArgumentParser, formats: Sequence[str] = FORMATS,
                    excel: bool = False, default: str | None = "table") -> None:
    """`--format`, its alias `--json` (= jsonl) and, when CSV is offered, `--excel`.
    `default` None: table on a terminal, jsonl in a pipe or file."""
    said = default or "table on a terminal, jsonl when piped"
    parser.add_argument("--format", choices=formats, help=f"output format (default: {said})")
    parser.set_defaults(default_format=default)
    parser.add_argument("--json", dest="format", action="store_const", const="jsonl",
                        help="same as --format jsonl (one JSON object per line)")
    if excel:
        parser.add_argument("--excel", action="store_true",
                            help="CSV for spreadsheets: starts with a UTF-8 BOM so Excel shows "
                                 "Chinese correctly (implies --format csv)")


def chosen_format(args: argparse.Namespace, out: TextIO | None = None) -> str:
    """The format asked for, else the command's default (or: table on a terminal, jsonl in a
    pipe or file)."""
    from govcrawl.cli import UsageError

    fmt = args.format
    if getattr(args, "excel", False):
        if fmt not in (None, "csv"):
            raise UsageError(f"--excel writes CSV; it cannot be combined with --format {fmt}")
        return "csv"
    if fmt:
        return str(fmt)
    if args.default_format:
        return str(args.default_format)
    return "table" if (out or sys.stdout).isatty() else "jsonl"


def write_csv_records(records: Iterable[dict[str, Any]], out: TextIO, *, body: bool = False,
                      excel: bool = False) -> int:
    """Article records as CSV (with a BOM first when `excel`); returns the number written."""
    from govcrawl.export import write_csv

    if excel:
        out.write(BOM)
    return write_csv(records, out, body=body)


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, out: TextIO, *,
               fieldnames: Sequence[str], excel: bool = False) -> None:
    """Plain rows (already flat for CSV) as JSON lines or CSV (a BOM first when `excel`)."""
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    if excel:
        out.write(BOM)
    writer = csv.DictWriter(out, fieldnames=list(fieldnames), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def quiet_broken_pipe() -> int:
    """After BrokenPipeError on stdout: point stdout at /dev/null so the interpreter's final
    flush cannot fail again (and print "Exception ignored"), and return the exit status."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (tests, embedding)
        pass
    return BROKEN_PIPE_STATUS


# ------------------------------------------------------------------------------ tables


def width(text: str) -> int:
    """Terminal columns `text` fills (wide CJK 2, combining and control characters 0)."""
    return sum(max(0, wcwidth(c)) for c in text)


def fit(text: str, room: int) -> str:
    """`text` cut to at most `room` columns, ending in … when cut."""
    if width(text) <= room:
        return text
    out, used = [], 0
    for c in text:
        w = max(0, wcwidth(c))
        if used + w > room - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…" if room > 0 else ""


def pad(text: str, room: int, right: bool = False) -> str:
    """`text` padded with spaces to `room` columns (on the left when `right`-aligned)."""
    fill = " " * max(0, room - width(text))
    return fill + text if right else text + fill


def terminal_columns() -> int:
    return shutil.get_terminal_size((120, 20)).columns


def write_table(headers: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO, *,
                right: Sequence[str] = (), stretch: str | None = None,
                columns: int | None = None) -> None:
    """Columns aligned by display width, two spaces apart. Headers named in `right` are
    right-aligned (numbers); the `stretch` column is cut so a line fits the terminal."""
    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    cells = [list(r) for r in rows]
    if stretch is not None:
        i = list(headers).index(stretch)
        others = sum(w for j, w in enumerate(widths) if j != i) + 2 * (len(headers) - 1)
        widths[i] = max(10, min(widths[i], (columns or terminal_columns()) - others))
        for r in cells:
            r[i] = fit(r[i], widths[i])
    for line in [list(headers), *cells]:
        out.write("  ".join(pad(c, w, h in right)
                            for c, w, h in zip(line, widths, headers, strict=True)).rstrip()
                  + "\n")


# ------------------------------------------------------------------------------ dated filters


def add_dated_arg(parser: Any, flag: str, help: str, old: str = "--since") -> None:
    """`flag` (e.g. --published-since) and its `old` name, kept as a deprecated alias."""
    parser.add_argument(flag, metavar="YYYY-MM-DD", help=help)
    parser.add_argument(old, dest=_old_dest(old), metavar="YYYY-MM-DD",
                        help=f"deprecated: the same as {flag}")


def _old_dest(old: str) -> str:
    return "old_" + old.lstrip("-").replace("-", "_")


def dated_from(args: argparse.Namespace, flag: str, old: str = "--since") -> date | None:
    """The day given as `flag` or under its deprecated `old` name (noted for
    `warn_deprecated`)."""
    from govcrawl.cli import UsageError
    from govcrawl.cli.query import day

    new = getattr(args, flag.lstrip("-").replace("-", "_"))
    before = getattr(args, _old_dest(old))
    if before is None:
        return day(new, flag)
    if new is not None:
        raise UsageError(f"give {flag} or {old} (its old name), not both")
    value = day(before, old)
    notes = getattr(args, "deprecated", [])
    args.deprecated = [*notes, f"govcrawl: {old} is deprecated here; use {flag} (it means the "
                               "same)"]
    return value


def warn_deprecated(args: argparse.Namespace) -> None:
    """Print the notes `dated_from` collected, once the command line proved usable (a bad
    value is reported in one line, not after a note)."""
    for note in getattr(args, "deprecated", []):
        print(note, file=sys.stderr)


# ------------------------------------------------------------------------------ progress


def progress_text(label: str, done: int, total: int | None, unit: str,
                  elapsed: float) -> str:
    """`export: 1,500 of 12,000 articles (12%), about 0:42 left` (no total: the count and a
    rate)."""
    if not total:
        rate = f", {done / elapsed:,.0f}/s" if elapsed > 0 and done else ""
        return f"{label}: {done:,} {unit}{rate}"
    share = min(done, total) / total
    text = f"{label}: {done:,} of {total:,} {unit} ({share:.0%})"
    if 0 < done < total and elapsed > 0:
        left = math.ceil(elapsed * (total - done) / done)
        text += f", about {left // 60}:{left % 60:02d} left"
    return text


class ProgressLine:
    """A count with its total and an ETA on stderr, redrawn in place at most every
    `interval` seconds; only when stderr is a terminal (quiet in pipes and logs)."""

    def __init__(self, label: str, unit: str, total: int | None = None,
                 stream: TextIO | None = None, interval: float = 0.2,
                 clock: Callable[[], float] = time.monotonic):
        self.label, self.unit, self.total = label, unit, total
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.interval, self.clock = interval, clock
        self.started = clock()
        self.drawn = float("-inf")

    def update(self, done: int) -> None:
        now = self.clock()
        if not self.live or now - self.drawn < self.interval:
            return
        self.drawn = now
        text = fit(progress_text(self.label, done, self.total, self.unit, now - self.started),
                   terminal_columns() - 1)
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()

    def set_total(self, total: int) -> None:
        """The total, once a command knows it (an ETA needs it)."""
        self.total = total

    def message(self, msg: str) -> None:
        """For callers that report progress as text (govcrawl.ingest): its first number."""
        found = re.search(r"\d+", msg)
        if found:
            self.update(int(found.group()))

    def close(self) -> None:
        """Erase the line, so what follows starts on a clean line."""
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# ------------------------------------------------------------------------------ help examples

#: One worked example per command, shown at the end of its --help.
EXAMPLES = {
    "extract": "govcrawl extract --sample",
    "crawl": "govcrawl crawl spp chinapeace",
    "demo": "govcrawl demo --size 20",
    "simulator": "govcrawl simulator --port 8800 --size 20",
    "load-spill": "govcrawl load-spill output/spill-*.jsonl",
    "portals": "govcrawl portals --format csv > portals.csv",
    "save-page": "govcrawl save-page --out saved/ https://www.spp.gov.cn/spp/zdgz/index.shtml",
    "new-portal-test": "govcrawl new-portal-test spp",
    "browse": "govcrawl browse --port 8001",
    "query": 'govcrawl query --search "扫黑除恶" --published-since 2024-01-01 --limit 20',
    "show": "govcrawl show 42",
    "stats": "govcrawl stats --archived-since 2024-01-01",
    "export": "govcrawl export --excel -o hits.csv --search 检察",
    "import": "govcrawl import --warc export.warc.gz",
    "reprocess": "govcrawl reprocess --portal spp --fetched-since 2024-01-01",
    "seed": "govcrawl seed spp chinapeace",
    "workers": "govcrawl workers --all --processes 2",
    "relink": "govcrawl relink --portal spp",
}


class ExampleFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that blank-line-separated paragraphs stay apart and an
    "example:" paragraph is printed as written (a command line must not be re-wrapped)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        fill = super()._fill_text
        return "\n\n".join(indent + p if p.startswith("example:") else fill(p, width, indent)
                            for p in text.split("\n\n"))


def add_examples(subparsers: argparse._SubParsersAction) -> None:
    """Append "example: …" to the help of each command listed in EXAMPLES."""
    for name, parser in subparsers.choices.items():
        example = EXAMPLES.get(name)
        if example is None:
            continue
        parser.formatter_class = ExampleFormatter
        parser.epilog = "\n\n".join(filter(None, [parser.epilog, f"example: {example}"]))
