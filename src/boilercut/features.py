"""Feature transformers: the shape of a line, and what its neighbours look like.

The model's input is a line table (page_lines.py says what it holds): here a pandas
DataFrame with one row per line, columns "text" and "page"; `make_line_table` builds one
from pages. The computations that need no fitted state live in page_lines.py, which
scoring uses without importing scikit-learn or pandas; this module holds the
scikit-learn transformers that training fits and model files store.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone

from boilercut.normalise import line_head
from boilercut.shared_counts import active_counts
from boilercut.page_lines import (  # noqa: F401  (re-exported: the names features.py always had)
    HEAD_COLUMN,
    MAX_FEATURE_CHARS,
    PAGE_COLUMNS,
    POSITION_NAMES,
    SHAPE_NAMES,
    LineBatch,
    _contains_neighbour,
    _duplicates_in_page,
    _position_features,
    as_line_batch,
    line_batch,
    page_bounds,
    page_columns,
    shape_features,
    shift_rows,
    whole_page_columns,
    window_mean,
)


def make_line_table(pages: Sequence[Sequence[str]],
                    whole_page: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """line_batch as a DataFrame, the input of the Pipeline's own transformers."""
    return batch_table(line_batch(pages, whole_page))


def batch_table(batch: LineBatch) -> pd.DataFrame:
    """The line table of a LineBatch."""
    # Plain Python strings (object dtype), not pandas' default Arrow strings: every feature
    # part reads the column back as Python strings, and the round trip through Arrow was a
    # noticeable share of all scoring time.
    columns = {"text": pd.Series(batch.text, dtype=object), "page": batch.page}
    if batch.whole_page is not None:
        columns.update(batch.whole_page)
    return pd.DataFrame(columns)


