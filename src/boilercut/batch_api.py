"""The public batched API: many documents per call, as fast as `python -m predict` cleans a corpus.

    from boilercut import clean_texts, filter_pages
    kept = filter_pages(texts)                  # one str per text: what filter_page gives it
    results = clean_texts(texts, max_removed_share=0.8)
    results[0].text, results[0].lines_kept, results[0].lines_removed, results[0].words_removed_share

A page gets the same scores alone and among other pages (page_rows.py), so filter_pages(texts)
equals [filter_page(t) for t in texts] exactly. It is faster because the model's cost is
mostly per call: the texts are scored in batches of about batch.BATCH_LINES lines, the
batch size the corpus path uses (past it the batch's arrays outgrow the CPU caches).
"""
from __future__ import annotations

from typing import Iterable

from boilercut.batch import BATCH_LINES, Cleaned, batch_by_lines, check_options, clean_batch
from boilercut.filter import default_model, str_list
from boilercut.lines import line_count
from boilercut.model import LineModel


def clean_texts(texts: Iterable[str], model: LineModel | None = None, threshold: float | None = None,
                keep: str | None = None, mode: str = "lines",
                max_removed_share: float | None = None) -> list[Cleaned]:
    """Per text, a Cleaned: the kept lines joined by "\\n" (`text`), `lines_kept`,
    `lines_removed`, `words_removed_share` (0..1, CJK characters count as words) and
    `dropped` (the document guard removed it: `text` is "").

    A text with no lines left is kept as "" with its statistics, never left out, so the
    result has one entry per text in order. threshold, keep: as in filter_page; mode "trim"
    removes boilerplate only before the first and after the last kept line;
    max_removed_share drops a document when more than that share of its words would go."""
    texts = str_list(texts, "page texts", lambda i: f"texts[{i}]")
    check_options(threshold, mode, max_removed_share)
    model = default_model() if model is None else model
    model.check_point(keep)
    results: list[Cleaned] = []
    for batch in batch_by_lines(texts, line_count, BATCH_LINES):
        results += clean_batch(model, batch, threshold, mode, max_removed_share, keep)
    return results


def filter_pages(texts: Iterable[str], model: LineModel | None = None, threshold: float | None = None,
                 keep: str | None = None) -> list[str]:
    """filter_page of every text, in order: the kept lines of each, joined by "\\n"."""
    return [cleaned.text for cleaned in clean_texts(texts, model, threshold, keep)]
