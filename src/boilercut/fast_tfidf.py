"""The transform of a fitted TfidfVectorizer, computed for a whole batch of lines at once.

scikit-learn's vectorizers build every n-gram as a Python string and look each one up in
a dict: about 500 ns per n-gram, two thirds of boilercut's scoring time. Here the batch is
normalised once, n-grams become integer keys (character n-grams by numpy arithmetic on
code points, word bigrams from the ids of their two tokens), and keys are looked up in a
hash table (pandas Index) in one call. The counts matrix is the same as the vectorizer's;
its own TfidfTransformer then turns counts into TF-IDF, so the result is the same matrix.

`fast_transform(vectorizer)` returns a function lines -> sparse matrix for the
vectorizer configurations boilercut trains (see model.build_features), or None for any
other configuration, where the caller keeps using vectorizer.transform.
"""
from __future__ import annotations

import re
from itertools import repeat
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from boilercut.normalise import CHAR_FEATURE_CHARS, WORD_TOKEN_PATTERN, normalise_head, normalise_text

_TOKEN_OR_LINE_END = re.compile(r"\w+|\n")
_LINE_END = -2  # token id of the "\n" between two lines
# Bits per character in a char n-gram key: 4 characters x 16 bits fill a uint64.
_CHAR_BITS = 16


def _normalise_batch(lines: Sequence[str]) -> str:
    """normalise_text of every line, joined by "\\n": one call for the batch instead of
    one per line. lower() treats "\\n" like the end of a string (neither cased nor
    case-ignorable), so each line comes out as normalise_text alone would make it."""
    joined = "\n".join(lines)
    if joined.count("\n") != len(lines) - 1:
        # A line given through the API may hold "\n" itself: as a non-word character it
        # only separates tokens, as a space does.
        joined = "\n".join(line.replace("\n", " ") for line in lines)
    return normalise_text(joined)


