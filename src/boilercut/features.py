"""Feature transformers: the shape of a line, and what its neighbours look like.

The model's input is a line table: a pandas DataFrame with one row per line, columns
"text" (the line) and "page" (an integer page number). Lines of a page are contiguous
and in page order; `make_line_table` builds such a table from pages.
"""
from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone

from boilercut.lines import count_words

TERMINAL = tuple(".!?。！？…\"'”’»")
# Separators that flattened menus and breadcrumbs use between items.
SEPARATORS = (" > ", " | ", " » ", " / ", " · ", " • ", " › ", " :: ", " - ", "|", ">")
BULLETS = ("- ", "• ", "* ", "· ", "– ", "» ", "› ", "► ", "▶ ")
_NUMBERED = re.compile(r"^\s*\(?\d{1,3}[.)]\s")
_COUNTER = re.compile(r"\(\s*[\d.,]+\s*[kKmM]?\s*\)|^\s*[\d.,]+\s*[kKmM]?\s*$|\d[\d.,]*\s*[kKmM]\b")
_YEAR = re.compile(r"\b(19|20)\d\d\b")
# Two words glued where an extractor dropped the break between two HTML elements:
# "FinanceBlinken", "WatsonKathryn Watson is", "HomeNewsSport" (menus, bylines, title bars).
_GLUED = re.compile(r"[a-z\u00e0-\u00ff][A-Z\u00c0-\u00de][a-z]")
_LINKISH = re.compile(r"https?://|www\.|@\w|\.(com|org|net)\b")
# Cells of a table row ("| a | b |") and items of a flattened menu or breadcrumb.
_SEGMENTS = re.compile(r"\s[>»›·•/]\s|\|")
# Lengths are capped before the log: a linear model extrapolates, and a 5,000-word table
# cell (old table layouts rendered by trafilatura) must not look stranger than a 400-word one.
MAX_CHARS, MAX_WORDS = 2000, 400
RATIO_CHARS = 300

SHAPE_NAMES = (
    "log_chars", "log_words", "ends_terminal", "ends_colon", "ends_digit", "starts_bullet",
    "starts_numbered", "starts_upper", "digit_ratio", "upper_ratio", "punct_ratio",
    "titlecase_ratio", "has_counter", "has_year", "has_copyright",
    "has_link", "has_quote", "mean_word_len", "is_cjk",
    "separator_density", "starts_pipe", "log_longest_segment", "segments", "glued_words",
    "contains_neighbour", "duplicate_in_page",
    "rel_position", "log_position", "log_from_end", "is_first", "is_last", "log_page_lines",
    "words_before_share", "words_share", "log_words_below_page_max",
)


# Features look at most this many characters of a line (its head and its tail): a 50 MB
# line would otherwise make the char n-gram vectorizer build hundreds of millions of
# n-grams, and 4,000 characters already say all there is to say about a line's kind.
MAX_FEATURE_CHARS = 4000
# Lone surrogates: how textio carries undecodable input bytes (Latin-1 pages). The line
# itself keeps them for byte-for-byte output; the features see U+FFFD instead, because
# pandas' Arrow-backed strings cannot hold them (UnicodeEncodeError).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clip(line: str) -> str:
    """The part of a line the features see: head and tail, surrogates replaced."""
    if len(line) > MAX_FEATURE_CHARS:
        half = MAX_FEATURE_CHARS // 2
        line = line[:half] + " " + line[-half:]
    return line if line.isascii() else _SURROGATE.sub("\ufffd", line)


def make_line_table(pages: Sequence[Sequence[str]]) -> pd.DataFrame:
    """One row per line of every page, with its page number."""
    sizes = [len(p) for p in pages]
    text = [_clip(line) for page in pages for line in page]
    page = np.repeat(np.arange(len(pages), dtype=np.int64), sizes)
    return pd.DataFrame({"text": text, "page": page})


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


def _line_shape(line: str) -> tuple:
    """Shape of one line; the last value is its word count (used for page-level features)."""
    stripped = line.strip()
    n_chars = len(stripped)
    words = stripped.split()
    n_words = count_words(stripped)
    # Character ratios from the first RATIO_CHARS characters: as telling as the whole
    # line, and map() over str methods runs in C (4x faster than a generator).
    head = stripped[:RATIO_CHARS]
    n_head = len(head) or 1
    letters = sum(map(str.isalpha, head)) or 1
    n_alnum_space = sum(map(str.isalnum, head)) + sum(map(str.isspace, head))
    last = stripped[-1:] or " "
    sep = sum(stripped.count(s) for s in SEPARATORS[:8])
    # Marks such as a year, a link or a counter say much about a short line and little
    # about a 300-word paragraph that happens to contain one.
    short = min(1.0, 30.0 / (n_words or 1))
    segments = [seg for seg in _SEGMENTS.split(stripped) if seg.strip()] if sep or "|" in stripped else [stripped]
    longest = max((count_words(seg) for seg in segments), default=0)
    return (
        math.log1p(min(n_chars, MAX_CHARS)), math.log1p(min(n_words, MAX_WORDS)),
        float(last in TERMINAL), float(last == ":"), float(last.isdigit()),
        float(stripped.startswith(BULLETS)), float(_NUMBERED.match(stripped) is not None),
        float(stripped[:1].isupper()),
        sum(map(str.isdigit, head)) / n_head,
        sum(map(str.isupper, head)) / letters,
        (len(head) - n_alnum_space) / n_head,
        sum(w[:1].isupper() for w in words) / (len(words) or 1),
        short * (_COUNTER.search(stripped) is not None), short * (_YEAR.search(stripped) is not None),
        short * ("©" in stripped or "(c)" in stripped.lower()),
        short * (_LINKISH.search(stripped) is not None),
        short * any(q in stripped for q in "\"“”«»„「"),
        min(n_chars / (len(words) or 1), 20) / 20.0,
        float(n_words > len(words)),
        min(sep / (n_words + 1), 2.0), float(stripped.startswith("|")),
        math.log1p(min(longest, MAX_WORDS)), min(len(segments), 20) / 20.0,
        min(len(_GLUED.findall(head)), 3) / 3.0,
        n_words,
    )


