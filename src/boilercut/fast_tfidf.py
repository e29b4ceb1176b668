"""The transform of a fitted TfidfVectorizer, computed for a whole batch of lines at once.

scikit-learn's vectorizers build every n-gram as a Python string and look each one up in
a dict: about 500 ns per n-gram, two thirds of boilercut's scoring time. Here the batch is
lower-cased once and the rest is numpy on its code points: digits become "0", n-grams
become integer keys (character n-grams packed into 64 bits, word tokens hashed, word
bigrams from the ids of their two tokens), and keys are looked up in a hash table
(pandas Index) in one call. The counts matrix is the same as the vectorizer's;
its own TfidfTransformer then turns counts into TF-IDF, so the result is the same matrix.

`fast_transform(vectorizer)` returns a function lines -> sparse matrix for the
vectorizer configurations boilercut trains (see model.build_features), or None for any
other configuration, where the caller keeps using vectorizer.transform.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from boilercut.line_shape import DECIMAL, SPACE, WORD, char_classes
from boilercut.normalise import CHAR_FEATURE_CHARS, WORD_TOKEN_PATTERN, normalise_head, normalise_text

_NEWLINE = ord("\n")  # between the lines of a batch
# Bits per character in a char n-gram key: 4 characters x 16 bits fill a uint64.
_CHAR_BITS = 16


def _lower_batch(lines: Sequence[str]) -> str:
    """Every line lower-cased, joined by "\\n": one call for the batch instead of one per
    line. lower() treats "\\n" like the end of a string (neither cased nor case-ignorable),
    so each line comes out as line.lower() alone would make it."""
    joined = "\n".join(lines)
    if joined.count("\n") != len(lines) - 1:
        # A line given through the API may hold "\n" itself: as a non-word character it
        # only separates tokens, as a space does.
        joined = "\n".join(line.replace("\n", " ") for line in lines)
    return joined.lower()


def _codes(text: str) -> np.ndarray:
    """The code points of text (lone surrogates included, as themselves)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _normalised_codes(lowered: str) -> tuple[np.ndarray, np.ndarray]:
    """Code points of normalise_text's output for already lower-cased text, and their
    class bits (line_shape.char_classes): every \\d character (str.isdecimal) becomes
    "0", as normalise_text's re.sub makes it."""
    codes = _codes(lowered).copy()
    classes = char_classes(codes)
    codes[(classes & DECIMAL) != 0] = ord("0")
    return codes, classes


def _rows_at(newline: np.ndarray) -> np.ndarray:
    """The line (row of the batch) of every position: how many line ends come before it."""
    return np.cumsum(newline, dtype=np.int32 if len(newline) < 2 ** 31 else np.int64) - newline


# An odd multiplier (so it has an inverse modulo 2^64) with well-mixed bits.
_HASH_BASE = 0x9E3779B97F4A7C15
_HASH_BASE_INVERSE = pow(_HASH_BASE, -1, 2 ** 64)


def _powers(base: int, n: int) -> np.ndarray:
    """base^0 .. base^(n-1) modulo 2^64 (numpy's uint64 arithmetic wraps around)."""
    out = np.full(n, base, dtype=np.uint64)
    if n:
        out[0] = 1
    return np.cumprod(out, dtype=np.uint64)


# Powers for batches up to this many code points (a 2,000-line batch of dev-fineweb has
# about 450,000) are computed once per process (4 MB per base) instead of per batch (a
# cumprod over the batch: 7% of the word features' time).
_CACHED_POWERS = 1 << 19


@lru_cache(maxsize=2)
def _cached_powers(base: int) -> np.ndarray:
    return _powers(base, _CACHED_POWERS)


def _powers_upto(base: int, n: int) -> np.ndarray:
    """_powers(base, n), sliced from the cached table when it is long enough."""
    return _cached_powers(base)[:n] if n <= _CACHED_POWERS else _powers(base, n)


def _token_hashes(codes: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, hash, length) of every token, a maximal run of \\w characters, in codes.

    hash = sum of code[start + k] * B^k modulo 2^64, for k < length. One prefix sum over
    the batch gives it for all tokens at once: the sum over a token of code[i] * B^i is
    B^start times its hash, and B^-start undoes that."""
    word = (classes & WORD) != 0
    edges = np.flatnonzero(np.diff(word.view(np.int8), prepend=0, append=0))
    starts, ends = edges[::2], edges[1::2]
    prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
    np.cumsum(codes * _powers_upto(_HASH_BASE, len(codes)), out=prefix[1:])
    hashes = (prefix[ends] - prefix[starts]) * _powers_upto(_HASH_BASE_INVERSE, len(codes) + 1)[starts]
    return starts, hashes, ends - starts


def _counts_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Occurrence counts as CountVectorizer leaves them: float32, duplicates summed, sorted.

    Built by way of CSC: COO -> CSC -> CSR are two linear bucket passes, and the second
    one leaves every row's columns in order, with repeats side by side. That is 40% faster
    than COO -> CSR, which must then sort every row (measured on dev-fineweb batches)."""
    counts = sp.csc_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                           shape=(n_rows, n_cols), dtype=np.float32).tocsr()
    counts.sum_duplicates()  # only adds up neighbours: the indices are sorted already
    return counts


