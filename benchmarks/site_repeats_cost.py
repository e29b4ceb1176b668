"""What counting site repeats costs: time per line and memory per million pages.

    python benchmarks/site_repeats_cost.py                       # a synthetic corpus of 100,000 pages
    python benchmarks/site_repeats_cost.py --pages 20000 --corpus ../shared/realweb/dev-raw.jsonl.gz

The synthetic corpus has sites of --site-pages pages; each page holds --chrome lines drawn
from a pool of 2 x chrome lines of its site (menus, teaser lists) and --own lines of its
own. Counting (site_repeats.SiteCounts.add_page: normalise, hash, buffer, compact) is
timed on one core, and its memory is measured with tracemalloc (peak and after the last
compaction, the count arrays plus the dict of pages per site). --corpus adds the same
figures for a real corpus (JSONL with `lines` and `site`, or `text` and `url`).
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
import tracemalloc
from pathlib import Path


def synthetic_pages(pages: int, site_pages: int, chrome: int, own: int, seed: int = 0):
    rng = random.Random(seed)
    for p in range(pages):
        site = f"site{p // site_pages}.example"
        pool = [f"{site} chrome line {i}" for i in range(2 * chrome)]
        lines = rng.sample(pool, chrome) + [f"own line {p} {i} {rng.getrandbits(48):x}" for i in range(own)]
        yield site, lines


def real_pages(path: Path):
    opener = gzip.open if path.name.endswith(".gz") else open
    from boilercut.lines import split_lines
    from boilercut.site_repeats import record_site

    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            lines = record["lines"] if "lines" in record else split_lines(record["text"])
            yield (record.get("site") or record_site(record)), lines


def count(pages):
    """(SiteCounts of the pages, pages, lines, CPU seconds)."""
    from boilercut.site_repeats import SiteCounts

    counts = SiteCounts()
    n_pages = n_lines = 0
    cpu = time.process_time()
    for site, lines in pages:
        counts.add_page(site, lines)
        n_pages += 1
        n_lines += len(lines)
    counts.compact()
    return counts, n_pages, n_lines, time.process_time() - cpu


def measure(make_pages, name: str) -> dict:
    """Counting timed alone, then again under tracemalloc for its memory (the pages are
    made on the fly, so their text is not counted: only what counting keeps)."""
    counts, n_pages, n_lines, cpu = count(make_pages())
    del counts
    tracemalloc.start()
    counts = count(make_pages())[0]
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    pairs = len(counts.keys)
    per_million = 1e6 / max(n_pages, 1)
    result = {"corpus": name, "pages": n_pages, "lines": n_lines, "sites": len(counts.site_pages),
              "distinct_pairs": pairs, "cpu_s": round(cpu, 2), "us_per_line": round(1e6 * cpu / max(n_lines, 1), 2),
              "bytes_per_pair": round(counts.nbytes / max(pairs, 1), 1),
              "held_mb_per_million_pages": round(held * per_million / 2 ** 20, 1),
              "peak_mb_per_million_pages": round(peak * per_million / 2 ** 20, 1)}
    print(f"| {name} | {n_pages:,} | {n_lines:,} | {pairs:,} | {result['us_per_line']} | "
          f"{result['bytes_per_pair']} | {result['held_mb_per_million_pages']:,} | "
          f"{result['peak_mb_per_million_pages']:,} |", flush=True)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100_000, help="pages of the synthetic corpus")
    ap.add_argument("--site-pages", type=int, default=20, help="pages per synthetic site")
    ap.add_argument("--chrome", type=int, default=15, help="lines per page drawn from its site's chrome")
    ap.add_argument("--own", type=int, default=15, help="lines per page of its own")
    ap.add_argument("--corpus", type=Path, action="append", default=[], help="a real corpus to measure too")
    args = ap.parse_args(argv)
    if min(args.pages, args.site_pages, args.chrome + args.own) < 1:
        print("site_repeats_cost: error: --pages, --site-pages and lines per page must be at least 1", file=sys.stderr)
        return 2
    print("| corpus | pages | lines | distinct (site, line) | µs per line (CPU) | bytes per pair | "
          "MB per million pages, held | peak |\n|---|---|---|---|---|---|---|---|")
    measure(lambda: synthetic_pages(args.pages, args.site_pages, args.chrome, args.own),
            f"synthetic ({args.site_pages} pages a site, {args.chrome} chrome + {args.own} own lines)")
    for path in args.corpus:
        if not path.is_file():
            print(f"site_repeats_cost: error: {path}: no such file", file=sys.stderr)
            return 2
        measure(lambda path=path: real_pages(path), path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
