"""Cleaning one batch of documents: kept text plus per-document statistics.

    from boilercut.batch import clean_batch
    results = clean_batch(model, ["page one\\n...", "page two\\n..."])
    results[0].text, results[0].lines_removed, results[0].words_removed_share

All documents of a call are scored in one model call (the model is much faster on one
large batch than on many small ones). Callers that stream a corpus pass batches of about
BATCH_LINES lines; `batch_by_lines` cuts a stream into such batches. The public API for
any number of documents is boilercut.clean_texts / filter_pages (batch_api.py).
"""
from __future__ import annotations

from itertools import compress
from typing import Iterable, Iterator, NamedTuple, Sequence

import numpy as np

from boilercut.filter import check_threshold
from boilercut.lines import count_words, split_lines
from boilercut.model import LineModel
from boilercut.site_repeats import RepeatCounts, SiteCounts

# Lines per model call when streaming: the fastest size measured (benchmarks/NOTES.md);
# past it the batch's arrays outgrow the CPU caches and memory grows.
BATCH_LINES = 2_000
# "lines": drop every boilerplate line; "trim": drop boilerplate only before the first
# and after the last kept line, so a document's inside is never cut.
MODES = ("lines", "trim")
# Names of the statistics added to every cleaned document (output fields, dataset columns,
# datatrove metadata keys).
STATS_FIELDS = ("lines_kept", "lines_removed", "words_removed_share")
# Added when cleaning with site counts: removed lines that other pages of the site hold.
SITE_STATS_FIELD = "lines_removed_site_repeated"


class Cleaned(NamedTuple):
    text: str                    # kept lines joined by "\n"; "" when the document is dropped
    lines_kept: int
    lines_removed: int
    words_removed_share: float   # removed words / all words, 0..1 (0 for a document without words)
    dropped: bool                # True when the document guard removed the whole document
    site_repeated_removed: int | None = None  # with site counts: SITE_STATS_FIELD
    # With clean_batch(audit=True): (line number from 1, label, keep score, line) of every
    # line the model removed, in order; else None.
    removed: tuple[tuple[int, str, float, str], ...] | None = None

    def stats(self) -> dict:
        stats = {name: getattr(self, name) for name in STATS_FIELDS}
        if self.site_repeated_removed is not None:
            stats[SITE_STATS_FIELD] = self.site_repeated_removed
        return stats


def check_options(threshold: float | None, mode: str, max_removed_share: float | None) -> None:
    """ValueError naming the bad value; called before any work starts."""
    if threshold is not None:
        check_threshold(threshold)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    if max_removed_share is not None:
        check_threshold(max_removed_share, "max_removed_share")


def keep_decisions(scores: Sequence[float], threshold: float, mode: str = "lines") -> list[bool]:
    keep = (np.asarray(scores, dtype=np.float64) >= threshold).tolist()
    return _trimmed(keep) if mode == "trim" else keep


def summarise(lines: Sequence[str], keep: Sequence[bool], max_removed_share: float | None,
              words: Sequence[int] | None = None) -> Cleaned:
    """Statistics and kept text of one document; the guard drops it when too much is removed.
    words: count_words of each line, when the caller has counted them already."""
    words = np.asarray([count_words(line) for line in lines] if words is None else words, dtype=np.int64)
    keep = np.asarray(keep, dtype=bool).reshape(-1)
    return _cleaned(lines, keep.tolist(), int(words.sum()), int(words[~keep].sum()), max_removed_share)


