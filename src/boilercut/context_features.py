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
    offsets = [offset for offset in range(-shift, shift + 1) if offset]
    if rows.n_pages > 1:
        blocks = [proba, np.log(np.maximum(proba, PROBA_FLOOR))]
        blocks += [rows.shifted(confident, offset) for offset in offsets]
        blocks += [rows.window_mean(confident, radius) for radius in radii]
        return np.hstack(blocks)
    # One page (the line API): the same blocks written in place, shifts as slices.
    n, k = proba.shape
    out = np.zeros((n, k * (2 + len(offsets) + len(radii))), dtype=np.result_type(proba, confident))
    out[:, :k] = proba
    np.log(np.maximum(proba, PROBA_FLOOR), out=out[:, k:2 * k])
    for b, offset in enumerate(offsets, start=2):
        if offset > 0:
            out[:max(n - offset, 0), b * k:(b + 1) * k] = confident[offset:]
        else:
            out[-offset:, b * k:(b + 1) * k] = confident[:max(n + offset, 0)]
    for b, radius in enumerate(radii, start=2 + len(offsets)):
        out[:, b * k:(b + 1) * k] = rows.window_mean(confident, radius)
    return out


def stage_proba(stage, proba: np.ndarray, rows: PageRows) -> np.ndarray:
    """The probabilities of a fitted ContextStage (or its stand-in) for first-stage
    probabilities proba."""
    if not len(proba):
        return proba
    features = context_features(proba, rows, stage.shift, stage.radii, stage.neighbour_power)
    return logistic_proba(stage.classifier_, features, rows)
