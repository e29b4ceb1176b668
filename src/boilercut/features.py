"""Feature transformers: the shape of a line, and what its neighbours look like.

The model's input is a line table: a pandas DataFrame with one row per line, columns
"text" (the line) and "page" (an integer page number). Lines of a page are contiguous
and in page order; `make_line_table` builds such a table from pages. Scoring
(scorer.LinearScorer) reads the same columns from a LineBatch, the table without pandas:
building a DataFrame cost a third of a millisecond per call, a tenth of scoring a page.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone

from boilercut.line_shape import LINE_SHAPE_NAMES, MAX_WORDS, shape_matrix, word_counts
from boilercut.normalise import line_head
from boilercut.page_rows import PageRows

HEAD_COLUMN = "head"  # Neighbours(column="head"): the first words of each line (normalise.line_head)

SHAPE_NAMES = LINE_SHAPE_NAMES + (
    "contains_neighbour", "duplicate_in_page",
    "rel_position", "log_position", "log_from_end", "is_first", "is_last", "log_page_lines",
    "words_before_share", "words_share", "log_words_below_page_max",
)


# Features look at most this many characters of a line (its head and its tail): a 50 MB
# line would otherwise make the char n-gram vectorizer build hundreds of millions of
# n-grams, and 4,000 characters already say all there is to say about a line's kind.
MAX_FEATURE_CHARS = 4000
# Lone surrogates: how textio carries undecodable input bytes (Latin-1 pages). The line
# itself keeps them for byte-for-byte output; the features see U+FFFD instead (the
# models were trained that way: pandas' Arrow-backed strings cannot hold surrogates).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clip(line: str) -> str:
    """The part of a line the features see: head and tail, surrogates replaced."""
    if len(line) > MAX_FEATURE_CHARS:
        half = MAX_FEATURE_CHARS // 2
        line = line[:half] + " " + line[-half:]
    return line if line.isascii() else _SURROGATE.sub("\ufffd", line)


class LineBatch(NamedTuple):
    """The columns of a line table, without the table."""
    text: list[str]                        # every line as the features see it (_clip)
    page: np.ndarray                       # its page number (int64), pages contiguous
    whole_page: dict[str, np.ndarray] | None = None  # PAGE_COLUMNS of every row, or None


def line_batch(pages: Sequence[Sequence[str]], whole_page: dict[str, np.ndarray] | None = None) -> LineBatch:
    """One row per line of every page, with its page number; whole_page: PAGE_COLUMNS for
    every row, when the pages are windows of longer pages (whole_page_columns)."""
    sizes = [len(p) for p in pages]
    text = [_clip(line) for page in pages for line in page]
    page = np.repeat(np.arange(len(pages), dtype=np.int64), sizes)
    if whole_page is not None:
        whole_page = {name: whole_page[name] for name in PAGE_COLUMNS}
    return LineBatch(text, page, whole_page)


def as_line_batch(table) -> LineBatch:
    """A LineBatch of a line table (a DataFrame with the columns make_line_table gives it),
    or the LineBatch itself."""
    if isinstance(table, LineBatch):
        return table
    carried = None
    if all(name in table for name in PAGE_COLUMNS):
        carried = {name: np.asarray(table[name]) for name in PAGE_COLUMNS}
    return LineBatch(table["text"].tolist(), np.asarray(table["page"]), carried)


def make_line_table(pages: Sequence[Sequence[str]],
                    whole_page: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """line_batch as a DataFrame, the input of the Pipeline's own transformers."""
    return batch_table(line_batch(pages, whole_page))


def batch_table(batch: LineBatch) -> pd.DataFrame:
    """The line table of a LineBatch."""
    # Plain Python strings (object dtype), not pandas' default Arrow strings: every feature
    # part reads the column back as Python strings, and the round trip through Arrow cost
    # 0.06 s per 39,000 lines (a twentieth of all scoring time).
    columns = {"text": pd.Series(batch.text, dtype=object), "page": batch.page}
    if batch.whole_page is not None:
        columns.update(batch.whole_page)
    return pd.DataFrame(columns)


