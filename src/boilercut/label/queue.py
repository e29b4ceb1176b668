"""Which page to label next: the model's guesses for every line, and the page order.

    order = order_pages(pages, "uncertain", seed=0)

A page teaches the model most when the model is unsure of its lines. A line's
uncertainty is its closeness to the keep threshold: 1 at the threshold, 0 at a score
of 0 or 1. A page's is the mean over its lines weighted by 1 + words (the metrics that
matter are word-weighted: a wrong 90-word paragraph costs more than a wrong "Home").
The mean, not the sum: a long page costs as much more to label as it holds.

Pages of one site share their chrome, so ten of them in a row teach little more than
one: "uncertain" cuts the ranking into buckets of BUCKET_PAGES pages and deals each
bucket round-robin over its sites, most uncertain site first.
"""
from __future__ import annotations

import random
from collections import defaultdict
from typing import Callable, Sequence

import numpy as np

from boilercut.label.pages import Page
from boilercut.lines import count_words
from boilercut.model import LineModel

ORDERS = ("uncertain", "random", "file")
# Pages per uncertainty bucket that is dealt round-robin over sites: large enough that a
# site's pages are spread out, small enough that the most uncertain pages still come first.
BUCKET_PAGES = 20
# Pages scored per model call (progress is reported between calls).
SCORE_PAGES = 64
# A line whose keep score is within this distance of the threshold is shown as unsure.
UNSURE_MARGIN = 0.2


def line_uncertainty(scores: np.ndarray, threshold: float) -> np.ndarray:
    """1 - |score - threshold| / (the largest distance possible on that side), in 0..1."""
    scores = np.asarray(scores, dtype=np.float64)
    span = np.where(scores >= threshold, 1.0 - threshold, threshold)
    return 1.0 - np.abs(scores - threshold) / np.maximum(span, 1e-9)


def page_uncertainty(lines: Sequence[str], scores: np.ndarray, threshold: float) -> float:
    weights = 1.0 + np.asarray([count_words(line) for line in lines], dtype=np.float64)
    return float(np.average(line_uncertainty(scores, threshold), weights=weights)) if len(lines) else 0.0


def score_pages(model: LineModel, pages: Sequence[Page],
                progress: Callable[[int], None] | None = None) -> None:
    """Fill in each page's model labels, keep scores, label strengths and uncertainty;
    progress(n) after every n pages scored."""
    for start in range(0, len(pages), SCORE_PAGES):
        chunk = pages[start:start + SCORE_PAGES]
        scored = model.score([p.lines for p in chunk])
        for page, p, k, best in zip(chunk, scored.by_page(scored.proba), scored.by_page(scored.keep),
                                    scored.by_page(scored.labels)):
            page.labels = list(best)
            page.scores = [round(float(x), 4) for x in k]
            page.strength = [round(float(x), 4) for x in p.max(axis=1)]
            page.uncertainty = page_uncertainty(page.lines, k, model.threshold)
        if progress is not None:
            progress(len(chunk))


def order_pages(pages: Sequence[Page], order: str = "uncertain", seed: int = 0) -> list[Page]:
    """The pages in labeling order (see the module docstring); "uncertain" needs scored pages."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {list(ORDERS)}, got {order!r}")
    if order == "file":
        return list(pages)
    if order == "random":
        shuffled = list(pages)
        random.Random(seed).shuffle(shuffled)
        return shuffled
    ranked = sorted(pages, key=lambda p: -p.uncertainty)  # stable: ties keep file order
    out: list[Page] = []
    for start in range(0, len(ranked), BUCKET_PAGES):
        out += _round_robin(ranked[start:start + BUCKET_PAGES])
    return out


def _round_robin(pages: list[Page]) -> list[Page]:
    """One page of each site in turn, sites in the order of their first (most uncertain) page."""
    by_site: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        by_site[page.site].append(page)
    queues = list(by_site.values())
    out = []
    while queues:
        out += [q.pop(0) for q in queues]
        queues = [q for q in queues if q]
    return out
