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

The scorer reads a page_lines.LineBatch (plain lists and arrays, no DataFrame), and what
it can take from the fitted steps once (the scaler's means and scales, the clip limit) it
takes when it is built, not on every call: on a page of 24 lines, the fixed cost of the
calls (pandas, scikit-learn's input validation) was most of the time. Dense products and
window means go page by page (page_rows.PageRows), so a page scores the same alone and in
a batch. It reads only the fitted steps' attributes, which the stand-ins of a model file
(stored.py) have as well: scoring a model file's Pipeline imports no scikit-learn.

What is left of a page's time is mostly numpy's fixed cost per call, spread over the three
feature parts (where the time goes, step by step: benchmarks/NOTES.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from boilercut.fast_tfidf import FastTfidf, fast_transform
from boilercut.logistic import softmax_rows, two_class_proba
from boilercut.normalise import line_head
from boilercut.page_lines import HEAD_COLUMN, LineBatch, as_line_batch, shape_features
from boilercut.page_rows import PageRows
from boilercut.sparsetools import is_sparse
from boilercut.stored import class_name, is_a, materialize

PIPELINE = "sklearn.pipeline.Pipeline"
FEATURE_UNION = "sklearn.pipeline.FeatureUnion"
LOGISTIC_REGRESSION = "sklearn.linear_model._logistic.LogisticRegression"
STANDARD_SCALER = "sklearn.preprocessing._data.StandardScaler"
NEIGHBOURS = "boilercut.features.Neighbours"
LINE_SHAPE = "boilercut.features.LineShape"
CLIP_VALUES = "boilercut.features.ClipValues"


def pipeline_steps(pipeline) -> list:
    """The estimators of a Pipeline (or of its stand-in), in order."""
    return [step for _, step in pipeline.steps]


def neighbour_offsets(part) -> list[int]:
    """The neighbour offsets of a Neighbours part (Neighbours._offsets)."""
    return [o for o in range(-part.window, part.window + 1) if o != 0]


@dataclass
class _Part:
    # lines -> (n_lines, d) features
    features: Callable[[LineBatch], object]
    weights: np.ndarray  # (d, n_classes * n_blocks): the line's block, then each offset's, then the mean's
    offsets: list[int]
    smooth: int
    # lines -> ((n_lines, d) features, word count of each line): set for a part that counts
    # the words of its lines on the way (the shape part, _shape_part), None for the others.
    features_and_words: Callable[[LineBatch], tuple[object, np.ndarray]] | None = None
    # (lines, weights) -> features(lines) @ weights, the same numbers without building the
    # features as a matrix first: set for the parts fast_tfidf computes, None for the others.
    products: Callable[[LineBatch, np.ndarray], np.ndarray] | None = None


class LinearScorer:
    """predict_proba of a line Pipeline, the same numbers computed without stacking
    shifted feature copies (see the module docstring)."""

    def __init__(self, parts: list[_Part], intercept: np.ndarray, n_classes: int):
        self.parts = parts
        self.intercept = intercept
        self.n_classes = n_classes

    @classmethod
    def from_pipeline(cls, pipeline) -> "LinearScorer | None":
        """The scorer of a fitted Pipeline (or of its stand-in), None for a Pipeline of any
        other structure."""
        if not is_a(pipeline, PIPELINE):
            return None
        steps = pipeline_steps(pipeline)
        if len(steps) != 2 or not is_a(steps[0], FEATURE_UNION) or class_name(steps[1]) != LOGISTIC_REGRESSION:
            return None
        union, classifier = steps
        coef = classifier.coef_  # (1 for two classes, else n_classes) x n_features
        weights = union.transformer_weights or {}
        parts, start = [], 0
        for name, part in union.transformer_list:
            if not is_a(part, NEIGHBOURS) or not hasattr(part, "transformer_"):
                return None
            width = _width(part.transformer_)
            offsets = neighbour_offsets(part)
            blocks = 1 + len(offsets) + (1 if part.smooth else 0)
            block_weights = coef[:, start:start + width * blocks] * weights.get(name, 1.0)
            start += width * blocks
            # (k, blocks * width) -> (width, blocks * k): one column per block and class.
            stacked = block_weights.reshape(len(coef), blocks, width).transpose(2, 1, 0).reshape(width, -1)
            shape = _shape_part(part)
            fast = fast_transform(part.transformer_) if shape is None and part.column in ("text", HEAD_COLUMN) else None
            features = _feature_function(part, fast) if shape is None else (lambda batch, shape=shape: shape(batch)[0])
            products = _products_function(part, fast) if fast is not None else None
            parts.append(_Part(features, np.ascontiguousarray(stacked), offsets, part.smooth, shape, products))
        if start != coef.shape[1]:
            return None
        return cls(parts, classifier.intercept_, len(classifier.classes_))

    def decision_and_words(self, table, rows: PageRows | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(the Pipeline's decision_function(table), the word count of each line of
        table["text"] when a part counted them on the way (features_and_words), else
        None). table: a LineBatch or a line table; rows: PageRows of its pages, when the
        caller has them."""
        batch = as_line_batch(table)
        rows = PageRows(batch.page) if rows is None else rows
        k = len(self.intercept)
        total = np.empty((len(batch.text), k), dtype=np.float64)
        total[:] = self.intercept
        words = None
        for part in self.parts:
            if part.products is not None:
                scores = part.products(batch, part.weights)
            else:
                if part.features_and_words is not None:
                    features, words = part.features_and_words(batch)
                else:
                    features = part.features(batch)
                products = features @ part.weights if is_sparse(features) else rows.dot(features, part.weights)
                scores = np.asarray(products, dtype=np.float64)
            total += scores[:, :k]
            for b, offset in enumerate(part.offsets, start=1):
                rows.add_shifted(total, scores[:, b * k:(b + 1) * k], offset)
            if part.smooth:
                total += rows.window_mean(scores[:, -k:], part.smooth)
        return total, words

    def predict_proba(self, table) -> np.ndarray:
        return self.predict_proba_and_words(table)[0]

    def predict_proba_and_words(self, table, rows: PageRows | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(predict_proba(table), word counts as decision_and_words gives them)."""
        decision, words = self.decision_and_words(table, rows)
        if self.n_classes == 2:  # LogisticRegression's binary case: one logit column
            return two_class_proba(decision[:, 0]), words
        return softmax_rows(decision), words


def _width(transformer) -> int:
    """Number of features a fitted transformer gives. A vectorizer's is the size of its
    vocabulary: its get_feature_names_out sorts the vocabulary (a cost at every start-up)."""
    vocabulary = getattr(transformer, "vocabulary_", None)
    if vocabulary is not None:
        return len(vocabulary)
    if is_a(transformer, PIPELINE):
        return _width(pipeline_steps(transformer)[-1])
    if class_name(transformer) == LINE_SHAPE:
        return transformer.n_features_out_
    if class_name(transformer) in (STANDARD_SCALER, CLIP_VALUES):
        return transformer.n_features_in_
    return len(materialize(transformer).get_feature_names_out())


def _shape_part(part) -> Callable[[LineBatch], tuple[np.ndarray, np.ndarray]] | None:
    """For the model's shape part (a Neighbours part of the whole table whose transformer
    is LineShape, then a scaler), its features and the word count of each line, which
    LineShape computes on the way; None for any other part. The word counts are the ones
    the callers of the model need for the long-line guard and for statistics, which
    would otherwise count them again (a cost worth avoiding: benchmarks/NOTES.md,
    "Timing figures from the code")."""
    inner = part.transformer_
    steps = pipeline_steps(inner) if is_a(inner, PIPELINE) else [inner]
    if part.column is not None or class_name(steps[0]) != LINE_SHAPE:
        return None
    position = steps[0].position
    rest = _standardise(steps[1:])
    if rest is None:  # other steps after LineShape: scikit-learn applies them
        rest = materialize(inner)[1:].transform if len(steps) > 1 else (lambda features: features)

    def features_and_words(batch: LineBatch) -> tuple[np.ndarray, np.ndarray]:
        features, words = shape_features(batch, position)
        return rest(features), words
    return features_and_words


def _feature_function(part, fast: FastTfidf | None) -> Callable[[LineBatch], object]:
    """The features of one Neighbours part other than the shape part (_shape_part) for a
    LineBatch, before any neighbour shifting; fast: fast_transform of its transformer, if
    it has one."""
    inner = part.transformer_
    if fast is not None and part.column == HEAD_COLUMN:
        return lambda batch: fast([line_head(line) for line in batch.text])
    if fast is not None:
        return lambda batch: fast(batch.text)
    # Any other part: its fitted transformer, which scikit-learn applies to a DataFrame.
    from boilercut.features import batch_table

    real = materialize(inner)
    if part.column is None:
        return lambda batch: real.transform(batch_table(batch))
    return lambda batch: real.transform(batch_table(batch)[part.column])


def _products_function(part, fast: FastTfidf) -> Callable[[LineBatch, np.ndarray], np.ndarray]:
    """(lines, weights) -> the part's features @ weights (_feature_function's features), for
    a part whose features fast_tfidf computes."""
    if part.column == HEAD_COLUMN:
        return lambda batch, weights: fast.products([line_head(line) for line in batch.text], weights)
    return lambda batch, weights: fast.products(batch.text, weights)


def _standardise(steps: list) -> Callable[[np.ndarray], np.ndarray] | None:
    """StandardScaler, optionally then ClipValues, as the fitted steps' transform computes
    them (the same operations in the same order: a copy, minus the means, divided by the
    scales, clipped), without their input validation, which costs more than the
    arithmetic on a page. None for any other steps."""
    names = [class_name(step) for step in steps]
    if names not in ([STANDARD_SCALER], [STANDARD_SCALER, CLIP_VALUES]):
        return None
    scaler = steps[0]
    mean = scaler.mean_ if scaler.with_mean else None
    scale = scaler.scale_ if scaler.with_std else None
    limit = steps[1].limit if len(steps) == 2 else None

    def standardise(features: np.ndarray) -> np.ndarray:
        x = np.array(features, dtype=np.float64)
        if mean is not None:
            x -= mean.astype(x.dtype)
        if scale is not None:
            x /= scale.astype(x.dtype)
        return x if limit is None else np.clip(x, -limit, limit)
    return standardise
