"""Compile the hand-written pages in data/authored/*.txt into data/pages.jsonl.

    python data/build.py            # rebuild data/pages.jsonl (deterministic, sorted by id)
    python data/build.py --check    # only validate; exit 1 and name the file:line on an error

The JSONL file is what `python -m train` reads; the .txt files are the source of truth.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from boilercut.authored import AuthoredFormatError, parse_authored
from boilercut.data import validate_records

HERE = Path(__file__).resolve().parent
# The corpus spec (issue 3): pages of 5 to 300 lines. A shorter page teaches little about
# where boilerplate sits; a longer one would outweigh dozens of others.
MIN_LINES, MAX_LINES = 5, 300


def compile_pages(paths: list[Path]) -> list[dict]:
    records = []
    for path in paths:
        for page in parse_authored(path.read_text(encoding="utf-8"), source_name=str(path)):
            page.setdefault("source", f"authored/{path.name}")
            records.append(page)
    validate_records(records)
    for page in records:
        if not MIN_LINES <= len(page["lines"]) <= MAX_LINES:
            raise ValueError(f"{page['source']}: page {page['id']} has {len(page['lines'])} lines; "
                             f"authored pages have {MIN_LINES} to {MAX_LINES}")
    return sorted(records, key=lambda r: r["id"])


def print_stats(records: list[dict]) -> None:
    from collections import Counter

    for field in ("site_kind", "lang", "style"):
        pages = Counter(r.get(field) for r in records)
        lines = Counter()
        for r in records:
            lines[r.get(field)] += len(r["lines"])
        print(f"{field}: " + ", ".join(f"{k} {pages[k]} pages / {lines[k]} lines" for k in sorted(pages)))
    labels = Counter(lab for r in records for lab in r["labels"])
    print("labels: " + ", ".join(f"{k} {v}" for k, v in labels.most_common()))
    sizes = sorted(len(r["lines"]) for r in records)
    print(f"page length: min {sizes[0]}, median {sizes[len(sizes) // 2]}, max {sizes[-1]} lines")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="authored .txt files (default: data/authored/*.txt)")
    ap.add_argument("--check", action="store_true", help="validate only, write nothing")
    ap.add_argument("--out", type=Path, default=HERE / "pages.jsonl")
    ap.add_argument("--stats", action="store_true", help="also print pages and lines by site kind, language, style and label")
    args = ap.parse_args(argv)
    paths = args.files or sorted((HERE / "authored").glob("*.txt"))
    try:
        records = compile_pages(paths)
    except (AuthoredFormatError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    n_lines = sum(len(r["lines"]) for r in records)
    print(f"{len(records)} pages, {n_lines} lines from {len(paths)} files", file=sys.stderr)
    if args.stats:
        print_stats(records)
    if not args.check:
        tmp = args.out.with_suffix(".jsonl.tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        tmp.replace(args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
