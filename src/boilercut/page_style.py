"""Which kind of text a page is: "raw" scraper output (every block of the page, menus and
footers included) or "extracted" (what an extractor such as trafilatura left: mostly the
main text).

The two call for different keep thresholds (issue 13): on raw text a line scored 0.3 is
as likely a menu as a sentence, while on extracted text most lines are content and a
wrong drop costs more than a kept byline. The "auto" operating point (operating_points.py)
asks this detector per page. It reads the page's shape (how many lines are short, end
like sentences, or are list items, and how long lines are) and what the line model made
of it (the word-weighted mean keep score, the share of lines below 0.5): the shape alone
told wcxb's FineWeb pages, long and full of list items, from raw pages only half of the
time. It does not read the page's length: the extracted pages of the training data are
short, so a detector that read it called long extractor output raw (a third of wcxb's
FineWeb pages, which then lost 1.8% of their content words instead of 1.0%). It is a logistic regression fitted on validation pages' `style` field with
their out-of-sample scores (on its own training pages the line model is near-certain),
stored as a handful of numbers in the model's metadata (no pickle).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import Sequence

import numpy as np

from boilercut.line_shape import word_counts

STYLES = ("raw", "extracted")
FEATURES = ("short_line_share", "mean_log_words", "sentence_end_share", "list_item_share",
            "mean_keep_score", "low_score_share")
_SENTENCE_END = tuple(".!?。！？:;\"'”»)")
_LIST_MARKS = ("- ", "* ", "• ", "| ")


def page_features(pages: Sequence[Sequence[str]], scores: Sequence[Sequence[float]],
                  words: Sequence[Sequence[int]] | None = None) -> np.ndarray:
    """The FEATURES of each page (a row per page; an empty page gets zeros), from its
    lines, their keep scores and their word counts (counted here when not given: the
    model counts them while scoring, and counting again is a noticeable cost), computed
    over all lines of all pages at once."""
    lengths = np.fromiter(map(len, pages), dtype=np.int64, count=len(pages))
    out = np.zeros((len(pages), len(FEATURES)))
    if not lengths.sum():
        return out
    lines = [line.rstrip() for page in pages for line in page]
    if words is None:
        w = word_counts(lines).astype(np.float64)
    else:  # (one page, the line API's case: no concatenation)
        w = np.asarray(words[0] if len(words) == 1 else np.concatenate([np.asarray(c) for c in words]),
                       dtype=np.float64)
    score = np.asarray(scores[0] if len(scores) == 1 else np.concatenate([np.asarray(sc) for sc in scores]),
                       dtype=np.float64)
    columns = (
        w <= 3, np.log1p(w),
        # (str methods mapped over the lines: no Python frame per line)
        np.fromiter(map(str.endswith, lines, repeat(_SENTENCE_END)), dtype=bool, count=len(lines)),
        np.fromiter(map(str.startswith, map(str.lstrip, lines), repeat(_LIST_MARKS)), dtype=bool, count=len(lines)),
        score * (w + 1), w + 1, score < 0.5,
    )
    # Each column stored as float64, as column_stack then astype would store it, without
    # column_stack's reshaping (a share of a page's time in the line API).
    per_line = np.empty((len(lines), len(columns)))
    for k, column in enumerate(columns):
        per_line[:, k] = column
    full = lengths > 0
    sums = np.add.reduceat(per_line, np.concatenate(([0], np.cumsum(lengths)[:-1]))[full], axis=0)
    n = lengths[full, None]
    out[full] = np.column_stack([sums[:, 0:4] / n, sums[:, 4] / sums[:, 5], sums[:, 6] / n[:, 0]])
    return out


@dataclass
class PageStyle:
    """A fitted detector: standardisation and logistic-regression weights over FEATURES."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def fit(cls, pages: Sequence[Sequence[str]], scores: Sequence[Sequence[float]], styles: Sequence[str],
            C: float = 1.0) -> "PageStyle":
        from sklearn.linear_model import LogisticRegression

        unknown = sorted(set(styles) - set(STYLES))
        if unknown:
            raise ValueError(f"page styles must be one of {STYLES}, got {unknown}")
        if len(set(styles)) < 2:
            raise ValueError(f"fitting the page-style detector needs pages of both styles {STYLES}")
        x = page_features(pages, scores)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        y = np.asarray([s == "extracted" for s in styles])
        # Both styles weigh the same: the data's mix of styles is not the mix of a corpus.
        lr = LogisticRegression(C=C, class_weight="balanced", max_iter=1000).fit((x - mean) / scale, y)
        return cls(mean, scale, lr.coef_[0], float(lr.intercept_[0]))

    def extracted_probability(self, pages: Sequence[Sequence[str]], scores: Sequence[Sequence[float]],
                              words: Sequence[Sequence[int]] | None = None) -> np.ndarray:
        if not len(pages):
            return np.zeros(0)
        x = (page_features(pages, scores, words) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept)))

    def is_extracted(self, pages: Sequence[Sequence[str]], scores: Sequence[Sequence[float]],
                     words: Sequence[Sequence[int]] | None = None) -> np.ndarray:
        return self.extracted_probability(pages, scores, words) >= 0.5

    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept}

    @classmethod
    def from_dict(cls, d: dict) -> "PageStyle":
        if list(d.get("features", [])) != list(FEATURES):
            raise ValueError(f"page-style features {d.get('features')} differ from this boilercut's {list(FEATURES)}")
        arrays = [np.asarray(d[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(FEATURES),) for a in arrays) or not all(np.isfinite(a).all() for a in arrays):
            raise ValueError("page-style weights are not finite numbers, one per feature")
        return cls(*arrays, float(d["intercept"]))
