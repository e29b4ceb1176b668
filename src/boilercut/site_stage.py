"""The site stage: a correction of a line's class probabilities (the context stage's) by
how many other pages of its site hold the line.

A line classifier that reads one page at a time cannot tell a site's chrome from its
article when both read alike: a "Most read" headline, a newsletter box, a tagline. The
site can: chrome is on many of its pages (site_repeats.py). Pipelines that use the signal
(CCNet, C4) drop every repeated line; here it is weighed against what the line looks
like, so a repeated line the model is sure is content stays.

Per line, with p the context stage's probabilities and r the line's repeat numbers
(site_repeats.repeat_features, plus the mean share and "repeated" of the lines within
+-NEIGHBOUR_RADIUS: chrome comes in blocks):

    probabilities = softmax(log(p) + r @ W + b)

an additive correction of the logits: with W = 0 and b = 0 it gives p back. A logistic
regression over p and r that may also reweigh log(p) did worse: trained where the first
stages are right about most repeated lines (data/), it learned to trust them and used
the repeats little. Fitted on validation pages' probabilities and judged on realweb
dev-raw pages of sites with 3+ pages (word F1 / removed @1% loss; 0.882 / 0.269 without
the stage): such a regression 0.899 / 0.278, the correction 0.922 / 0.531.

It applies only to pages with a signal: a page of an unknown site, or of a site with
fewer than min_site_pages pages, keeps the probabilities it had, bit for bit. It is
trained on the training pages that have a signal, from the context stage's probabilities
of the out-of-fold first-stage probabilities (training.fit_models), and stored as numbers
in the model's metadata (to_dict), like the page-style detector, so a model file holds no
new class. Scoring imports no scikit-learn.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from boilercut.context_features import PROBA_FLOOR
from boilercut.logistic import softmax_rows
from boilercut.page_rows import PageRows
from boilercut.site_repeats import MIN_SITE_PAGES, RepeatCounts, repeat_features

NEIGHBOUR_RADIUS = 2


def site_features(repeats: np.ndarray, rows: PageRows) -> np.ndarray:
    """(n_lines, 6): the stacked repeat_features of the pages of rows, then the mean share
    and "repeated" of the other lines within +-NEIGHBOUR_RADIUS on the page."""
    return np.hstack([repeats, rows.window_mean(repeats[:, [0, 2]], NEIGHBOUR_RADIUS)])


def corrected_proba(proba: np.ndarray, features: np.ndarray, weights: np.ndarray, bias: np.ndarray,
                    rows: PageRows) -> np.ndarray:
    """softmax(log(proba) + features @ weights + bias), the product page by page."""
    return softmax_rows(np.log(np.maximum(proba, PROBA_FLOOR)) + rows.dot(features, weights) + bias)


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
    """The fitted correction: weights (n_features, n_classes) and bias (n_classes), its
    classes and min_site_pages."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, classes: Sequence[str],
                 min_site_pages: int = MIN_SITE_PAGES):
        self.weights = np.ascontiguousarray(weights, dtype=np.float64)
        self.bias = np.asarray(bias, dtype=np.float64)
        self.classes = [str(c) for c in classes]
        self.min_site_pages = int(min_site_pages)
        if self.weights.ndim != 2 or self.weights.shape[1] != len(self.bias) or len(self.bias) != len(self.classes):
            raise ValueError(f"weights of shape {self.weights.shape} do not fit {len(self.bias)} biases "
                             f"and {len(self.classes)} classes")

    @classmethod
    def fit(cls, proba: np.ndarray, page_lengths: Sequence[int], repeats: Sequence[RepeatCounts | None],
            labels: Sequence, classes: Sequence[str], sample_weight: np.ndarray | None = None, C: float = 0.1,
            min_site_pages: int = MIN_SITE_PAGES) -> SiteStage | None:
        """Fit on the labeled lines of the pages with a signal (proba: every line's class
        probabilities, columns in `classes` order), minimising the weighted mean
        cross-entropy plus |weights|^2 / (2 C n) for n labeled lines (L-BFGS). None when
        no labeled line has a signal."""
        from scipy.optimize import minimize

        if not C > 0:
            raise ValueError(f"site_stage.C must be > 0, got {C}")
        index, page, repeats_feats = _signal_rows(page_lengths, repeats)
        labels = np.asarray(labels, dtype=object)[index]
        known = np.asarray([lab is not None for lab in labels], dtype=bool)
        if not known.any():
            return None
        classes = [str(c) for c in classes]
        target = np.eye(len(classes))[[classes.index(str(lab)) for lab in labels[known]]]
        weight = np.ones(len(index)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[index]
        weight = weight[known] / weight[known].sum()
        features = site_features(repeats_feats, PageRows(page))[known]
        logits = np.log(np.maximum(proba[index][known], PROBA_FLOOR))
        shape, penalty = (features.shape[1], len(classes)), 1 / (C * len(target))

        def loss(theta):
            w, b = theta[:-len(classes)].reshape(shape), theta[-len(classes):]
            p = softmax_rows(logits + features @ w + b)
            value = -(weight * np.log(np.maximum((p * target).sum(axis=1), 1e-300))).sum()
            grad = (p - target) * weight[:, None]
            return (value + penalty * (w ** 2).sum() / 2,
                    np.concatenate([(features.T @ grad + penalty * w).ravel(), grad.sum(axis=0)]))

        fitted = minimize(loss, np.zeros(shape[0] * shape[1] + shape[1]), jac=True, method="L-BFGS-B")
        return cls(fitted.x[:-len(classes)].reshape(shape), fitted.x[-len(classes):], classes, min_site_pages)

    def apply(self, proba: np.ndarray, page_lengths: Sequence[int],
              repeats: Sequence[RepeatCounts | None]) -> np.ndarray:
        """proba (every line of the pages, in page order) with the rows of pages with a
        signal corrected; the others unchanged."""
        if len(repeats) != len(page_lengths):
            raise ValueError(f"repeats for {len(repeats)} pages, but {len(page_lengths)} pages")
        index, page, repeats_feats = _signal_rows(page_lengths, repeats)
        if not len(index):
            return proba
        rows = PageRows(page)
        out = proba.copy()
        out[index] = corrected_proba(proba[index], site_features(repeats_feats, rows), self.weights, self.bias, rows)
        return out

    def to_dict(self) -> dict:
        return {"weights": self.weights.tolist(), "bias": self.bias.tolist(), "classes": self.classes,
                "min_site_pages": self.min_site_pages}

    @classmethod
    def from_dict(cls, d: dict) -> SiteStage:
        return cls(d["weights"], d["bias"], d["classes"], d.get("min_site_pages", MIN_SITE_PAGES))
