"""Parse the project's human-writable labeled page format into JSONL records.

Pages in data/authored/*.txt are written by hand, one line of page text per line of
file, each prefixed with a one-letter label:

    ### id=news-en-001 lang=en site_kind=news style=raw
    N Home > World > Asia
    C Ministers agree on a new water treaty after two days of talks
    K Related: Five things to know about the drought
    F © 2024 Example Media. All rights reserved.

The letter and one space are removed; everything after them is the line, kept as written.
Compile with `python data/build.py` (see data/README.md).
"""
from __future__ import annotations

import re

LABEL_CODES = {"C": "content", "N": "nav", "K": "clickbait", "F": "footer", "?": None}
HEADER_PREFIX = "### "
_FIELD = re.compile(r"(\w+)=(\S+)")


class AuthoredFormatError(ValueError):
    """A line of an authored file that does not follow the format; the message names file and line."""


def parse_authored(text: str, source_name: str = "<string>") -> list[dict]:
    """Return one record {"id", "lines", "labels", **header fields} per page in `text`."""
    pages: list[dict] = []
    current: dict | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        where = f"{source_name}:{number}"
        if not line.strip():
            continue  # blank lines separate pages for readability; page text never has empty lines
        if line.startswith(HEADER_PREFIX):
            fields = dict(_FIELD.findall(line[len(HEADER_PREFIX):]))
            if "id" not in fields:
                raise AuthoredFormatError(f"{where}: page header has no id=...: {line!r}")
            current = {**fields, "lines": [], "labels": []}
            pages.append(current)
            continue
        if current is None:
            raise AuthoredFormatError(f"{where}: text before the first '### id=...' header")
        code, sep, body = line.partition(" ")
        if code not in LABEL_CODES or not sep or not body.strip():
            raise AuthoredFormatError(
                f"{where}: expected '<C|N|K|F|?> <text>', got {line[:60]!r}"
            )
        current["lines"].append(body)
        current["labels"].append(LABEL_CODES[code])
    for page in pages:
        if not page["lines"]:
            raise AuthoredFormatError(f"{source_name}: page {page['id']!r} has no lines")
    return pages
