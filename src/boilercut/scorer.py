"""Class probabilities of a fitted line Pipeline, computed part by part.

The Pipeline is linear up to the softmax: FeatureUnion of Neighbours parts, then
LogisticRegression. Scoring it as scikit-learn does builds the full feature matrix: each
part's features, shifted copies of them for every neighbour, run means, all stacked into
one sparse matrix of ~20 million entries per 40,000 lines, then multiplied by the weights.
A neighbour's features only ever meet their own weight block, so the same sum can be
taken in the other order: multiply each part's features once by all of its weight blocks
(a few columns per class), then shift and average those few columns. That is the same
decision function, computed without stacking anything.

The parts' features come from fast_tfidf where it reproduces the vectorizer exactly, and
from the transformers themselves otherwise. A Pipeline of any other structure gets no
LinearScorer (from_pipeline returns None) and is scored by scikit-learn.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy.special import expit, softmax
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from boilercut.fast_tfidf import fast_transform
from boilercut.features import Neighbours, shift_rows, window_mean


@dataclass
class _Part:
    features: Callable[[pd.DataFrame], object]  # line table -> (n_lines, d) features
    weights: np.ndarray  # (d, n_classes * n_blocks): the line's block, then each offset's, then the mean's
    offsets: list[int]
    smooth: int


class LinearScorer:
    """predict_proba of a line Pipeline, the same numbers computed without stacking
    shifted feature copies (see the module docstring)."""

    def __init__(self, parts: list[_Part], intercept: np.ndarray, n_classes: int):
        self.parts = parts
        self.intercept = intercept
        self.n_classes = n_classes

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline) -> "LinearScorer | None":
        steps = list(pipeline.named_steps.values())
        if len(steps) != 2 or not isinstance(steps[0], FeatureUnion) \
                or type(steps[1]) is not LogisticRegression:
            return None
        union, classifier = steps
        coef = classifier.coef_  # (1 for two classes, else n_classes) x n_features
        weights = union.transformer_weights or {}
        parts, start = [], 0
        for name, part in union.transformer_list:
            if not isinstance(part, Neighbours) or not hasattr(part, "transformer_"):
                return None
            width = _width(part.transformer_)
            offsets = part._offsets()
            blocks = 1 + len(offsets) + (1 if part.smooth else 0)
            block_weights = coef[:, start:start + width * blocks] * weights.get(name, 1.0)
            start += width * blocks
            # (k, blocks * width) -> (width, blocks * k): one column per block and class.
            stacked = block_weights.reshape(len(coef), blocks, width).transpose(2, 1, 0).reshape(width, -1)
            parts.append(_Part(_feature_function(part), np.ascontiguousarray(stacked), offsets, part.smooth))
        if start != coef.shape[1]:
            return None
        return cls(parts, classifier.intercept_, len(classifier.classes_))

    def decision_function(self, table: pd.DataFrame) -> np.ndarray:
        page = np.asarray(table["page"])
        k = len(self.intercept)
        total = np.tile(self.intercept, (len(table), 1)).astype(np.float64)
        for part in self.parts:
            scores = np.asarray(part.features(table) @ part.weights, dtype=np.float64)
            total += scores[:, :k]
            for b, offset in enumerate(part.offsets, start=1):
                total += shift_rows(scores[:, b * k:(b + 1) * k], offset, page)
            if part.smooth:
                total += window_mean(scores[:, -k:], part.smooth, page)
        return total

    def predict_proba(self, table: pd.DataFrame) -> np.ndarray:
        decision = self.decision_function(table)
        if self.n_classes == 2:  # LogisticRegression's binary case: one logit column
            positive = expit(decision[:, 0])
            return np.column_stack([1 - positive, positive])
        return softmax(decision, axis=1)


def _width(transformer) -> int:
    """Number of features a fitted transformer gives. A vectorizer's is the size of its
    vocabulary: its get_feature_names_out sorts the vocabulary (35 ms of start-up)."""
    vocabulary = getattr(transformer, "vocabulary_", None)
    return len(vocabulary) if vocabulary is not None else len(transformer.get_feature_names_out())


def _feature_function(part: Neighbours) -> Callable[[pd.DataFrame], object]:
    """The features of one Neighbours part for a line table, before any neighbour shifting."""
    inner = part.transformer_
    fast = fast_transform(inner) if part.column == "text" else None
    if fast is not None:
        return lambda table: fast(table["text"].tolist())
    if part.column is None:
        return inner.transform
    return lambda table: inner.transform(table[part.column])