class LineShape(TransformerMixin, BaseEstimator):
    """Hand-made features of each line alone, plus its position in the page (dense).

    position: include where the line sits in its page (first/last, share of words
        before it, ...). Synthetic pages put footers last very consistently, so a model
        can lean on position harder than real pages justify; this switch measures that.
    """

    def __init__(self, position=False):  # as build_features and conf/features/default.yaml
        self.position = position

    def fit(self, X, y=None):
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def transform(self, X):
        return self.transform_with_words(X)[0]

    def transform_with_words(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(transform(X), the word count of each line of X["text"]), the counts being a
        by-product of the features that the callers of the model also need."""
        return self.batch_features(as_line_batch(X))

    def batch_features(self, batch: LineBatch) -> tuple[np.ndarray, np.ndarray]:
        """transform_with_words of a LineBatch (page_lines.shape_features)."""
        return shape_features(batch, self.position)

    def get_feature_names_out(self, input_features=None):
        names = SHAPE_NAMES if self.position else SHAPE_NAMES[:-len(POSITION_NAMES)]
        return np.asarray(names, dtype=object)


class ClipValues(TransformerMixin, BaseEstimator):
    """Clip standardised features to [-limit, limit] (None: unchanged).

    After StandardScaler a rare binary shape feature is huge when it fires: one set on
    0.1% of training lines becomes about 31. A weight fitted on a few such lines then
    moves a line's logit by 30 or more wherever the feature fires, or where a neighbour's
    does: a 134-word paragraph two lines above a title repeated in a menu
    (contains_neighbour at next2) scored 0.002 on realweb dev-raw."""

    def __init__(self, limit: float | None = 5.0):
        self.limit = limit

    def fit(self, X, y=None):
        if self.limit is not None and not self.limit > 0:
            raise ValueError(f"clip limit must be > 0 or None, got {self.limit}")
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return X if self.limit is None else np.clip(X, -self.limit, self.limit)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features if input_features is not None else
                          [f"x{i}" for i in range(self.n_features_in_)], dtype=object)


# While set (training.fit_pipeline), a dense part's features come out as a CSR matrix of
# the same nonzeros: the FeatureUnion then stacks parts that are all CSR, which scipy does
# by concatenating rows, where one dense part sent every part through COO (1.9 s of the
# final fit's 9 s). The stacked matrix is the same, entry for entry.
_DENSE_AS_CSR: ContextVar[bool] = ContextVar("boilercut_dense_as_csr", default=False)


@contextmanager
def dense_parts_as_csr() -> Iterator[None]:
    token = _DENSE_AS_CSR.set(True)
    try:
        yield
    finally:
        _DENSE_AS_CSR.reset(token)


# While set (training.fit_pipeline, for boilercut's own solver), a dense part's features
# are put in this list and the part gives an empty CSR matrix of their shape and type: the
# FeatureUnion then stacks the sparse parts alone, and the solver takes the dense block as
# it is. Stacked as CSR, the dense block was most of the stored values (66,838 lines x
# 208 columns), copied several times on the way to the solver, which made it dense again.
_DENSE_ASIDE: ContextVar[list | None] = ContextVar("boilercut_dense_aside", default=None)


@contextmanager
def dense_parts_aside() -> Iterator[list]:
    """Inside, the dense parts' features, in the order the parts give them."""
    aside: list = []
    token = _DENSE_ASIDE.set(aside)
    try:
        yield aside
    finally:
        _DENSE_ASIDE.reset(token)


class Neighbours(TransformerMixin, BaseEstimator):
    """Apply `transformer` to each line, then add the same features of nearby lines.

    column: the table column passed to `transformer` ("text" for a vectorizer), or None
        for the whole table (LineShape needs the page numbers).
    window: neighbours at offsets -window..-1 and 1..window are appended (0 = line only).
    smooth: also append the mean over lines within +-smooth of the line (0 = off; dense
        features only), which says "this line sits in a run of short lines".
    Neighbours never cross a page boundary: outside the page their features are zero.
    """

    def __init__(self, transformer=None, column=None, window=1, smooth=0):
        self.transformer = transformer
        self.column = column
        self.window = window
        self.smooth = smooth

    def inputs(self, X):
        """What `transformer` reads of the line table X."""
        if self.column == HEAD_COLUMN:  # derived from the text when a part asks for it
            return [line_head(line) for line in X["text"]]
        return X if self.column is None else X[self.column]

    def fit(self, X, y=None):
        self._check_reach()
        self.transformer_ = clone(self.transformer).fit(self.inputs(X), y)
        return self

    def fit_transform(self, X, y=None):
        """fit(X).transform(X), the same numbers to the last bit, with one pass of the
        transformer over X instead of two: a vectorizer's analysis of every line was a
        fifth of training time (benchmarks/NOTES.md, "Training time")."""
        self._check_reach()
        shared = active_counts(self.column, self.transformer, len(X["text"]))
        if shared is not None:  # the lines were counted once for every fit (shared_counts.py)
            counted, rows = shared
            self.transformer_, feats = counted.fitted(self.transformer, rows)
        else:
            self.transformer_, feats = fitted_with_output(self.transformer, self.inputs(X), y)
        return self._with_neighbours(feats, X)

    def _check_reach(self):
        if self.window < 0 or self.smooth < 0:
            raise ValueError(f"window and smooth must be >= 0, got {self.window}, {self.smooth}")

    def transform(self, X):
        return self._with_neighbours(self.transformer_.transform(self.inputs(X)), X)

    def _with_neighbours(self, feats, X):
        """The features of each line, then those of its neighbours (and their run mean)."""
        page = np.asarray(X["page"])
        blocks = [feats]
        for offset in self._offsets():
            blocks.append(shift_rows(feats, offset, page))
        if self.smooth:
            if sp.issparse(feats):
                raise ValueError("smooth needs dense features; use it with LineShape")
            blocks.append(window_mean(feats, self.smooth, page))
        if sp.issparse(feats):
            return sp.hstack(blocks, format="csr")
        out = np.hstack(blocks)
        aside = _DENSE_ASIDE.get()
        if aside is not None:
            aside.append(out)
            return sp.csr_matrix(out.shape, dtype=out.dtype)
        return sp.csr_matrix(out) if _DENSE_AS_CSR.get() else out

    def _offsets(self):
        return [o for o in range(-self.window, self.window + 1) if o != 0]

    def get_feature_names_out(self, input_features=None):
        inner = list(self.transformer_.get_feature_names_out())
        names = list(inner)
        for offset in self._offsets():
            tag = f"prev{-offset}" if offset < 0 else f"next{offset}"
            names += [f"{tag}:{n}" for n in inner]
        if self.smooth:
            names += [f"mean{self.smooth}:{n}" for n in inner]
        return np.asarray(names, dtype=object)


def tfidf_parts(union) -> list["Neighbours"]:
    """The parts of a feature union that are TfidfVectorizers in Neighbours."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return [part for _, part in union.transformer_list
            if isinstance(part, Neighbours) and type(part.transformer) is TfidfVectorizer]


def fitted_with_output(transformer, data, y=None) -> tuple:
    """(a fitted clone of transformer, its transform of data), as clone().fit(data) and
    .transform(data) give them, from one pass over data."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if isinstance(transformer, TfidfVectorizer):
        return _fitted_tfidf(transformer, data)
    fitted = clone(transformer)
    return fitted, fitted.fit_transform(data, y)


def _fitted_tfidf(vectorizer, texts) -> tuple:
    """A TfidfVectorizer fitted as its fit() fits it, and its transform of the texts.

    Its own fit_transform counts once too, but weighs the counts with each row's
    columns in the order that sorting and cutting the vocabulary left them in, so each
    row's norm is summed in another order than transform()'s, which counts into sorted
    rows: the features could differ in the last bit from those the model is scored with.
    Here the counts are sorted first (tests/test_features.py checks the equality)."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    fitted = clone(vectorizer)
    # What TfidfVectorizer.fit does, attribute for attribute, in the same order.
    fitted._tfidf = TfidfTransformer(norm=fitted.norm, use_idf=fitted.use_idf, smooth_idf=fitted.smooth_idf,
                                     sublinear_tf=fitted.sublinear_tf)
    counts = CountVectorizer.fit_transform(fitted, texts)
    counts.sort_indices()
    fitted._tfidf.fit(counts)
    return fitted, fitted._tfidf.transform(counts, copy=False)
