"""Which kind of text a page is: "raw" scraper output (every block of the page, menus and
footers included) or "extracted" (what an extractor such as trafilatura left: mostly the
main text).

The two call for different keep thresholds (issue 13): on raw text a line scored 0.3 is
as likely a menu as a sentence, while on extracted text most lines are content and a
wrong drop costs more than a kept byline. The "auto" operating point (operating_points.py)
asks this detector per page. It reads only the page's shape, not the model's scores, so it
is the same whatever the line model: the number of lines and words, how many lines are
short, end like sentences, or are list items. It is a logistic regression fitted on the
training pages' `style` field, stored as a handful of numbers in the model's metadata
(no pickle).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from boilercut.line_shape import word_counts

STYLES = ("raw", "extracted")
FEATURES = ("log_lines", "log_words", "short_line_share", "mean_log_words", "sentence_end_share",
            "list_item_share")
_SENTENCE_END = tuple(".!?。！？:;\"'”»)")
_LIST_MARKS = ("- ", "* ", "• ", "| ")


def page_features(page: Sequence[str], words: np.ndarray | None = None) -> np.ndarray:
    """The FEATURES of one page (words: its lines' word counts, if already counted)."""
    w = np.asarray(word_counts(list(page)) if words is None else words, dtype=np.float64)
    if not len(page):
        return np.zeros(len(FEATURES))
    stripped = [line.rstrip() for line in page]
    return np.array([
        np.log1p(len(page)), np.log1p(w.sum()), np.mean(w <= 3), np.log1p(w).mean(),
        np.mean([s.endswith(_SENTENCE_END) for s in stripped]),
        np.mean([s.lstrip().startswith(_LIST_MARKS) for s in stripped]),
    ])


@dataclass
class PageStyle:
    """A fitted detector: standardisation and logistic-regression weights over FEATURES."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def fit(cls, pages: Sequence[Sequence[str]], styles: Sequence[str], C: float = 1.0) -> "PageStyle":
        from sklearn.linear_model import LogisticRegression

        unknown = sorted(set(styles) - set(STYLES))
        if unknown:
            raise ValueError(f"page styles must be one of {STYLES}, got {unknown}")
        if len(set(styles)) < 2:
            raise ValueError(f"fitting the page-style detector needs pages of both styles {STYLES}")
        x = np.vstack([page_features(p) for p in pages])
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        y = np.asarray([s == "extracted" for s in styles])
        # Both styles weigh the same: the data's mix of styles is not the mix of a corpus.
        lr = LogisticRegression(C=C, class_weight="balanced", max_iter=1000).fit((x - mean) / scale, y)
        return cls(mean, scale, lr.coef_[0], float(lr.intercept_[0]))

    def extracted_probability(self, pages: Sequence[Sequence[str]]) -> np.ndarray:
        if not len(pages):
            return np.zeros(0)
        x = (np.vstack([page_features(p) for p in pages]) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept)))

    def is_extracted(self, pages: Sequence[Sequence[str]]) -> np.ndarray:
        return self.extracted_probability(pages) >= 0.5

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
