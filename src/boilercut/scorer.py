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
from boilercut.features import HEAD_COLUMN, LineShape, Neighbours, shift_rows, window_mean
from boilercut.normalise import line_head


@dataclass
class _Part:
    # line table -> ((n_lines, d) features, word count of each line or None)
    features: Callable[[pd.DataFrame], tuple[object, np.ndarray | None]]
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

    def decision_and_words(self, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """(the Pipeline's decision_function(table), the word count of each line of
        table["text"] when a part counted them on the way, else None)."""
        page = np.asarray(table["page"])
        k = len(self.intercept)
        total = np.tile(self.intercept, (len(table), 1)).astype(np.float64)
        words = None
        for part in self.parts:
            features, part_words = part.features(table)
            words = part_words if part_words is not None else words
            scores = np.asarray(features @ part.weights, dtype=np.float64)
            total += scores[:, :k]
            for b, offset in enumerate(part.offsets, start=1):
                total += shift_rows(scores[:, b * k:(b + 1) * k], offset, page)
            if part.smooth:
                total += window_mean(scores[:, -k:], part.smooth, page)
        return total, words

    def predict_proba(self, table: pd.DataFrame) -> np.ndarray:
        return self.predict_proba_and_words(table)[0]

    def predict_proba_and_words(self, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """(predict_proba(table), word counts as decision_and_words gives them)."""
        decision, words = self.decision_and_words(table)
        if self.n_classes == 2:  # LogisticRegression's binary case: one logit column
            positive = expit(decision[:, 0])
            return np.column_stack([1 - positive, positive]), words
        return softmax(decision, axis=1), words


def _width(transformer) -> int:
    """Number of features a fitted transformer gives. A vectorizer's is the size of its
    vocabulary: its get_feature_names_out sorts the vocabulary (35 ms of start-up)."""
    vocabulary = getattr(transformer, "vocabulary_", None)
    return len(vocabulary) if vocabulary is not None else len(transformer.get_feature_names_out())


def _feature_function(part: Neighbours) -> Callable[[pd.DataFrame], tuple[object, np.ndarray | None]]:
    """The features of one Neighbours part for a line table, before any neighbour shifting,
    and the word count of each line when the part counts words anyway (LineShape)."""
    inner = part.transformer_
    fast = fast_transform(inner) if part.column in ("text", HEAD_COLUMN) else None
    if fast is not None and part.column == HEAD_COLUMN:
        return lambda table: (fast([line_head(line) for line in table["text"].tolist()]), None)
    if fast is not None:
        return lambda table: (fast(table["text"].tolist()), None)
    if part.column is None:
        steps = inner.steps if isinstance(inner, Pipeline) else [("", inner)]
        if isinstance(steps[0][1], LineShape):
            # The model's shape part: LineShape then a scaler. Its word counts are the ones
            # the callers of the model need for the long-line guard and for statistics:
            # counting them again cost 0.07 s per 39,000 lines of dev-fineweb, 7% of cleaning.
            shape, rest = steps[0][1], (inner[1:] if len(steps) > 1 else None)

            def shape_features(table):
                features, words = shape.transform_with_words(table)
                return (features if rest is None else rest.transform(features)), words
            return shape_features
        return lambda table: (inner.transform(table), None)
    return lambda table: (inner.transform(table[part.column]), None)
