"""Lines a site repeats: for every line of a page, how many other pages of its site hold it.

    counts = SiteCounts()
    for site, lines in corpus:            # first pass: count
        counts.add_page(site, lines)
    repeats = counts.page_repeats(site, lines)   # second pass: per line, or None (neutral)

A menu, a "Most read" list or a footer shows up on many pages of one host; the article is
on one. Lines are compared after normalise_line (CCNet's normalisation: lower case,
digits as 0, punctuation and symbols dropped, whitespace collapsed; Unicode-aware), as
64-bit hashes (line_hash.py), and a page counts a line once however often it holds it.

Memory is per distinct (site, line) pair, not per line of text: the counts are one sorted
array of 64-bit pair keys (line hash XOR site hash) and one of 32-bit page counts, 12
bytes a pair, plus a dict of page counts per site. Pairs of the pages added since the last
compaction wait in a buffer (8 bytes each, one per distinct line of a page) that is merged
into the sorted arrays when it holds a quarter as many pairs as they do.
Measured by benchmarks/site_repeats_cost.py.

A page whose site is unknown (None) or has fewer than MIN_SITE_PAGES pages gets None:
no signal, and the model scores it exactly as without site counts.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import blake2b
from typing import NamedTuple
from urllib.parse import urlsplit

import numpy as np

from boilercut.line_hash import LINE_HASH_VERSION, line_hashes, normalise_line  # noqa: F401 (public here too)

# A site needs this many pages before its repeats mean anything: on two pages, a line
# both hold may as well be a quote the second page repeats.
MIN_SITE_PAGES = 3
# Pairs buffered before the first compaction (then: as many as are already counted).
COMPACT_PAIRS = 1 << 20


def text_hash(text: str) -> int:
    """A 64-bit hash of text (lone surrogates of undecodable bytes included): a site's name."""
    return int.from_bytes(blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def site_hash(site: str) -> np.uint64:
    return np.uint64(text_hash(site))


def url_host(url) -> str | None:
    """The host of a URL, lower case and without "www.", or None for no URL."""
    if not isinstance(url, str) or not url:
        return None
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname
    except ValueError:
        return None
    return (host[4:] if host and host.startswith("www.") else host) or None


def record_site(record: dict, site_field: str | None = None) -> str | None:
    """The site of a corpus record: its site_field, or the host of its "url" field."""
    if site_field is not None:
        value = record.get(site_field)
        return str(value) if value not in (None, "") else None
    return url_host(record.get("url"))


def labeled_site(record: dict) -> str | None:
    """The site of a labeled page (data/, ../shared): its `site` field, joined with its
    `view` when it has one: data/ holds raw and fineweb views of the same pages, which
    must be counted apart (each view is its own corpus)."""
    site = record.get("site")
    if not site:
        return None
    view = record.get("view")
    return f"{site}\x00{view}" if view else str(site)


class SiteCounts:
    """How many pages of each site hold each normalised line."""

    def __init__(self, min_site_pages: int = MIN_SITE_PAGES):
        if min_site_pages < 2:
            raise ValueError(f"min_site_pages must be at least 2, got {min_site_pages}")
        self.min_site_pages = min_site_pages
        self.site_pages: dict[int, int] = {}  # site hash -> pages added
        self.keys = np.zeros(0, dtype=np.uint64)  # sorted pair keys
        self.counts = np.zeros(0, dtype=np.uint32)  # pages holding each key
        self._pending: list[np.ndarray] = []
        self._pending_pairs = 0

    def add_page(self, site: str | None, lines: Sequence[str]) -> None:
        """Count a page: each distinct line once. A page of unknown site is not counted."""
        if site is None:
            return
        self.add_hashes(site_hash(site), line_hashes(lines))

    def add_hashes(self, site: np.uint64, hashes: np.ndarray) -> None:
        """add_page from the page's site hash and line_hashes (signatures written to disk)."""
        site = int(site)
        self.site_pages[site] = self.site_pages.get(site, 0) + 1
        distinct = np.unique(hashes[hashes != 0])
        self._pending.append(distinct ^ np.uint64(site))
        self._pending_pairs += len(distinct)
        if self._pending_pairs > max(COMPACT_PAIRS, len(self.keys) // 4):
            self.compact()

    def add_counts(self, other: SiteCounts) -> None:
        """Add the counts of other (pages counted elsewhere: another task, another shard)."""
        other.compact()
        self.compact()
        for site, pages in other.site_pages.items():
            self.site_pages[site] = self.site_pages.get(site, 0) + pages
        self._merge(other.keys, other.counts)

    def compact(self) -> None:
        """Merge the buffered pairs into the sorted counts."""
        if not self._pending:
            return
        pending = np.concatenate(self._pending)
        self._pending, self._pending_pairs = [], 0
        self._merge(pending, np.ones(len(pending), dtype=np.uint32))

    def _merge(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Add counts of keys (any order, repeats allowed) to the sorted arrays: the keys
        already there are counted in place, the new ones inserted where they sort."""
        order = np.argsort(keys, kind="stable")
        keys, counts = keys[order], counts[order]
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if len(keys) else order[:0]
        keys, counts = keys[starts], np.add.reduceat(counts, starts).astype(np.uint32) if len(keys) else counts
        at = np.searchsorted(self.keys, keys)
        known = at < len(self.keys)
        known[known] = self.keys[at[known]] == keys[known]
        self.counts[at[known]] += counts[known]
        self.keys = np.insert(self.keys, at[~known], keys[~known])
        self.counts = np.insert(self.counts, at[~known], counts[~known])

    def subset(self, sites: np.ndarray, pair_keys: np.ndarray) -> SiteCounts:
        """The counts of these sites (site hashes) and pairs (line hash XOR site hash) only:
        what the pages that gave them will look up (datatrove_sites' per-task counts)."""
        self.compact()
        keys = np.unique(np.asarray(pair_keys, dtype=np.uint64))
        at = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        found = self.keys[at] == keys if len(self.keys) else np.zeros(len(keys), dtype=bool)
        out = SiteCounts(self.min_site_pages)
        out.keys, out.counts = keys[found], self.counts[at[found]]
        out.site_pages = {site: self.site_pages[site] for site in np.unique(np.asarray(sites, dtype=np.uint64)).tolist()
                          if site in self.site_pages}
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The counts as arrays (np.savez), pending pairs merged first."""
        self.compact()
        sites = np.fromiter(self.site_pages.keys(), dtype=np.uint64, count=len(self.site_pages))
        pages = np.fromiter(self.site_pages.values(), dtype=np.int64, count=len(self.site_pages))
        return {"keys": self.keys, "counts": self.counts, "sites": sites, "site_pages": pages,
                "line_hash_version": np.array(LINE_HASH_VERSION)}

    @classmethod
    def from_arrays(cls, arrays, min_site_pages: int = MIN_SITE_PAGES) -> SiteCounts:
        """The counts to_arrays gave (an np.load of its np.savez will do). Counts keyed on
        another version of the line hash would match no line: they are refused."""
        version = int(arrays["line_hash_version"]) if "line_hash_version" in arrays else 1
        if version != LINE_HASH_VERSION:
            raise ValueError(f"site counts keyed on line hash version {version}, this boilercut uses "
                             f"{LINE_HASH_VERSION}: count the corpus again (signature and merge stages)")
        counts = cls(min_site_pages)
        counts.keys = np.asarray(arrays["keys"], dtype=np.uint64)
        counts.counts = np.asarray(arrays["counts"], dtype=np.uint32)
        counts.site_pages = dict(zip(np.asarray(arrays["sites"]).tolist(), np.asarray(arrays["site_pages"]).tolist()))
        return counts

    @property
    def nbytes(self) -> int:
        """Bytes of the count arrays and the buffer (the per-site dict not included)."""
        return self.keys.nbytes + self.counts.nbytes + sum(p.nbytes for p in self._pending)

    def pages_of(self, site: str | None) -> int:
        return 0 if site is None else self.site_pages.get(int(site_hash(site)), 0)

    def page_repeats(self, site: str | None, lines: Sequence[str]) -> RepeatCounts | None:
        """For each line of a page that was counted: how many OTHER pages of its site hold
        it. None (neutral) when the site is unknown or has fewer than min_site_pages pages."""
        pages = self.pages_of(site)
        if pages < self.min_site_pages:
            return None
        self.compact()
        hashes = line_hashes(lines)
        keys = hashes ^ site_hash(site)
        at = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        found = (hashes != 0) & (self.keys[at] == keys) if len(self.keys) else np.zeros(len(keys), dtype=bool)
        other = np.where(found, self.counts[at].astype(np.int64) - 1, 0)
        return RepeatCounts(np.maximum(other, 0), pages)


class RepeatCounts(NamedTuple):
    """A page's repeat counts: for each line, how many other pages of its site hold it."""
    other: np.ndarray   # int64, one per line
    site_pages: int     # pages the site has (the page itself included)


def repeat_features(repeats: RepeatCounts) -> np.ndarray:
    """(n_lines, 4) numbers of a page's repeat counts: the share of the site's other pages
    holding the line (0..1), log(1 + other pages), whether any other page holds it, and
    whether most do."""
    other = repeats.other.astype(np.float64)
    share = other / max(repeats.site_pages - 1, 1)
    return np.column_stack([share, np.log1p(other), other >= 1, share >= 0.5]).astype(np.float64)


def count_records(records: Iterable[dict], site_of, min_site_pages: int = MIN_SITE_PAGES) -> SiteCounts:
    """SiteCounts of labeled records (lines in "lines"), site_of(record) giving the site."""
    counts = SiteCounts(min_site_pages)
    for record in records:
        counts.add_page(site_of(record), record["lines"])
    counts.compact()
    return counts


def records_repeats(records: Sequence[dict], site_of=labeled_site,
                    min_site_pages: int = MIN_SITE_PAGES) -> list[RepeatCounts | None]:
    """The repeats of every page of a labeled set, the whole set being the corpus."""
    counts = count_records(records, site_of, min_site_pages)
    return [counts.page_repeats(site_of(r), r["lines"]) for r in records]
