"""The lines of a batch of pages as the features see them, and what needs no fitted model:
the shape of each line in its page, and the rows of its neighbours.

The model's input is a line table: one row per line, columns "text" (the line, clipped)
and "page" (an integer page number); lines of a page are contiguous and in page order.
A LineBatch holds those columns as a list and an array. The Pipeline's own transformers
(features.py) read them from a pandas DataFrame (features.make_line_table); scoring
(scorer.LinearScorer) reads the LineBatch: building a DataFrame was a large share of
scoring a page, and this module imports neither pandas nor scikit-learn, which `predict`
then never loads (most of its start-up).
"""
from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple
from collections.abc import Sequence

import numpy as np

from boilercut.compiled import KERNELS
from boilercut.line_shape import LINE_SHAPE_NAMES, MAX_WORDS, shape_matrix, word_counts
from boilercut.page_rows import PageRows
from boilercut.sparsetools import is_sparse

# The compiled loops (compiled.py), or None.
_kernels = KERNELS

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
    line = _head_and_tail(line)
    return line if line.isascii() else _SURROGATE.sub("\ufffd", line)


def _head_and_tail(line: str) -> str:
    """The line, or its head and tail when it is longer than MAX_FEATURE_CHARS."""
    if len(line) > MAX_FEATURE_CHARS:
        half = MAX_FEATURE_CHARS // 2
        line = line[:half] + " " + line[-half:]
    return line


class LineBatch(NamedTuple):
    """The columns of a line table, without the table."""
    text: list[str]                        # every line as the features see it (_clip)
    page: np.ndarray                       # its page number (int64), pages contiguous
    whole_page: dict[str, np.ndarray] | None = None  # PAGE_COLUMNS of every row, or None


def _clip_lines(lines: Sequence[str]) -> list[str]:
    """[_clip(line) for line in lines]. Most lines need no clipping at all, which one test
    of the joined lines tells (ASCII, or UTF-16 encodable, which a lone surrogate is not:
    faster to ask than UTF-8) faster than a call per line; then only lines too long are
    clipped, with no surrogate to look for."""
    joined = "\n".join(lines)
    if not joined.isascii() and _has_surrogates(joined):
        return [_clip(line) for line in lines]
    if max(map(len, lines), default=0) <= MAX_FEATURE_CHARS:
        return list(lines)
    return [line if len(line) <= MAX_FEATURE_CHARS else _head_and_tail(line) for line in lines]


def _has_surrogates(text: str) -> bool:
    """Whether text holds a lone surrogate: by the compiled loop (a scan, no copy), else by
    encoding it to UTF-16, which refuses one."""
    if _kernels is not None:
        return _kernels.has_surrogates(text)
    try:
        text.encode("utf-16-le")
    except UnicodeEncodeError:
        return True
    return False


def line_batch(pages: Sequence[Sequence[str]], whole_page: dict[str, np.ndarray] | None = None) -> LineBatch:
    """One row per line of every page, with its page number; whole_page: PAGE_COLUMNS for
    every row, when the pages are windows of longer pages (whole_page_columns)."""
    if len(pages) == 1:  # the line API's one page
        text = _clip_lines(pages[0])
        page = np.zeros(len(text), dtype=np.int64)
    else:
        text = _clip_lines([line for page in pages for line in page])
        page = np.repeat(np.arange(len(pages), dtype=np.int64), [len(p) for p in pages])
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


def shape_features(batch: LineBatch, position: bool) -> tuple[np.ndarray, np.ndarray]:
    """features.LineShape's features of every line (SHAPE_NAMES, without the position
    features unless `position`), and the word count of each line."""
    texts, page = batch.text, batch.page
    if not texts:
        n_features = len(SHAPE_NAMES) if position else len(SHAPE_NAMES) - len(POSITION_NAMES)
        return np.zeros((0, n_features)), np.zeros(0)
    stripped = list(map(str.strip, texts))  # read by all three: stripped once
    line_shape, words = shape_matrix(texts, stripped)
    # What the whole page says about each line: the table's own pages, unless the table
    # is a window of a longer page and carries them (see PAGE_COLUMNS). Without position
    # features that is only the duplicate mark.
    whole_page = batch.whole_page
    if whole_page is None:
        whole_page = (page_columns(texts, page, words) if position
                      else {"duplicate_in_page": _duplicates_in_page(texts, page, stripped)})
    # Page-level marks: a title bar repeating its neighbour, and lines that recur on the
    # page (menus at top and bottom, the same headline in two lists).
    shape = np.column_stack([line_shape, _contains_neighbour(texts, page, stripped), whole_page["duplicate_in_page"]])
    if not position:
        return shape, words
    return np.hstack([shape, _position_features(whole_page, words)]), words