class _WordCounts:
    """Counts of word 1- and 2-grams, for TfidfVectorizer(token_pattern=WORD_TOKEN_PATTERN,
    preprocessor=normalise_text, ngram_range=(1, 1 or 2)).

    Tokens are found and identified without a Python object per token: on the code points
    of the batch, a token is a maximal run of \\w characters, and it is named by a 64-bit
    hash of its code points (_token_hashes). The vocabulary's tokens are hashed the same way
    when this object is built (refused if two of them collide); a token of the text matches a
    vocabulary token when hash and length both agree. A token outside the vocabulary could
    share a vocabulary token's hash and length by chance: for a vocabulary of 36,000
    tokens, with odds of about 36,000 in 2^64 per token."""

    def __init__(self, vocabulary: dict[str, int], bigrams: bool):
        self.n_cols = len(vocabulary)
        # Token ids cover every token of the vocabulary, also those only seen inside a
        # bigram (a unigram can miss the vocabulary when max_features cuts it).
        # (Built with as few Python objects as possible: this runs at every start-up.)
        unigrams = [term for term in vocabulary if " " not in term]
        bigram_terms = [term for term in vocabulary if " " in term]
        halves = " ".join(bigram_terms).split(" ") if bigram_terms else []  # first, second, first, ...
        if len(halves) != 2 * len(bigram_terms):
            raise ValueError("a word bigram of the vocabulary is not two tokens")
        token_id = dict.fromkeys(unigrams)
        token_id.update(dict.fromkeys(halves))
        token_id = dict(zip(token_id, range(len(token_id))))
        tokens = list(token_id)
        codes = _codes("\n".join(tokens))
        _, hashes, lengths = _token_hashes(codes, char_classes(codes))
        self.distinct_hashes = len(hashes) == len(tokens) and len(np.unique(hashes)) == len(tokens)
        self.token_index = pd.Index(hashes)
        self.token_length = lengths
        self.unigram_col = np.full(len(tokens), -1, dtype=np.int64)
        self.unigram_col[:len(unigrams)] = [vocabulary[t] for t in unigrams]  # unigrams come first
        self.n_tokens = np.int64(len(tokens))
        ids = np.fromiter(map(token_id.__getitem__, halves), dtype=np.int64, count=len(halves)).reshape(-1, 2)
        self.bigram_index = pd.Index(ids[:, 0] * self.n_tokens + ids[:, 1] if len(bigram_terms) else np.zeros(0, np.int64))
        self.bigram_col = np.array([vocabulary[t] for t in bigram_terms], dtype=np.int64)
        self.bigrams = bigrams

    def _token_ids(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(vocabulary token id or -1, row) of every token of the batch, in text order."""
        codes, classes = _normalised_codes(_lower_batch(lines))
        starts, hashes, lengths = _token_hashes(codes, classes)
        ids = self.token_index.get_indexer(hashes)
        known = ids >= 0
        known[known] = self.token_length[ids[known]] == lengths[known]
        ids[~known] = -1
        return ids, _rows_at(codes == _NEWLINE)[starts]

    def __call__(self, lines: Sequence[str]) -> sp.csr_matrix:
        ids, row = self._token_ids(lines)
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
        terms = list(vocabulary)
        lengths = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
        term_starts = np.cumsum(lengths) - lengths
        codes = _codes("".join(terms))
        alphabet = np.unique(codes)
        # Character id 0 = a character no vocabulary n-gram has; such n-grams match nothing.
        # (and for every code beyond the alphabet's largest: the table's last entry)
        self.table = np.zeros(int(alphabet[-1]) + 2 if len(alphabet) else 1, dtype=np.uint64)
        self.table[alphabet] = np.arange(1, len(alphabet) + 1, dtype=np.uint64)
        char_ids = self.table[codes]
        cols = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(terms))
        self.index, self.col = {}, {}
        for n in range(min_n, max_n + 1):
            of_length_n = np.flatnonzero(lengths == n)
            keys = np.zeros(len(of_length_n), dtype=np.uint64)
            for k in range(n):  # the same packing as the windows of __call__
                keys = (keys << np.uint64(_CHAR_BITS)) | char_ids[term_starts[of_length_n] + k]
            self.index[n] = pd.Index(keys)
            self.col[n] = cols[of_length_n]

    @staticmethod
    def fits(vocabulary: dict[str, int], min_n: int, max_n: int) -> bool:
        n_chars = len(np.unique(_codes("".join(vocabulary))))
        return 2 <= min_n <= 3 and max_n <= 4 and n_chars < 2 ** _CHAR_BITS

    def __call__(self, lines: Sequence[str]) -> sp.csr_matrix:
        # One string for the batch: every line's head lower-cased and given a space at each
        # end, lines separated by "\n". Any whitespace character stands for the space that
        # pads a word, so the padded words need not be built: a window of length n is an
        # n-gram of a padded word when it crosses no line end, has no whitespace inside it
        # (its first and last positions aside) and is not two spaces.
        heads = _lower_batch([line[:CHAR_FEATURE_CHARS] for line in lines])
        codes, classes = _normalised_codes(" " + heads.replace("\n", " \n ") + " ")
        newline = codes == _NEWLINE
        space = ((classes & SPACE) != 0) & ~newline
        codes[space] = ord(" ")
        ids = np.take(self.table, codes, mode="clip")
        row_at = _rows_at(newline)
        rows, cols = [], []
        key = ids.copy()
        # blocked[i]: the window starting at i crosses a line end or has whitespace inside it
        blocked = newline.copy()
        two_spaces = space[:-1] & space[1:]
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
            starts = np.flatnonzero(~(blocked | two_spaces) if n == 2 else ~blocked)
            found = self.index[n].get_indexer(key[starts])
            hit = found >= 0
            rows.append(row_at[starts[hit]])
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
        if not counts.distinct_hashes:  # never seen; sklearn then transforms
            return None
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
