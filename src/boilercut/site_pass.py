"""The first of predict --site-repeats' two passes: count, per site, the pages holding each line.

    counts = count_sites([("crawl.jsonl.gz", "jsonl")], text_field="text", site_field=None)
    clean_corpus(sources, write, site_counts=counts, ...)      # the second pass cleans

It reads the same sources the cleaning pass reads, so an input that cannot be read twice
(standard input) is refused before any work. Records that cannot be used are passed over
here: the cleaning pass reports them, in order, as it always does. Memory: the counts
(site_repeats.SiteCounts, 12 bytes per distinct (site, line) pair), never the text.
"""
from __future__ import annotations

from collections.abc import Iterable

from boilercut.corpus_io import MAX_RECORD_BYTES, MAX_RECORD_LINES, Record, read_source
from boilercut.lines import split_lines
from boilercut.site_repeats import MIN_SITE_PAGES, SiteCounts, record_site
from boilercut.textio import InputError


def check_rereadable(sources: Iterable[tuple[str, str]]) -> None:
    """ValueError for an input the two passes cannot read twice."""
    for path, _ in sources:
        if path == "-":
            raise ValueError("--site-repeats reads the input twice (count, then clean); standard input "
                             "cannot be read twice: save it to a file and pass the file")


def count_sites(sources: Iterable[tuple[str, str]], text_field: str = "text", site_field: str | None = None,
                id_field: str | None = None, min_site_pages: int = MIN_SITE_PAGES,
                max_record_bytes: int = MAX_RECORD_BYTES, max_record_lines: int = MAX_RECORD_LINES,
                progress=None) -> SiteCounts:
    """SiteCounts of every readable record of the sources; a record's site is its
    site_field, or the host of its "url" field. progress: an optional tqdm-like object."""
    counts = SiteCounts(min_site_pages)
    for path, fmt in sources:
        try:
            for item in read_source(path, fmt, text_field, id_field, max_record_bytes=max_record_bytes,
                                    max_record_lines=max_record_lines):
                if not isinstance(item, Record):
                    continue
                counts.add_page(record_site(item.data, site_field), split_lines(item.data[text_field]))
                if progress is not None:
                    progress.update(1)
        except InputError:
            continue  # the cleaning pass reports it
    counts.compact()
    return counts