def _contains_neighbour(texts: list[str], page: np.ndarray, stripped: list[str] | None = None) -> np.ndarray:
    """1 where the line holds the whole text of the line above or below it and more: a title
    bar or breadcrumb that repeats the headline ("Home > Finance<headline> -Site").
    The neighbour (stripped) must be at least 20 characters long, the line 4 more, and the
    neighbour at least 2/5 of the line: a title bar is mostly the headline it repeats,
    while a paragraph that merely names the heading below it ("... use the Foo Bar Baz
    add-on" above "Foo Bar Baz") is not a title bar. Without that bound the mark fired on
    155 content lines of the four real dev sets against 9 in data/, and its weight two
    lines away dropped whole paragraphs of prose. The lengths are compared with numpy, so
    only the pairs that pass get a substring search. stripped: each text stripped, when the
    caller has them."""
    out = np.zeros(len(texts))
    if len(texts) < 2:
        return out
    stripped = list(map(str.strip, texts)) if stripped is None else stripped
    if page[0] == page[-1]:  # one page: the same tests in plain Python, cheaper than arrays for a page
        return np.asarray(_contains_neighbour_in_page(texts, stripped), dtype=np.float64)
    length = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    stripped_length = np.fromiter(map(len, stripped), dtype=np.int64, count=len(texts))
    same_page = page[1:] == page[:-1]
    for line, other in ((np.arange(1, len(texts)), np.arange(len(texts) - 1)),   # the line above
                        (np.arange(len(texts) - 1), np.arange(1, len(texts)))):  # the line below
        pairs = (same_page & (stripped_length[other] >= 20) & (length[line] > stripped_length[other] + 3)
                 & (5 * stripped_length[other] >= 2 * length[line]))
        hits = [i for i, j in zip(line[pairs].tolist(), other[pairs].tolist()) if stripped[j] in texts[i]]
        out[hits] = 1.0
    return out


def _contains_neighbour_in_page(texts: list[str], stripped: list[str]) -> list[float]:
    """_contains_neighbour of the lines of one page (texts, and each stripped)."""
    length, stripped_length = list(map(len, texts)), list(map(len, stripped))
    out = [0.0] * len(texts)
    for line in range(len(texts)):
        for other in (line - 1, line + 1):
            if 0 <= other < len(texts):
                s = stripped_length[other]
                if s >= 20 and length[line] > s + 3 and 5 * s >= 2 * length[line] and stripped[other] in texts[line]:
                    out[line] = 1.0
    return out


def _duplicates_in_page(texts: list[str], page: np.ndarray, stripped: list[str] | None = None) -> np.ndarray:
    """1 where the same stripped text occurs elsewhere in the page (lists repeat headlines).

    Counted as (page, lowered text) pairs in a dict (faster than pandas'
    DataFrame.duplicated). stripped: each text stripped, when the caller has them."""
    stripped = list(map(str.strip, texts)) if stripped is None else stripped
    page = np.asarray(page)
    # Lower-casing is most of the cost, and only lines of one page and one length can be
    # equal lowered: str.lower() keeps every length but where U+0130 becomes two code points
    # (see fast_tfidf._bmp_lower). So in a batch without it only the lines whose page and
    # length another line shares are lowered and counted (in dev-fineweb's 2,000-line
    # batches, 14% of the characters).
    repeated = np.zeros(len(stripped), dtype=bool)
    if len(stripped) < 2:
        return repeated.astype(np.float64)
    if page[0] == page[-1]:  # one page (the line API): the texts alone, cheaper than sorting them out
        keys = list(map(str.lower, stripped))
        counts = Counter(keys)
        return (np.fromiter(map(counts.__getitem__, keys), dtype=np.int64, count=len(keys)) > 1).astype(np.float64)
    lengths = np.fromiter(map(len, stripped), dtype=np.int64, count=len(stripped))
    if page.dtype.kind not in "iu" or any("\u0130" in line for line in stripped):
        rows = np.arange(len(stripped))
    else:
        key = page.astype(np.int64) * (int(lengths.max()) + 1) + lengths
        order = np.argsort(key, kind="stable")
        same = key[order[1:]] == key[order[:-1]]
        shared = np.zeros(len(stripped), dtype=bool)
        shared[order[1:][same]] = True
        shared[order[:-1][same]] = True
        rows = np.flatnonzero(shared)
    pairs = list(zip(page[rows].tolist(), map(str.lower, map(stripped.__getitem__, rows.tolist()))))
    counts = Counter(pairs)
    repeated[rows] = np.fromiter(map(counts.__getitem__, pairs), dtype=np.int64, count=len(pairs)) > 1
    return repeated.astype(np.float64)


def shift_rows(feats, offset: int, page: np.ndarray):
    """Row i gets row i+offset when that row is on the same page, else zeros."""
    n = len(page)
    src = np.arange(n) + offset
    valid = (src >= 0) & (src < n)
    src = np.clip(src, 0, max(n - 1, 0))
    valid &= page[src] == page if n else valid
    if is_sparse(feats):
        import scipy.sparse as sp

        return sp.diags(valid.astype(np.float64)) @ feats.tocsr()[src]
    return feats[src] * valid[:, None]


def window_mean(feats: np.ndarray, radius: int, page: np.ndarray | PageRows) -> np.ndarray:
    """Mean of rows i-radius..i+radius except row i itself, clipped to the page; zeros for a
    line alone on its page (page_rows.PageRows.window_mean, which says why and how)."""
    return PageRows.of(page).window_mean(feats, radius)
