"""Compile the hand-written pages (data/authored/*.txt, data/html/<site>/) into data/pages.jsonl.

    python data/build.py            # rebuild data/pages.jsonl (deterministic, sorted by id)
    python data/build.py --check    # only validate; exit 1 and name the file:line on an error
    python data/build.py --show html/oakline/oak-desk.html   # print a rendered page's lines and labels

The JSONL file is what `python -m train` reads; the .txt and .html files are the source
of truth. HTML sites are rendered by trafilatura and Resiliparse (pip install -e .[data]).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from boilercut.authored import AuthoredFormatError, parse_authored
from boilercut.data import validate_records
from boilercut.html_pages import HtmlPageError, render_site

HERE = Path(__file__).resolve().parent
# The corpus spec (issue 3): pages of 5 to 300 lines. A shorter page teaches little about
# where boilerplate sits; a longer one would outweigh dozens of others.
MIN_LINES, MAX_LINES = 5, 300


def compile_pages(paths: list[Path], sites: list[Path] = ()) -> list[dict]:
    """Records of the authored text files and of the HTML site folders, sorted by id."""
    records = []
    for path in paths:
        for page in parse_authored(path.read_text(encoding="utf-8"), source_name=str(path)):
            page.setdefault("source", f"authored/{path.name}")
            records.append(page)
    for page in records:
        if not MIN_LINES <= len(page["lines"]) <= MAX_LINES:
            raise ValueError(f"{page['source']}: page {page['id']} has {len(page['lines'])} lines; "
                             f"authored pages have {MIN_LINES} to {MAX_LINES}")
    for folder in sites:
        for page in render_site(folder):
            # The extractors decide how many lines a view has: only the upper bound holds.
            if len(page["lines"]) > MAX_LINES:
                raise ValueError(f"{page['source']}: the {page['view']} view has {len(page['lines'])} "
                                 f"lines; pages have at most {MAX_LINES}")
            records.append(page)
    validate_records(records)
    return sorted(records, key=lambda r: r["id"])


def site_folders(root: Path = HERE / "html") -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def print_stats(records: list[dict]) -> None:
    from collections import Counter

    for field in ("site_kind", "lang", "style", "page_type"):
        pages = Counter(r.get(field) for r in records)
        lines = Counter()
        for r in records:
            lines[r.get(field)] += len(r["lines"])
        print(f"{field}: " + ", ".join(f"{k} {pages[k]} pages / {lines[k]} lines" for k in sorted(pages, key=str)))
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
    ap.add_argument("--show", metavar="PAGE", help="print both rendered views of one HTML page "
                    "(html/<site>/<page>.html, relative to data/) with their labels; write nothing")
    args = ap.parse_args(argv)
    if args.show:
        return show(HERE / args.show)
    paths = args.files or sorted((HERE / "authored").glob("*.txt"))
    sites = [] if args.files else site_folders()
    try:
        records = compile_pages(paths, sites)
    except (AuthoredFormatError, HtmlPageError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except ImportError as err:
        print(f"error: rendering HTML sites needs the extractors: pip install -e .[data] ({err})",
              file=sys.stderr)
        return 1
    n_lines = sum(len(r["lines"]) for r in records)
    print(f"{len(records)} pages, {n_lines} lines from {len(paths)} files and {len(sites)} sites",
          file=sys.stderr)
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


def show(page: Path) -> int:
    """Print a rendered page's views, a label code before each line (as in authored/)."""
    codes = {"content": "C", "nav": "N", "clickbait": "K", "footer": "F", None: "?"}
    try:
        records = [r for r in render_site(page.parent) if r["source"].endswith("/" + page.name)]
    except (HtmlPageError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if not records:
        print(f"error: {page}: no such page, or no view of it has a labeled line", file=sys.stderr)
        return 1
    for rec in records:
        print(f"### {rec['id']} ({len(rec['lines'])} lines)")
        for line, label in zip(rec["lines"], rec["labels"]):
            print(codes[label], line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
