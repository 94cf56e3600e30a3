"""An outside reader, as a user's script or DB Browser is: `python sqlite_reader.py DB STOP`.

Opens and closes a plain connection to the archive over and over (count the articles, read
the runs) until the file STOP exists, then prints one JSON line: iterations and errors.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path


def main(db: str, stop: str) -> None:
    done, errors, last = 0, [], 0
    while not Path(stop).exists():
        try:
            conn = sqlite3.connect(db)
            try:
                count = conn.execute("select count(*) from articles").fetchone()[0]
                conn.execute("select * from runs").fetchall()
            finally:
                conn.close()
            if count < last:  # committed articles never disappear
                errors.append(f"articles went from {last} to {count}")
            last = count
            done += 1
        except sqlite3.Error as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.01)
    print(json.dumps({"iterations": done, "errors": errors[:20], "error_count": len(errors),
                      "last_count": last}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