def _counts_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Occurrence counts as CountVectorizer leaves them: float32, duplicates summed, sorted."""
    counts = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                           shape=(n_rows, n_cols), dtype=np.float32)
    counts.sum_duplicates()  # also sorts the indices, as CountVectorizer does
    return counts


class _WordCounts:
    """Counts of word 1- and 2-grams, for TfidfVectorizer(token_pattern=WORD_TOKEN_PATTERN,
    preprocessor=normalise_text, ngram_range=(1, 1 or 2))."""

    def __init__(self, vocabulary: dict[str, int], bigrams: bool):
        self.n_cols = len(vocabulary)
        # Token ids cover every token of the vocabulary, also those only seen inside a
        # bigram (a unigram can miss the vocabulary when max_features cuts it).
        unigram_col = {term: col for term, col in vocabulary.items() if " " not in term}
        pairs = [(term.split(" "), col) for term, col in vocabulary.items() if " " in term]
        tokens = sorted(set(unigram_col) | {t for pair, _ in pairs for t in pair})
        self.token_id = {t: i for i, t in enumerate(tokens)}
        self.token_id["\n"] = _LINE_END
        self.unigram_col = np.array([unigram_col.get(t, -1) for t in tokens], dtype=np.int64)
        self.n_tokens = np.int64(len(tokens))
        ids = np.array([[self.token_id[a], self.token_id[b]] for (a, b), _ in pairs], dtype=np.int64)
        self.bigram_index = pd.Index(ids[:, 0] * self.n_tokens + ids[:, 1] if len(pairs) else np.zeros(0, np.int64))
        self.bigram_col = np.array([col for _, col in pairs], dtype=np.int64)
        self.bigrams = bigrams

    def __call__(self, lines: Sequence[str]) -> sp.csr_matrix:
        # One findall over the normalised batch; "\n" tokens mark where each line ends.
        # "\w+" finds the same tokens as "\b\w+\b" (a greedy run of word characters is
        # always bounded by non-word characters) and runs faster.
        tokens = _TOKEN_OR_LINE_END.findall(_normalise_batch(lines) + "\n" if lines else "")
        ids = np.fromiter(map(self.token_id.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        line_end = ids == _LINE_END
        row = np.cumsum(line_end) - line_end
        ids, row = ids[~line_end], row[~line_end]
        known = ids >= 0
        uni = np.where(known, self.unigram_col[np.maximum(ids, 0)], -1)
        rows, cols = [row[uni >= 0]], [uni[uni >= 0]]
        if self.bigrams and len(ids) > 1:
            # A bigram joins two tokens of the same line, both of them known tokens.
            pair = known[:-1] & known[1:] & (row[:-1] == row[1:])
            keys = ids[:-1][pair] * self.n_tokens + ids[1:][pair]
            found = self.bigram_index.get_indexer(keys)
            hit = found >= 0
            rows.append(row[:-1][pair][hit])
            cols.append(self.bigram_col[found[hit]])
        return _counts_matrix(np.concatenate(rows), np.concatenate(cols), len(lines), self.n_cols)


class _CharWbCounts:
    """Counts of char_wb n-grams (min_n..max_n, 2 <= min_n <= 3, max_n <= 4), for
    TfidfVectorizer(analyzer="char_wb", preprocessor=normalise_head).

    char_wb pads every whitespace-separated word with one space on each side and takes
    its n-grams; a word of one character gives " a " whole. With min_n <= 3 every padded
    word is at least min_n long, so the n-grams are exactly the windows of length n that
    lie inside one padded word. (1-grams would count each pad space once per word, which
    the shared spaces of the joined batch cannot tell; min_n = 1 is left to sklearn.)"""

    def __init__(self, vocabulary: dict[str, int], min_n: int, max_n: int):
        self.min_n, self.max_n, self.n_cols = min_n, max_n, len(vocabulary)
        alphabet = sorted({ch for term in vocabulary for ch in term})
        # Character id 0 = a character no vocabulary n-gram has; such n-grams match nothing.
        self.char_id = {ord(ch): i + 1 for i, ch in enumerate(alphabet)}
        self.table = np.zeros(max(self.char_id, default=0) + 1, dtype=np.uint64)
        for code, i in self.char_id.items():
            self.table[code] = i
        self.index, self.col = {}, {}
        for n in range(min_n, max_n + 1):
            terms = [(t, c) for t, c in vocabulary.items() if len(t) == n]
            keys = np.array([self._key(t) for t, _ in terms], dtype=np.uint64)
            self.index[n] = pd.Index(keys)
            self.col[n] = np.array([c for _, c in terms], dtype=np.int64)

    def _key(self, term: str) -> int:
        key = 0
        for ch in term:
            key = (key << _CHAR_BITS) | self.char_id[ord(ch)]
        return key

    @staticmethod
    def fits(vocabulary: dict[str, int], min_n: int, max_n: int) -> bool:
        n_chars = len({ch for term in vocabulary for ch in term})
        return 2 <= min_n <= 3 and max_n <= 4 and n_chars < 2 ** _CHAR_BITS

    def __call__(self, lines: Sequence[str]) -> sp.csr_matrix:
        # One string for the batch: each line's words joined by single spaces and padded,
        # lines separated by "\n" (an empty line adds nothing).
        heads = _normalise_batch([line[:CHAR_FEATURE_CHARS] for line in lines]).split("\n")
        padded = [" ".join(head.split()) for head in heads]
        text = "\n".join(f" {p} " if p else "" for p in padded)
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        lengths = np.fromiter((len(p) + 2 if p else 0 for p in padded), dtype=np.int64, count=len(padded))
        row_of = np.repeat(np.arange(len(padded), dtype=np.int64), lengths + 1)[:len(codes)]
        ids = self.table[np.minimum(codes, len(self.table) - 1)]
        ids[codes >= len(self.table)] = 0
        newline = codes == 10
        space = codes == 32
        rows, cols = [], []
        key = ids.copy()
        # blocked[i]: the window starting at i crosses a line end or has a space inside it
        blocked = newline.copy()
        for n in range(2, self.max_n + 1):
            m = len(codes) - n + 1
            if m <= 0:
                break
            key = (key[:m] << np.uint64(_CHAR_BITS)) | ids[n - 1:n - 1 + m]
            blocked = blocked[:m] | newline[n - 1:n - 1 + m]
            if n > 2:
                blocked |= space[n - 2:n - 2 + m]  # the last inner position of the window
            if n < self.min_n:
                continue
            starts = np.flatnonzero(~blocked)
            found = self.index[n].get_indexer(key[starts])
            hit = found >= 0
            rows.append(row_of[starts[hit]])
            cols.append(self.col[n][found[hit]])
        if not rows:
            return _counts_matrix(np.zeros(0, np.int64), np.zeros(0, np.int64), len(lines), self.n_cols)
        return _counts_matrix(np.concatenate(rows), np.concatenate(cols), len(lines), self.n_cols)


def fast_transform(vectorizer) -> Callable[[Sequence[str]], sp.csr_matrix] | None:
    """lines -> the vectorizer's TF-IDF matrix, computed in batch; None when the fitted
    vectorizer's configuration is not one this module reproduces exactly."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if type(vectorizer) is not TfidfVectorizer or not hasattr(vectorizer, "vocabulary_"):
        return None
    v = vectorizer
    if v.stop_words is not None or v.strip_accents is not None or v.tokenizer is not None:
        return None
    min_n, max_n = v.ngram_range
    if v.analyzer == "word" and v.preprocessor is normalise_text and v.token_pattern == WORD_TOKEN_PATTERN \
            and min_n == 1 and max_n in (1, 2):
        counts = _WordCounts(v.vocabulary_, bigrams=max_n == 2)
    elif v.analyzer == "char_wb" and v.preprocessor is normalise_head \
            and _CharWbCounts.fits(v.vocabulary_, min_n, max_n):
        counts = _CharWbCounts(v.vocabulary_, min_n, max_n)
    else:
        return None
    tfidf = v._tfidf  # the vectorizer's own fitted TfidfTransformer

    def transform(lines: Sequence[str]) -> sp.csr_matrix:
        lines = list(lines)
        if not lines:  # TfidfTransformer refuses an empty matrix
            return sp.csr_matrix((0, counts.n_cols), dtype=np.float32)
        return tfidf.transform(counts(lines), copy=False)

    return transform