def page_bounds(page: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the index of the first row of its page and one past its last row."""
    n = len(page)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(np.diff(page)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n]))
    lengths = ends - starts
    return np.repeat(starts, lengths), np.repeat(ends, lengths)


POSITION_NAMES = SHAPE_NAMES[SHAPE_NAMES.index("rel_position"):]
# What the whole page says about each of its lines (the duplicate mark and the inputs of
# the position features). A line table may carry these as columns: a page longer than a
# scoring chunk is scored in windows (model.LineModel), whose lines must see their whole
# page, not the window, to score as they would in the whole page.
PAGE_COLUMNS = ("duplicate_in_page", "line_in_page", "page_lines", "words_before", "page_words",
                "page_max_log_words")


def page_columns(texts: list[str], page: np.ndarray, words: np.ndarray) -> dict[str, np.ndarray]:
    """PAGE_COLUMNS of every line of a line table: texts as the features see them (a
    table's "text"), page its page numbers, words the word count of each text."""
    start, end = page_bounds(page)
    pos = np.arange(len(texts)) - start
    # Word counts are whole numbers, so these running sums are exact in float64 and a
    # window's slice of them equals what the whole page gives.
    cum = np.concatenate(([0.0], np.cumsum(words)))
    log_words = np.log1p(np.minimum(words, MAX_WORDS))
    first = np.flatnonzero(pos == 0)
    n = end - start
    return {"duplicate_in_page": _duplicates_in_page(texts, page), "line_in_page": pos,
            "page_lines": n, "words_before": cum[:-1] - cum[start], "page_words": cum[end] - cum[start],
            "page_max_log_words": np.repeat(np.maximum.reduceat(log_words, first), n[first])}


def whole_page_columns(lines: Sequence[str], slice_lines: int) -> dict[str, np.ndarray]:
    """PAGE_COLUMNS of one page's lines, computed over the whole page; words are counted
    slice_lines lines at a time, so memory stays that of the page's text."""
    texts = [_clip(line) for line in lines]
    words = np.concatenate([np.zeros(0)] + [word_counts(texts[i:i + slice_lines]).astype(np.float64)
                                            for i in range(0, len(texts), slice_lines)])
    return page_columns(texts, np.zeros(len(texts), dtype=np.int64), words)


def _position_features(whole_page: dict[str, np.ndarray], words: np.ndarray) -> np.ndarray:
    """Where each line sits in its page (POSITION_NAMES), from its page's PAGE_COLUMNS."""
    pos, n = whole_page["line_in_page"], whole_page["page_lines"]
    # Where the line sits in the page's mass of words: menus come before most of the
    # words, footers after them, and the main text holds most of them.
    page_words = np.maximum(whole_page["page_words"], 1.0)
    log_words = np.log1p(np.minimum(words, MAX_WORDS))
    return np.column_stack([
        pos / np.maximum(n - 1, 1), np.log1p(pos), np.log1p(n - 1 - pos),
        pos == 0, pos == n - 1, np.log1p(n),
        whole_page["words_before"] / page_words, words / page_words,
        whole_page["page_max_log_words"] - log_words,
    ]).astype(np.float64)


class LineShape(TransformerMixin, BaseEstimator):
    """Hand-made features of each line alone, plus its position in the page (dense).

    position: include where the line sits in its page (first/last, share of words
        before it, ...). Synthetic pages put footers last very consistently, so a model
        can lean on position harder than real pages justify; this switch measures that.
    """

    def __init__(self, position=True):
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
        """transform_with_words of a LineBatch."""
        texts, page = batch.text, batch.page
        if not texts:
            return np.zeros((0, len(self.get_feature_names_out()))), np.zeros(0)
        line_shape, words = shape_matrix(texts)
        # What the whole page says about each line: the table's own pages, unless the table
        # is a window of a longer page and carries them (see PAGE_COLUMNS). Without position
        # features that is only the duplicate mark.
        whole_page = batch.whole_page
        if whole_page is None:
            whole_page = (page_columns(texts, page, words) if self.position
                          else {"duplicate_in_page": _duplicates_in_page(texts, page)})
        # Page-level marks: a title bar repeating its neighbour, and lines that recur on the
        # page (menus at top and bottom, the same headline in two lists).
        shape = np.column_stack([line_shape, _contains_neighbour(texts, page), whole_page["duplicate_in_page"]])
        if not self.position:
            return shape, words
        return np.hstack([shape, _position_features(whole_page, words)]), words

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


def _contains_neighbour(texts: list[str], page: np.ndarray) -> np.ndarray:
    """1 where the line holds the whole text of the line above or below it and more: a title
    bar or breadcrumb that repeats the headline ("Home > Finance<headline> -Site").
    The neighbour (stripped) must be at least 20 characters long and the line 4 more; the
    lengths are compared with numpy, so only the pairs that pass get a substring search."""
    out = np.zeros(len(texts))
    if len(texts) < 2:
        return out
    stripped = [t.strip() for t in texts]
    length = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    stripped_length = np.fromiter(map(len, stripped), dtype=np.int64, count=len(texts))
    same_page = page[1:] == page[:-1]
    for line, other in ((np.arange(1, len(texts)), np.arange(len(texts) - 1)),   # the line above
                        (np.arange(len(texts) - 1), np.arange(1, len(texts)))):  # the line below
        pairs = same_page & (stripped_length[other] >= 20) & (length[line] > stripped_length[other] + 3)
        hits = [i for i, j in zip(line[pairs].tolist(), other[pairs].tolist()) if stripped[j] in texts[i]]
        out[hits] = 1.0
    return out


def _duplicates_in_page(texts: list[str], page: np.ndarray) -> np.ndarray:
    """1 where the same stripped text occurs elsewhere in the page (lists repeat headlines).

    (Counted in a dict of (page, text) pairs: 0.024 s per 39,000 lines of dev-fineweb
    against 0.036 s for pandas' DataFrame.duplicated, half of it the strip and lower.)"""
    keys = list(zip(page.tolist(), [t.strip().lower() for t in texts]))
    counts = Counter(keys)
    return (np.fromiter(map(counts.__getitem__, keys), dtype=np.int64, count=len(keys)) > 1).astype(np.float64)


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

    def _input(self, X):
        if self.column == HEAD_COLUMN:  # derived from the text when a part asks for it
            return [line_head(line) for line in X["text"]]
        return X if self.column is None else X[self.column]

    def fit(self, X, y=None):
        if self.window < 0 or self.smooth < 0:
            raise ValueError(f"window and smooth must be >= 0, got {self.window}, {self.smooth}")
        self.transformer_ = clone(self.transformer).fit(self._input(X), y)
        return self

    def transform(self, X):
        feats = self.transformer_.transform(self._input(X))
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
        return np.hstack(blocks)

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


def shift_rows(feats, offset: int, page: np.ndarray):
    """Row i gets row i+offset when that row is on the same page, else zeros."""
    n = len(page)
    src = np.arange(n) + offset
    valid = (src >= 0) & (src < n)
    src = np.clip(src, 0, max(n - 1, 0))
    valid &= page[src] == page if n else valid
    if sp.issparse(feats):
        return sp.diags(valid.astype(np.float64)) @ feats.tocsr()[src]
    return feats[src] * valid[:, None]


def window_mean(feats: np.ndarray, radius: int, page: np.ndarray | PageRows) -> np.ndarray:
    """Mean of rows i-radius..i+radius except row i itself, clipped to the page; zeros for a
    line alone on its page (page_rows.PageRows.window_mean, which says why and how)."""
    return PageRows.of(page).window_mean(feats, radius)
