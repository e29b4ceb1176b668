"""The context stage: a second logistic regression that reads the first stage's class
probabilities of a line and of the lines around it.

The first stage (model.build_pipeline) already sees its neighbours' text and shape, but
only linearly in their features: it cannot say "the three lines above and below were
all judged teaser headlines, so this one is too, whatever its words". A teaser list
under a "Related" header is exactly that case: each headline alone reads like a news
sentence. The context stage sees, per line, the first stage's probabilities of the line
itself, of the lines up to `shift` above and below, and their means over +-radius, and
learns how much a line's neighbours should move its own decision.

It must be trained on probabilities the first stage gives to pages it was NOT trained on
(training.fit_line_model, out of fold): on its own training pages the first stage is
near-certain, and a context stage fitted on those would learn to trust confidence it
will not have.

Neighbours enter as their probabilities cubed: a neighbour moves the line only when the
first stage was confident about it. With plain probabilities the stage learned to spread
the first stage's doubt across whole regions, and on real pages where the first stage is
unsure of everything (an unfamiliar language, long bullet lists of prose) it dropped runs
of content: realweb dev-fineweb, boilerplate removed at 1% content loss, first stage
alone 33%; plain probabilities 24% and 27% (two fold draws); cubed 37% and 35%.
Strong regularisation (C) keeps it a correction for the same reason.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from boilercut.context_features import PROBA_FLOOR as _PROBA_FLOOR  # noqa: F401  (its old name here)
from boilercut.context_features import context_features, stage_proba
from boilercut.page_rows import PageRows


class ContextStage(BaseEstimator):
    """LogisticRegression over first-stage probabilities of a line and its neighbours.

    shift: the (cubed) probabilities of the lines up to `shift` above and below (0 = none).
    radii: for each radius r, their mean over the other lines within +-r.
    neighbour_power: neighbours' probabilities are raised to this power (>= 1), so that
        only confident neighbours count (see the module docstring).
    C: inverse regularisation strength of the LogisticRegression (> 0).
    Neighbours never cross a page boundary; outside the page their probabilities are 0.
    """

    def __init__(self, shift: int = 3, radii: Sequence[int] = (2, 6), neighbour_power: float = 3.0,
                 C: float = 0.03, max_iter: int = 2000):
        self.shift = shift
        self.radii = radii
        self.neighbour_power = neighbour_power
        self.C = C
        self.max_iter = max_iter

    @property
    def reach(self) -> int:
        """How many lines away the stage looks."""
        return max([self.shift, *self.radii])

    def check_params(self) -> None:
        if self.shift < 0 or any(r < 1 for r in self.radii):
            raise ValueError(f"context_stage.shift must be >= 0 and radii >= 1, got {self.shift}, {list(self.radii)}")
        if not self.neighbour_power >= 1:
            raise ValueError(f"context_stage.neighbour_power must be >= 1, got {self.neighbour_power}")
        if not self.C > 0:
            raise ValueError(f"context_stage.C must be > 0, got {self.C}")

    def features(self, proba: np.ndarray, page: np.ndarray | PageRows) -> np.ndarray:
        """(n_lines, n_classes * (2 + 2 * shift + len(radii))) features from probabilities;
        page: the page number of each line, or their PageRows (context_features.py)."""
        return context_features(proba, PageRows.of(page), self.shift, self.radii, self.neighbour_power)

    def fit(self, proba: np.ndarray, page: np.ndarray, labels: np.ndarray, classes: Sequence[str],
            sample_weight: np.ndarray | None = None) -> "ContextStage":
        """proba: out-of-fold first-stage probabilities (columns in `classes` order) of every
        line; labels: the gold label per line, None where unknown (context only)."""
        self.check_params()
        labels = np.asarray(labels, dtype=object)
        known = np.asarray([lab is not None for lab in labels])
        feats = self.features(proba, page)[known]
        self.classifier_ = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.classifier_.fit(feats, labels[known].astype(str),
                             sample_weight=None if sample_weight is None else sample_weight[known])
        if [str(c) for c in self.classifier_.classes_] != [str(c) for c in classes]:
            raise ValueError(f"context stage learned classes {list(self.classifier_.classes_)}, "
                             f"the first stage {list(classes)}")
        return self

    def predict_proba(self, proba: np.ndarray, page: np.ndarray | PageRows) -> np.ndarray:
        """The classifier's predict_proba of the features, computed from its fitted numbers as
        LogisticRegression computes it (logistic.py), without its input validation (a fixed
        cost per call), and page by page, so that a page's probabilities do not depend on the pages
        scored with it."""
        return stage_proba(self, proba, PageRows.of(page))
