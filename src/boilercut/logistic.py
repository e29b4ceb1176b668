"""A fitted LogisticRegression's probabilities from its fitted numbers, the same numbers
scikit-learn computes, without importing scikit-learn.

LogisticRegression.predict_proba is a product with the transposed weights plus the
intercepts, then a softmax over the classes (or, for two classes, the logistic function
of the one decision column). The softmax here is the same operations in the same order
as scikit-learn's (sklearn.utils.extmath.softmax) and SciPy's (scipy.special.softmax):
exp(x - max) / sum. The product goes page by page (page_rows.PageRows.dot), so that a
page's probabilities do not depend on the pages scored with it.
"""
from __future__ import annotations

import numpy as np

from boilercut.page_rows import PageRows


def softmax_rows(decision: np.ndarray) -> np.ndarray:
    """The softmax of each row.

    With few classes the row maxima and sums are taken column by column: numpy reduces a
    row of fewer than 8 values by adding them in order, as here (the maximum is exact in
    any order), while its per-row reduction costs more than the arithmetic on a page."""
    k = decision.shape[1] if decision.ndim == 2 else 0
    if not 2 <= k < 8:
        shifted = np.exp(decision - np.max(decision, axis=1, keepdims=True))
        return shifted / np.sum(shifted, axis=1, keepdims=True)
    top = np.maximum(decision[:, 0], decision[:, 1])
    for j in range(2, k):
        np.maximum(top, decision[:, j], out=top)
    shifted = np.exp(decision - top[:, None])
    total = shifted[:, 0] + shifted[:, 1]
    for j in range(2, k):
        total += shifted[:, j]
    return shifted / total[:, None]


def two_class_proba(decision: np.ndarray) -> np.ndarray:
    """(1 - p, p) for p the logistic function of the decision column."""
    from scipy.special import expit  # only two-class models need it (an import worth saving)

    positive = expit(decision)
    return np.stack([1 - positive, positive], axis=1)


def logistic_proba(classifier, features: np.ndarray, rows: PageRows) -> np.ndarray:
    """classifier.predict_proba(features) for a fitted LogisticRegression (or its stand-in,
    stored.py): its coef_ and intercept_ are all it reads."""
    decision = rows.dot(features, classifier.coef_.T) + classifier.intercept_
    if decision.shape[1] == 1:  # two classes: one decision column
        return two_class_proba(decision.reshape(-1))
    return softmax_rows(decision)
