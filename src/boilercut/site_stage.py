"""The site stage: a third logistic regression that rereads a line's class probabilities
(the context stage's) together with how many other pages of its site hold the line.

A line classifier that reads one page at a time cannot tell a site's chrome from its
article when both read alike: a "Most read" headline, a newsletter box, a tagline. The
site can: chrome is on many of its pages (site_repeats.py). Pipelines that use the signal
(CCNet, C4) drop every repeated line; here it is one more input, weighed against what the
line looks like, so a repeated line the model is sure is content can stay.

Its input per line: the class probabilities and their logs (from which it can give the
probabilities back unchanged), the repeat numbers of site_repeats.repeat_features, the
probabilities times the share of the site's pages holding the line and times "repeated",
and the mean share and "repeated" of the lines within +-NEIGHBOUR_RADIUS (chrome comes in
blocks). It applies only to pages with a signal: a page of an unknown site, or of a site
with fewer than min_site_pages pages, keeps the probabilities it had, bit for bit.

It is trained on the training pages that have a signal, from the context stage's
probabilities of the out-of-fold first-stage probabilities (training.fit_models), and it
is stored as numbers in the model's metadata (to_dict), like the page-style detector, so
a model file holds no new class. Scoring imports no scikit-learn (logistic.py).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from boilercut.context_features import PROBA_FLOOR
from boilercut.logistic import logistic_proba
from boilercut.page_rows import PageRows
from boilercut.site_repeats import MIN_SITE_PAGES, RepeatCounts, repeat_features

NEIGHBOUR_RADIUS = 2


def site_features(proba: np.ndarray, repeats: np.ndarray, rows: PageRows) -> np.ndarray:
    """(n_lines, 4 * n_classes + 6) features; repeats: the stacked repeat_features of the
    pages of rows."""
    share, repeated = repeats[:, :1], repeats[:, 2:3]
    return np.hstack([proba, np.log(np.maximum(proba, PROBA_FLOOR)), repeats, share * proba,
                      repeated * proba, rows.window_mean(repeats[:, [0, 2]], NEIGHBOUR_RADIUS)])


def _signal_rows(page_lengths: Sequence[int], repeats: Sequence[RepeatCounts | None]):
    """(row indices of the lines of pages with a signal, their page numbers, their stacked
    repeat_features)."""
    starts = np.concatenate(([0], np.cumsum(page_lengths)[:-1])).astype(np.int64)
    index, page, feats = [], [], []
    for k, (start, n, rep) in enumerate(zip(starts.tolist(), page_lengths, repeats)):
        if rep is None or not n:
            continue
        if len(rep.other) != n:
            raise ValueError(f"page {k} has {n} lines but {len(rep.other)} repeat counts")
        index.append(np.arange(start, start + n))
        page.append(np.full(n, k))
        feats.append(repeat_features(rep))
    if not index:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 4))
    return np.concatenate(index), np.concatenate(page), np.vstack(feats)


class SiteStage:
    """The fitted numbers of the site stage's LogisticRegression (coef_, intercept_, as
    logistic.logistic_proba reads them), its classes and min_site_pages."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: Sequence[str],
                 min_site_pages: int = MIN_SITE_PAGES):
        # C order, as a loaded stage has it: BLAS rounds products of the two orders differently
        self.coef_ = np.ascontiguousarray(coef, dtype=np.float64)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        self.classes = [str(c) for c in classes]
        self.min_site_pages = int(min_site_pages)

    @classmethod
    def fit(cls, proba: np.ndarray, page_lengths: Sequence[int], repeats: Sequence[RepeatCounts | None],
            labels: Sequence, classes: Sequence[str], sample_weight: np.ndarray | None = None, C: float = 1.0,
            min_site_pages: int = MIN_SITE_PAGES, max_iter: int = 2000) -> "SiteStage | None":
        """Fit on the labeled lines of the pages with a signal; proba: every line's class
        probabilities (columns in `classes` order). None when no labeled line has a signal."""
        from sklearn.linear_model import LogisticRegression

        if not C > 0:
            raise ValueError(f"site_stage.C must be > 0, got {C}")
        index, page, repeats_feats = _signal_rows(page_lengths, repeats)
        labels = np.asarray(labels, dtype=object)[index]
        known = np.asarray([lab is not None for lab in labels], dtype=bool)
        if not known.any() or len(set(labels[known])) < 2:
            return None
        feats = site_features(proba[index], repeats_feats, PageRows(page))[known]
        classifier = LogisticRegression(C=C, max_iter=max_iter)
        classifier.fit(feats, labels[known].astype(str),
                       sample_weight=None if sample_weight is None else np.asarray(sample_weight)[index][known])
        if [str(c) for c in classifier.classes_] != [str(c) for c in classes]:
            return None  # a class absent from the site pages: the stage could not give it back
        return cls(classifier.coef_, classifier.intercept_, classes, min_site_pages)

    def apply(self, proba: np.ndarray, page_lengths: Sequence[int],
              repeats: Sequence[RepeatCounts | None]) -> np.ndarray:
        """proba (every line of the pages, in page order) with the rows of pages with a
        signal replaced by the stage's probabilities; the others unchanged."""
        if len(repeats) != len(page_lengths):
            raise ValueError(f"repeats for {len(repeats)} pages, but {len(page_lengths)} pages")
        index, page, repeats_feats = _signal_rows(page_lengths, repeats)
        if not len(index):
            return proba
        rows = PageRows(page)
        out = proba.copy()
        out[index] = logistic_proba(self, site_features(proba[index], repeats_feats, rows), rows)
        return out

    def to_dict(self) -> dict:
        return {"coef": self.coef_.tolist(), "intercept": self.intercept_.tolist(), "classes": self.classes,
                "min_site_pages": self.min_site_pages}

    @classmethod
    def from_dict(cls, d: dict) -> "SiteStage":
        stage = cls(d["coef"], d["intercept"], d["classes"], d.get("min_site_pages", MIN_SITE_PAGES))
        if stage.coef_.ndim != 2 or stage.coef_.shape[0] != len(stage.intercept_):
            raise ValueError(f"coef of shape {stage.coef_.shape} does not fit {len(stage.intercept_)} intercepts")
        return stage
