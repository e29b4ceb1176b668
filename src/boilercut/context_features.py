"""The context stage's features and probabilities, from a fitted stage's numbers.

context_stage.ContextStage (a scikit-learn estimator, for training and model files) says
what the stage reads and why; this module computes it without importing scikit-learn, for
a real ContextStage and for its stand-in (stored.py) alike.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from boilercut.logistic import logistic_proba
from boilercut.page_rows import PageRows

# Probabilities are floored before the log, so a certain first stage gives a finite feature.
PROBA_FLOOR = 1e-4


def context_features(proba: np.ndarray, rows: PageRows, shift: int, radii: Sequence[int],
                     neighbour_power: float) -> np.ndarray:
    """(n_lines, n_classes * (2 + 2 * shift + len(radii))) features from probabilities: the
    line's own and their logs, its neighbours' up to `shift` away (to the power
    neighbour_power), and their means over +-radius for each radius."""
    confident = proba ** neighbour_power
    blocks = [proba, np.log(np.maximum(proba, PROBA_FLOOR))]
    blocks += [rows.shifted(confident, offset) for offset in range(-shift, shift + 1) if offset]
    blocks += [rows.window_mean(confident, radius) for radius in radii]
    return np.hstack(blocks)


def stage_proba(stage, proba: np.ndarray, rows: PageRows) -> np.ndarray:
    """The probabilities of a fitted ContextStage (or its stand-in) for first-stage
    probabilities proba."""
    if not len(proba):
        return proba
    features = context_features(proba, rows, stage.shift, stage.radii, stage.neighbour_power)
    return logistic_proba(stage.classifier_, features, rows)