def clean_batch(model: LineModel, texts: Sequence[str], threshold: float | None = None,
                mode: str = "lines", max_removed_share: float | None = None,
                keep: str | None = None, audit: bool = False, sites: Sequence[str | None] | None = None,
                site_counts: SiteCounts | None = None) -> list[Cleaned]:
    """Clean each text; one model call for all of them. threshold None: the threshold of
    operating point `keep` (None: the model's default point) for each text. audit: fill
    Cleaned.removed with the removed lines, their labels and scores.

    site_counts (with sites, the site of each text, None where unknown): the counts of a
    first pass over the corpus (site_repeats.SiteCounts), read by the model's site stage;
    each result then counts the removed lines that other pages of its site hold."""
    check_options(threshold, mode, max_removed_share)
    pages = [split_lines(text) for text in texts]
    repeats = None
    if site_counts is not None:
        repeats = [site_counts.page_repeats(site, lines) for site, lines in zip(sites, pages)]
    scored = model.score(pages, repeats=repeats)
    scores, words = scored.by_page(scored.keep), scored.by_page(scored.words)
    cuts = model.page_thresholds(pages, scores, keep, threshold, words)
    labels = scored.by_page(scored.labels) if audit else [None] * len(pages)
    page_repeats = repeats if repeats is not None else [None] * len(pages)
    results = []
    for lines, s, decisions, total, removed_words, page_labels, rep in zip(
            pages, scores, *_batch_decisions(scored, cuts, mode), labels, page_repeats):
        cleaned = _cleaned(lines, decisions, total, removed_words, max_removed_share)
        if audit:
            cleaned = cleaned._replace(removed=tuple(
                (i + 1, str(page_labels[i]), float(s[i]), lines[i]) for i, k in enumerate(decisions) if not k))
        if repeats is not None:
            cleaned = cleaned._replace(site_repeated_removed=_repeated_removed(rep, decisions))
        results.append(cleaned)
    return results


def _batch_decisions(scored, cuts: np.ndarray, mode: str) -> tuple[list[list[bool]], list[int], list[int]]:
    """keep_decisions of every page of a batch at its threshold (cuts), and the words of each
    page and those of its removed lines: one comparison and two sums over the batch rather
    than a few numpy calls per page (about 2% of `predict`'s time, for pages of 28 lines)."""
    sizes = np.asarray(scored.page_sizes, dtype=np.int64)
    kept = scored.keep >= np.repeat(np.asarray(cuts, dtype=np.float64), sizes)
    flat = kept.tolist()
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    decisions = [flat[a:a + n] for a, n in zip(starts.tolist(), sizes.tolist())]
    if mode == "trim":
        decisions = [_trimmed(d) for d in decisions]
        kept = np.asarray([k for d in decisions for k in d], dtype=bool).reshape(kept.shape)
    words = np.asarray(scored.words, dtype=np.int64)
    totals, removed = np.zeros(len(sizes), dtype=np.int64), np.zeros(len(sizes), dtype=np.int64)
    full = sizes > 0  # reduceat needs a non-empty slice per start
    if full.any():
        totals[full] = np.add.reduceat(words, starts[full])
        removed[full] = np.add.reduceat(np.where(kept, 0, words), starts[full])
    return decisions, totals.tolist(), removed.tolist()


def _trimmed(keep: list[bool]) -> list[bool]:
    """keep_decisions' "trim" mode of the "lines" decisions keep."""
    if not any(keep):
        return keep
    first = keep.index(True)
    last = len(keep) - 1 - keep[::-1].index(True)
    return [first <= i <= last for i in range(len(keep))]


def _cleaned(lines: Sequence[str], keep: list[bool], total: int, removed: int,
             max_removed_share: float | None) -> Cleaned:
    """summarise of a page whose words and removed words are counted."""
    share = removed / total if total else 0.0
    n_kept = sum(keep)
    dropped = max_removed_share is not None and share > max_removed_share
    text = "" if dropped else "\n".join(compress(lines, keep))
    return Cleaned(text, n_kept, len(lines) - n_kept, share, dropped)


def _repeated_removed(repeats: RepeatCounts | None, decisions: Sequence[bool]) -> int:
    """Removed lines of a page that other pages of its site hold (0 without a signal)."""
    if repeats is None:
        return 0
    removed = ~np.asarray(decisions, dtype=bool)
    return int((removed & (repeats.other >= 1)).sum())


def batch_by_lines(items: Iterable, lines_of, max_lines: int = BATCH_LINES) -> Iterator[list]:
    """Group a stream of items into lists holding about max_lines lines of text in all.

    lines_of(item) returns how many lines the item's text has (an estimate will do); a
    document longer than max_lines is a batch alone.
    """
    batch, lines = [], 0
    for item in items:
        batch.append(item)
        lines += lines_of(item)
        del item  # so that a caller that empties the batch frees its items (corpus.clean_items)
        if lines >= max_lines:
            yield batch
            batch, lines = [], 0
    if batch:
        yield batch