POSITION_NAMES = SHAPE_NAMES[SHAPE_NAMES.index("rel_position"):]


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
        texts = list(X["text"])
        page = np.asarray(X["page"])
        if not texts:
            return np.zeros((0, len(self.get_feature_names_out())))
        shape = np.array([_line_shape(t) for t in texts], dtype=np.float64)
        # Page-level marks: a title bar repeating its neighbour, and lines that recur on the
        # page (menus at top and bottom, the same headline in two lists). Exact for pages up
        # to a scoring chunk (20,000 lines); per chunk beyond that.
        shape = np.insert(shape, -1, _contains_neighbour(texts, page), axis=1)
        shape = np.insert(shape, -1, _duplicates_in_page(texts, page), axis=1)
        words = shape[:, -1]
        start, end = page_bounds(page)
        pos = np.arange(len(texts)) - start
        n = end - start
        # Where the line sits in the page's mass of words: menus come before most of the
        # words, footers after them, and the main text holds most of them.
        cum = np.concatenate(([0.0], np.cumsum(words)))
        page_words = np.maximum(cum[end] - cum[start], 1.0)
        log_words = np.log1p(np.minimum(words, MAX_WORDS))
        first = np.flatnonzero(pos == 0)
        page_max = np.repeat(np.maximum.reduceat(log_words, first), n[first])
        position = np.column_stack([
            pos / np.maximum(n - 1, 1), np.log1p(pos), np.log1p(n - 1 - pos),
            pos == 0, pos == n - 1, np.log1p(n),
            (cum[:-1] - cum[start]) / page_words, words / page_words,
            page_max - log_words,
        ]).astype(np.float64)
        if not self.position:
            return shape[:, :-1]
        return np.hstack([shape[:, :-1], position])

    def get_feature_names_out(self, input_features=None):
        names = SHAPE_NAMES if self.position else SHAPE_NAMES[:-len(POSITION_NAMES)]
        return np.asarray(names, dtype=object)


def _contains_neighbour(texts: list[str], page: np.ndarray) -> np.ndarray:
    """1 where the line holds the whole text of the line above or below it and more: a title
    bar or breadcrumb that repeats the headline ("Home > Finance<headline> -Site")."""
    out = np.zeros(len(texts))
    for i, text in enumerate(texts):
        for j in (i - 1, i + 1):
            if 0 <= j < len(texts) and page[j] == page[i]:
                other = texts[j].strip()
                if len(other) >= 20 and len(text) > len(other) + 3 and other in text:
                    out[i] = 1.0
    return out


def _duplicates_in_page(texts: list[str], page: np.ndarray) -> np.ndarray:
    """1 where the same stripped text occurs elsewhere in the page (lists repeat headlines)."""
    keys = pd.Series([t.strip().lower() for t in texts])
    return pd.DataFrame({"k": keys, "p": page}).duplicated(keep=False).to_numpy(dtype=np.float64)


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
            blocks.append(_shift_rows(feats, offset, page))
        if self.smooth:
            if sp.issparse(feats):
                raise ValueError("smooth needs dense features; use it with LineShape")
            blocks.append(_window_mean(feats, self.smooth, page))
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


def _shift_rows(feats, offset: int, page: np.ndarray):
    """Row i gets row i+offset when that row is on the same page, else zeros."""
    n = len(page)
    src = np.arange(n) + offset
    valid = (src >= 0) & (src < n)
    src = np.clip(src, 0, max(n - 1, 0))
    valid &= page[src] == page if n else valid
    if sp.issparse(feats):
        return sp.diags(valid.astype(np.float64)) @ feats.tocsr()[src]
    return feats[src] * valid[:, None]


def _window_mean(feats: np.ndarray, radius: int, page: np.ndarray) -> np.ndarray:
    """Mean of rows i-radius..i+radius except row i itself, clipped to the page, by cumulative
    sums; zeros for a line alone on its page. Leaving the line out matters: otherwise a lone
    line's own features come back as its "context" and count twice."""
    start, end = page_bounds(page)
    idx = np.arange(len(page))
    lo = np.maximum(idx - radius, start)
    hi = np.minimum(idx + radius + 1, end)
    csum = np.vstack([np.zeros((1, feats.shape[1])), np.cumsum(feats, axis=0)])
    others = hi - lo - 1
    return (csum[hi] - csum[lo] - feats) / np.maximum(others, 1)[:, None]
