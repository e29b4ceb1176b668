"""The transform of a fitted TfidfVectorizer, computed for a whole batch of lines at once.

scikit-learn's vectorizers build every n-gram as a Python string and look each one up in
a dict: about 500 ns per n-gram, two thirds of boilercut's scoring time. Here the batch is
lower-cased once and the rest is numpy on its code points: digits become "0", n-grams
become integer keys (character n-grams packed into 64 bits, word tokens hashed, word
bigrams from the ids of their two tokens), and keys are looked up in a hash table in
one call (a _KeyTable, an open-addressing hash table in numpy). The counts
matrix is the same as the vectorizer's; its own TfidfTransformer then turns counts into
TF-IDF, so the result is the same matrix.

`fast_transform(vectorizer)` returns a function lines -> sparse matrix for the
vectorizer configurations boilercut trains (see model.build_features), or None for any
other configuration, where the caller keeps using vectorizer.transform.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Callable, NamedTuple, Sequence

import numpy as np

from boilercut.sparsetools import sparsetools

if TYPE_CHECKING:
    import scipy.sparse as sp

# scipy's C conversion routines, which its own sparse matrix classes call (None: a scipy
# that moved them, where the matrix classes do the same work). scipy.sparse itself is
# imported only where a matrix is built: scoring needs none (sparsetools.py says why).
_sparsetools = sparsetools()
# A private module: use it only if it still has every routine _counts_matrix calls.
if not all(hasattr(_sparsetools, name) for name in ("coo_tocsr", "csr_tocsc", "csr_sum_duplicates")):
    _sparsetools = None

from boilercut.compiled import KERNELS

# The compiled loops (compiled.py), or None: the numpy path below, the same entries.
_kernels = KERNELS

from boilercut.line_shape import DECIMAL, SPACE, WORD, char_classes
from boilercut.normalise import CHAR_FEATURE_CHARS, WORD_TOKEN_PATTERN, normalise_head, normalise_text
from boilercut.packed_vocabulary import PackedVocabulary, as_packed
from boilercut.sparse_entries import Entries, count_entries, entries_dot, row_pointers
from boilercut.stored import class_name, materialize, same_function

_NEWLINE = ord("\n")  # between the lines of a batch
# Bits per character in a char n-gram key: 4 characters x 16 bits fill a uint64.
_CHAR_BITS = 16


def _join_batch(lines: Sequence[str]) -> str:
    """Every line joined by "\\n", for one pass over the batch instead of one per line."""
    joined = "\n".join(lines)
    if joined.count("\n") != len(lines) - 1:
        # A line given through the API may hold "\n" itself: as a non-word character it
        # only separates tokens, as a space does.
        joined = "\n".join(line.replace("\n", " ") for line in lines)
    return joined


def _codes(text: str) -> np.ndarray:
    """The code points of text (lone surrogates included, as themselves)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


# str.lower() maps each code point on its own, to one code point, but for two: U+0130 "İ"
# becomes two ("i̇"), and U+03A3 "Σ" becomes "ς" or "σ" depending on its neighbours.
_NOT_ONE_TO_ONE = 0xFFFFFFFF
_LOWER_EXCEPTIONS = (0x130, 0x3A3)


@lru_cache(maxsize=1)
def _bmp_lower() -> np.ndarray:
    """ord(chr(c).lower()) for every code point c of the BMP, or _NOT_ONE_TO_ONE.

    One lower() of all of them: the exceptions are left out, so every code point keeps its
    place. Should this Python's Unicode data lower another one to several characters, each
    is lowered alone instead (slower) and marked."""
    chars = list(map(chr, range(0x10000)))
    for c in _LOWER_EXCEPTIONS:
        chars[c] = "a"
    lowered = "".join(chars).lower()
    if len(lowered) != len(chars):
        lowered = [ch.lower() for ch in chars]
        bad = [c for c, low in enumerate(lowered) if len(low) != 1]
        for c in bad:
            lowered[c] = "a"
        lowered = "".join(lowered)
    else:
        bad = []
    table = _codes(lowered).copy()
    table[list(_LOWER_EXCEPTIONS) + bad] = _NOT_ONE_TO_ONE
    return table


def _lower_codes(text: str) -> np.ndarray:
    """The code points of text.lower() (writable).

    Looked up per code point in _bmp_lower() when that is exact for the batch (every code
    point lowers to one, regardless of its neighbours): with the encoding, faster than
    str.lower(), which lowers a string holding any
    non-ASCII character one code point at a time through Unicode's full case mapping.
    Otherwise text.lower() itself."""
    codes = _codes(text)
    lowered = np.take(_bmp_lower(), codes, mode="clip")  # clip: astral codes read U+FFFF
    if len(codes) and codes.max() > 0xFFFF:
        astral = codes > 0xFFFF
        values, where = np.unique(codes[astral], return_inverse=True)
        lows = [chr(value).lower() for value in values.tolist()]
        if any(len(low) != 1 for low in lows):
            return _codes(text.lower()).copy()
        lowered[astral] = _codes("".join(lows))[where]
    if (lowered == _NOT_ONE_TO_ONE).any():
        return _codes(text.lower()).copy()
    return lowered


@lru_cache(maxsize=1)
def _bmp_normalised() -> tuple[np.ndarray, np.ndarray, str]:
    """What _normalised_codes gives each code point c of the BMP on its own: (the code of
    lowered c, "0" for a decimal; the class bits of lowered c; the code points that lower
    to no single code point, or by their neighbours, as one str)."""
    lowered = _bmp_lower()
    exceptions = np.flatnonzero(lowered == _NOT_ONE_TO_ONE)
    lowered = lowered.copy()
    lowered[exceptions] = exceptions  # never read: texts holding them go the long way
    classes = char_classes(lowered)
    codes = np.where((classes & DECIMAL) != 0, np.uint32(ord("0")), lowered).astype(np.uint32)
    return codes, classes, "".join(map(chr, exceptions.tolist()))


def _bmp_code_units(text: str) -> np.ndarray | None:
    """The UTF-16 code units of text (uint16), when it is all in the BMP (two bytes per
    character), else None."""
    encoded = text.encode("utf-16-le", "surrogatepass")
    return np.frombuffer(encoded, dtype=np.uint16) if len(encoded) == 2 * len(text) else None


@lru_cache(maxsize=1)
def _bmp_kernel_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_bmp_normalised as _kernels.word_entries reads it: (normalised code, class bits,
    1 for the code points that lower to no single one or by their neighbours) per code
    point of the BMP."""
    codes, classes, exceptions = _bmp_normalised()
    flags = np.zeros(0x10000, dtype=np.uint8)
    flags[[ord(c) for c in exceptions]] = 1
    return np.ascontiguousarray(codes, dtype=np.uint32), np.ascontiguousarray(classes, dtype=np.uint8), flags


def _bmp_units(text: str) -> np.ndarray | None:
    """The code points of text (as intp, to index tables with) when the per-code-point
    tables of _bmp_normalised give its normalised codes: it is all in the BMP (two bytes
    per character in UTF-16) and holds none of the characters lowered by their
    neighbours or to several; else None."""
    units = _bmp_code_units(text)
    if units is None:
        return None
    # The exceptions (two in today's Unicode data) looked for among the code units: each
    # comparison is a fast pass over them, where str's search of a large batch is slow.
    if any((units == ord(c)).any() for c in _bmp_normalised()[2]):
        return None
    return units.astype(np.intp)


def _normalised_codes(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Code points of normalise_text's output for text lower-cased, and their class bits
    (line_shape.char_classes): every \\d character (str.isdecimal) becomes "0", as
    normalise_text's re.sub makes it.

    A text of the BMP alone (two bytes per character in UTF-16) whose every character
    lowers to one on its own, as nearly all do, takes both from one table per code point
    (_bmp_normalised): two lookups instead of the steps below, which it gives the same
    numbers as."""
    units = _bmp_units(text)
    if units is not None:
        codes, classes, _ = _bmp_normalised()
        return codes.take(units), classes.take(units)
    codes = _lower_codes(text)
    classes = char_classes(codes)
    codes[(classes & DECIMAL) != 0] = ord("0")
    return codes, classes


def _row_at(newlines: np.ndarray, n_codes: int) -> np.ndarray:
    """The line (row of the batch) of every position of a batch of n_codes code points
    whose line ends are at `newlines` (ascending): how many line ends come before it (a
    line end itself belongs to the line it ends). Filled run by run (np.repeat), it is
    then read at the positions of tokens or n-grams: faster than placing the line ends
    among those positions and counting (benchmarks/NOTES.md, "The batched path")."""
    bounds = np.empty(len(newlines) + 2, dtype=np.intp)
    bounds[0], bounds[-1] = -1, n_codes - 1
    bounds[1:-1] = newlines
    row_type = np.int32 if len(newlines) < 2 ** 31 else np.int64
    return np.repeat(np.arange(len(newlines) + 1, dtype=row_type), np.diff(bounds))


# An odd multiplier (so it has an inverse modulo 2^64) with well-mixed bits.
_HASH_BASE = 0x9E3779B97F4A7C15
_HASH_BASE_INVERSE = pow(_HASH_BASE, -1, 2 ** 64)


def _powers(base: int, n: int) -> np.ndarray:
    """base^0 .. base^(n-1) modulo 2^64 (numpy's uint64 arithmetic wraps around).

    By doubling: with the first k powers known, the next k are those times base^k. That
    is log2(n) vectorised products where np.cumprod multiplies one element after another,
    a tenth of the time for the million powers a start-up needs; modular products are
    exact, so the powers are the same."""
    out = np.empty(n, dtype=np.uint64)
    if not n:
        return out
    out[0] = 1
    k, step = 1, base % 2 ** 64  # step: base^k modulo 2^64
    while k < n:
        m = min(k, n - k)
        np.multiply(out[:m], np.uint64(step), out=out[k:k + m])
        k += m
        step = step * step % 2 ** 64
    return out


# Powers are kept per process (8 bytes per code point and base) instead of computed per
# batch (a cumprod over the batch was a share of the word features' time worth saving). The table grows to the
# next power of two a batch needs, up to 2^20 code points: a 2,000-line batch of
# dev-fineweb has 100,000 to 800,000 (a quarter of them more than 2^19, the old fixed size).
# Longer batches (one very long document) compute theirs and do not grow the table.
_MAX_CACHED_POWERS = 1 << 20
_cached_powers: dict[int, np.ndarray] = {}


def _powers_upto(base: int, n: int) -> np.ndarray:
    """_powers(base, n), sliced from the cached table when it is long enough."""
    table = _cached_powers.get(base)
    if table is not None and n <= len(table):
        return table[:n]
    if n > _MAX_CACHED_POWERS:
        return _powers(base, n)
    table = _cached_powers[base] = _powers(base, max(1 << max(n - 1, 0).bit_length(), 1 << 16))
    return table[:n]


def _token_hashes(codes: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, hash, length) of every token, a maximal run of \\w characters, in codes.

    hash = sum of code[start + k] * B^k modulo 2^64, for k < length. One pass over the
    batch gives it for all tokens at once: the sum over a token of code[i] * B^i (the
    difference of a running sum of those terms at its two ends; modulo 2^64 differences
    are exact) is B^start times its hash, and B^-start undoes that. (np.add.reduceat over
    the tokens' bounds gives the same sums, slower: its cost per token outweighs the
    running sum's per code point.)"""
    # Token edges: where the \w flag differs from the one before it (padded with False at
    # both ends). Compared as booleans, whose nonzero() numpy counts and fills without
    # branching: much faster than nonzero() of an int8 np.diff on text-like data.
    word = np.zeros(len(codes) + 2, dtype=bool)
    np.not_equal(classes & WORD, 0, out=word[1:-1])
    edges = np.flatnonzero(word[1:] != word[:-1])
    starts, ends = edges[::2], edges[1::2]
    return starts, _segment_hashes(codes, starts, ends), ends - starts


def _segment_hashes(codes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The hash (_token_hashes) of each codes[start:end], from one running sum over codes."""
    if not len(starts):
        return np.zeros(0, dtype=np.uint64)
    if _kernels is not None:  # the same sums, one loop per segment (no arrays as long as codes)
        out = np.empty(len(starts), dtype=np.uint64)
        _kernels.segment_hashes(np.ascontiguousarray(codes, dtype=np.uint32), np.ascontiguousarray(starts, dtype=np.int64),
                                np.ascontiguousarray(ends, dtype=np.int64), _HASH_BASE, out)
        return out
    running = np.empty(len(codes) + 1, dtype=np.uint64)  # running[i]: the terms before position i
    running[0] = 0
    np.multiply(codes, _powers_upto(_HASH_BASE, len(codes)), out=running[1:])
    np.cumsum(running, out=running)
    sums = running.take(ends) - running.take(starts)
    return sums * _powers_upto(_HASH_BASE_INVERSE, len(codes) + 1)[starts]


def _counts_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Occurrence counts as CountVectorizer leaves them: float32, duplicates summed, sorted.

    Built by way of CSC: COO -> CSC -> CSR are two linear bucket passes, and the second
    one leaves every row's columns in order, with repeats side by side. That is faster
    than COO -> CSR, which must then sort every row. The passes are scipy's own C
    routines, called directly: through the matrix classes each step also validated and
    converted its arrays (int64 -> int32 copies, max() scans, a sortedness check).

    Both passes cost time in proportion to the number of columns too (a pointer per column),
    which for a page of a few dozen lines is most of the work. A batch with fewer entries
    than half the columns sorts its entries instead, which gives the same matrix."""
    import scipy.sparse as sp

    if 2 * len(rows) < n_cols:
        return _sorted_counts_matrix(rows, cols, n_rows, n_cols)
    if _sparsetools is None:
        counts = sp.csc_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                               shape=(n_rows, n_cols), dtype=np.float32).tocsr()
        counts.sum_duplicates()  # only adds up neighbours: the indices are sorted already
        return counts
    nnz = len(rows)
    index = np.int32 if max(nnz, n_rows, n_cols) < 2 ** 31 - 1 else np.int64
    rows, cols = rows.astype(index, copy=False), cols.astype(index, copy=False)
    col_ptr, col_rows, col_data = np.empty(n_cols + 1, index), np.empty(nnz, index), np.empty(nnz, np.float32)
    _sparsetools.coo_tocsr(n_cols, n_rows, nnz, cols, rows, np.ones(nnz, dtype=np.float32), col_ptr, col_rows, col_data)
    indptr, indices, data = np.empty(n_rows + 1, index), np.empty(nnz, index), np.empty(nnz, np.float32)
    _sparsetools.csr_tocsc(n_cols, n_rows, col_ptr, col_rows, col_data, indptr, indices, data)
    _sparsetools.csr_sum_duplicates(n_rows, n_cols, indptr, indices, data)  # adds neighbours
    nnz = int(indptr[-1])
    counts = sp.csr_matrix((data[:nnz], indices[:nnz], indptr), shape=(n_rows, n_cols), copy=False)
    counts.has_canonical_format = True  # sorted, no duplicates: as built above
    return counts


def _sorted_counts_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """_counts_matrix by sorting the entries (sparse_entries.count_entries): each distinct
    (row, column) once, in row-major order, with its count."""
    import scipy.sparse as sp

    index = np.int32 if max(len(rows), n_rows, n_cols) < 2 ** 31 - 1 else np.int64
    entries = count_entries(rows, cols, n_rows, n_cols)
    indptr = row_pointers(entries.row, n_rows).astype(index)
    matrix = sp.csr_matrix((entries.value, entries.col.astype(index), indptr), shape=(n_rows, n_cols), copy=False)
    matrix.has_canonical_format = True  # sorted, no duplicates: as np.unique leaves them
    return matrix


# A _KeyTable slot as _kernels.c's Slot struct reads it.
_KERNEL_SLOT = np.dtype([("key", np.uint64), ("value", np.int32), ("extra", np.int32)])

# An odd multiplier for Fibonacci hashing: the top bits of key * multiplier pick a slot.
_SLOT_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


# _KeyTable.get reads the remaining slots of all pending queries at once when that is at
# most this many slots; more pending queries probe one slot per round, which is faster
# once a round's fixed cost is spread over enough of them: most end within a round or two,
# and reading all reach + 1 slots of each costs more (2,000-line batches: 12% less time
# in the lookups than at 2^16; pages: 5% less).
_ONE_SHOT_PROBES = 1 << 11


class _KeyTable:
    """Exact lookup of distinct uint64 keys -> int32 values, for a whole array of queries.

    An open-addressing hash table in two numpy arrays (keys, values): a key's home slot is
    the top bits of key * _SLOT_MULTIPLIER; a key that finds its home taken sits in the
    next free slot after it (linear probing). A lookup reads every query's home slot in
    one gather and probes further on the unresolved queries only, one slot per round.
    An empty slot holds `empty`, a number no key has (keys can be any uint64), with value
    -1: a query stops there, and reads -1 (a query equal to `empty` too, wherever it stops).

    Used for the character n-grams, which nearly all are vocabulary n-grams (98% of the
    3-grams of dev-fineweb, 92% of the 4-grams), so most queries end in the first round.
    There it is faster than pandas' Index.get_indexer, and it returns the columns
    themselves, not positions to look them up at. With 4 slots per key (load <= 1/4) the
    tables of the default model's 127,625 character n-grams take 12.6 MB; a page's
    lookup is faster than at 2 slots per key (fewer queries find their home slot taken and
    go on probing), and 8 slots per key measured no faster.

    The word tokens and bigrams (85% and 40% found) use it too, with 4 slots per key (the
    misses end sooner): on a page as fast as pandas' get_indexer, on 2,000-line batches
    slower, but without pandas, whose import cost a share of every start-up (it was the
    only reason this module imported it)."""

    def __init__(self, keys: np.ndarray, values: np.ndarray, slots_per_key: int = 2):
        """keys: distinct uint64; values: one per key, below 2^31."""
        keys = np.asarray(keys, dtype=np.uint64)
        n = len(keys)
        n_slots = 1 << max(slots_per_key * n - 1, 15).bit_length()  # a power of two, >= slots_per_key * n
        self.shift = np.uint64(64 - (n_slots.bit_length() - 1))
        # Keys placed in order of home slot: each goes to its home or, when that is taken,
        # to the slot after the previous key's, so the slots from a key's home to its own
        # are all taken, as linear probing needs. The slot of the k-th key in that order is
        # max(home[j] + k - j for j <= k): a running maximum. The table does not wrap
        # around: it ends with the overflow of its last slots, then an empty slot.
        home = self._home(keys)
        order = np.argsort(home)  # keys of one home may come in any order
        rank = np.arange(n)
        slot = np.maximum.accumulate(home[order] - rank) + rank if n else rank
        size = max(n_slots, int(slot[-1]) + 1 if n else 0) + 1
        self.empty = np.uint64(0)  # the smallest number that is not a key
        while (keys == self.empty).any():
            self.empty += np.uint64(1)
        # The slots as one array of (key, value, extra) records, as _kernels.c reads them
        # (kernel_table); keys and values are views of it. A probe reads one cache line,
        # and the compiled loops need no copy of the table.
        self.slots = np.zeros(size, dtype=_KERNEL_SLOT)
        self.keys, self.values = self.slots["key"], self.slots["value"]
        self.keys[:] = self.empty
        self.values[:] = -1
        self.values[slot] = np.asarray(values)[order]
        self.keys[slot] = keys[order]
        # How far any key sits past its home: a query not found that far is not a key.
        self.reach = int((slot - home[order]).max()) if n else 0

    def kernel_table(self) -> tuple:
        """(slots, shift, empty): the table as _kernels.c reads it."""
        return self.slots, int(self.shift), int(self.empty)

    def set_extra(self, extra: np.ndarray) -> None:
        """Store an int32 beside each key (what _kernels.c reads as Slot.extra), given per
        value: a key of value v gets extra[v]."""
        present = self.values >= 0
        self.slots["extra"][present] = np.asarray(extra)[self.values[present]]

    def _home(self, keys: np.ndarray) -> np.ndarray:
        slot = np.multiply(keys, _SLOT_MULTIPLIER)
        np.right_shift(slot, self.shift, out=slot)
        return slot.view(np.int64)

    def get(self, queries: np.ndarray) -> np.ndarray:
        """The value of each query (int32), -1 for a query that is not a key."""
        queries = np.asarray(queries, dtype=np.uint64)
        slot = self._home(queries)
        # One gather of whole records: keys and values are strided views of them, which
        # take() would first copy whole.
        record = self.slots[slot]
        found, values = record["key"], record["value"].copy()
        pending = np.flatnonzero(found != queries)
        pending = pending[found[pending] != self.empty]  # a few: cheaper than a test of all
        while len(pending) * (self.reach + 1) > _ONE_SHOT_PROBES:
            next_slot = slot[pending] + 1  # never past the end: the last slot is empty
            found = self.keys[next_slot]
            values[pending] = self.values[next_slot]
            more = (found != queries[pending]) & (found != self.empty)
            pending = pending[more]
            slot[pending] = next_slot[more]
        if len(pending):
            values[pending] = self._probe_all(queries[pending], slot[pending] + 1)
        return values

    def _probe_all(self, queries: np.ndarray, first: np.ndarray) -> np.ndarray:
        """get() for queries whose search goes on from slot `first`, every slot up to the
        reach read at once: one gather instead of a round per slot. A round costs a few
        numpy calls whatever the number of queries, and the misses of a page's n-grams
        took a dozen rounds."""
        # One row per probe, one column per query: the maximum below is then taken across
        # rows, element by element, which numpy does faster than per-row reductions.
        probes = first + np.arange(self.reach + 1)[:, None]
        np.minimum(probes, len(self.keys) - 1, out=probes)
        # A key is found in at most one slot, and only a key is found (the value of an
        # empty slot is -1 anyway): the largest value of a query's matching slots is its own.
        return np.where(self.keys[probes] == queries, self.values[probes], -1).max(axis=0, initial=-1)


class _CompiledCounts:
    """entries() and dot() of a counts class by _kernels.c's loops: a subclass names its
    two loops (_LOOPS: entries, product), builds the batch's text (_text), says how many
    entries it can hold at most (_capacity), and runs a loop over it (_run, which takes
    the text's other path when the loop answers -1)."""
    _LOOPS: tuple[str, str]

    def entries(self, lines: Sequence[str]) -> Entries:
        """The counts of pairs(lines) as entries (count_entries), by the compiled loop when
        it is built."""
        if _kernels is None:
            return count_entries(*self.pairs(lines), len(lines), self.n_cols)
        text = self._text(lines)
        out = _entry_arrays(self._capacity(text), len(lines))
        nnz = self._run(getattr(_kernels, self._LOOPS[0]), text, len(lines), out)
        return _entries_of(out, nnz, len(lines))

    def dot(self, lines: Sequence[str], weighting: KernelWeighting, weights: np.ndarray) -> np.ndarray | None:
        """The TF-IDF of the counts of pairs(lines) times weights (float64, C order), by the
        compiled product loop; None where it leaves them to entries() (a term counted
        len(weighting.tf) times or more in a line)."""
        out = np.zeros((len(lines), weights.shape[1]))
        found = self._run(getattr(_kernels, self._LOOPS[1]), self._text(lines), len(lines),
                          (weighting.tf, weighting.idf, weights, out), reset=lambda: out.fill(0.0))
        return out if found == 0 else None


class _WordCounts(_CompiledCounts):
    """Counts of word 1- and 2-grams, for TfidfVectorizer(token_pattern=WORD_TOKEN_PATTERN,
    preprocessor=normalise_text, ngram_range=(1, 1 or 2)).

    Tokens are found and identified without a Python object per token: on the code points
    of the batch, a token is a maximal run of \\w characters, and it is named by a 64-bit
    hash of its code points (_token_hashes). The vocabulary's tokens are hashed the same way
    when this object is built (refused if two different ones collide); a token of the text
    matches a vocabulary token when hash and length both agree. A token outside the
    vocabulary could share a vocabulary token's hash and length by chance: for a
    vocabulary of 36,000 tokens, with odds of about 36,000 in 2^64 per token.

    Built from the vocabulary's arrays (packed_vocabulary.py) with numpy alone, no str per
    term: this runs at every start-up. `exact` is False for a vocabulary whose terms are
    not one token or two tokens and a space, or whose tokens collide (never seen);
    fast_transform then leaves the words to scikit-learn."""

    def __init__(self, terms: PackedVocabulary, bigrams: bool):
        self.n_cols = len(terms)
        self.bigrams = bigrams
        self._kernel_tables = None  # built on first use by entries()
        tokens = _vocabulary_tokens(terms)
        self.exact = tokens is not None
        if tokens is None:
            return
        # Token ids cover every token of the vocabulary, also those only seen inside a
        # bigram (a unigram can miss the vocabulary when max_features cuts it).
        n_tokens = len(tokens.hashes)
        self.token_index = _KeyTable(tokens.hashes, np.arange(n_tokens), slots_per_key=4)
        # Both tables end with an entry for id -1 (a token not in the index), so they are
        # read without masking: length 0 (no token has it) and column -1 (no unigram).
        self.token_length = np.append(tokens.lengths, 0).astype(np.int64)
        self.unigram_col = np.full(n_tokens + 1, -1, dtype=np.int32)
        self.unigram_col[:len(tokens.unigrams)] = terms.columns[tokens.unigrams]  # unigrams come first
        self.n_tokens = np.int64(n_tokens)
        # A bigram's value is its column itself.
        self.bigram_index = _KeyTable(tokens.bigram_first * self.n_tokens + tokens.bigram_second,
                                      terms.columns[tokens.bigrams], slots_per_key=4)

    _LOOPS = ("word_entries", "word_dot")

    def _text(self, lines: Sequence[str]) -> str:
        return _join_batch(lines)

    @staticmethod
    def _capacity(text: str) -> int:
        return len(text) + 1  # a token and a bigram per 2 code points, at most

    def _run(self, loop, text: str, n_rows: int, last: tuple, reset=None) -> int:
        """loop (_kernels.word_entries or word_dot) over the batch's joined text, with its
        last four arguments; reset() before a second call when the first wrote any."""
        if self._kernel_tables is None:
            # Token slots: the token's id, and beside it its unigram's column (-1: none).
            self.token_index.set_extra(self.unigram_col)
            bigrams = self.bigram_index.kernel_table() if self.bigrams else None
            self._kernel_tables = self.token_index.kernel_table(), bigrams
        tables = self._kernel_tables[0], self.token_length, self._kernel_tables[1]
        rest = (int(self.n_tokens), n_rows, self.n_cols, *last)
        # A text of the BMP is read in place and normalised by table inside the loop; the
        # kernel answers -1 for any other text and on a code point the tables cannot lower
        # alone, which take the numpy steps.
        found = loop(text, _bmp_kernel_tables(), WORD, _HASH_BASE, *tables, *rest)
        if found == -1:
            if reset is not None:
                reset()
            codes, classes = _normalised_codes(text)
            found = loop(np.ascontiguousarray(codes, dtype=np.uint32), np.ascontiguousarray(classes, dtype=np.uint8),
                         WORD, _HASH_BASE, *tables, *rest)
        return found

    def _token_ids(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(vocabulary token id or -1, row) of every token of the batch, in text order."""
        codes, classes = _normalised_codes(_join_batch(lines))
        starts, hashes, lengths = _token_hashes(codes, classes)
        ids = self.token_index.get(hashes).astype(np.intp)
        ids[self.token_length[ids] != lengths] = -1  # a hash match of another length
        return ids, _row_at(np.flatnonzero(codes == _NEWLINE), len(codes)).take(starts)

    def __call__(self, lines: Sequence[str]) -> sp.csr_matrix:
        return _counts_matrix(*self.pairs(lines), len(lines), self.n_cols)

    def pairs(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every occurrence of a vocabulary term in the lines."""
        ids, row = self._token_ids(lines)
        uni = self.unigram_col[ids]
        is_unigram = uni >= 0
        rows, cols = [row[is_unigram]], [uni[is_unigram]]
        if self.bigrams and len(ids) > 1:
            # A bigram joins two tokens of the same line, both of them known tokens.
            known = ids >= 0
            pair = np.flatnonzero(known[:-1] & known[1:] & (row[:-1] == row[1:]))
            found = self.bigram_index.get(ids[pair] * self.n_tokens + ids[pair + 1])
            hit = found >= 0
            rows.append(row[pair[hit]])
            cols.append(found[hit])
        return np.concatenate(rows), np.concatenate(cols)


class _VocabularyTokens(NamedTuple):
    """The tokens of a word vocabulary. Token ids: the unigram terms' tokens, in order,
    then the tokens only found inside bigrams."""
    hashes: np.ndarray         # uint64: each token's hash (_token_hashes)
    lengths: np.ndarray        # each token's length in code points
    unigrams: np.ndarray       # the terms that are one token (token id = rank among them)
    bigrams: np.ndarray        # the terms that are two tokens and a space
    bigram_first: np.ndarray   # the token id of each bigram's first token
    bigram_second: np.ndarray  # and of its second


def _vocabulary_tokens(terms: PackedVocabulary) -> _VocabularyTokens | None:
    """The tokens of a word vocabulary's terms, found on the code points of all terms at
    once; None when a term is neither a token (a run of \\w characters) nor two tokens
    with a space between them, or when two different tokens have the same hash.

    The unigram terms are distinct (dict keys): their hashes must be too. A bigram's
    tokens are nearly all unigram terms as well, found by hash among them and compared
    with them code point by code point; the others get ids of their own."""
    codes, lengths, ends = terms.codes(), terms.lengths(), terms.ends
    starts = ends - lengths
    # Where the non-word characters are: none in a unigram, one space inside a bigram.
    gaps = np.flatnonzero((char_classes(codes) & WORD) == 0)
    term_at = np.repeat(np.arange(len(lengths)), lengths)  # faster than a search per gap
    gaps_per_term = np.bincount(term_at[gaps], minlength=len(lengths))
    if (lengths == 0).any() or (gaps_per_term > 1).any():
        return None
    is_bigram = gaps_per_term == 1
    unigrams, bigrams = np.flatnonzero(~is_bigram), np.flatnonzero(is_bigram)
    if not ((codes[gaps] == ord(" ")).all() and (gaps > starts[bigrams]).all() and (gaps < ends[bigrams] - 1).all()):
        return None
    halves_start = np.concatenate([starts[bigrams], gaps + 1])
    halves_end = np.concatenate([gaps, ends[bigrams]])
    # One running sum for both: unigrams first, then the first halves, then the second.
    hashes = _segment_hashes(codes, np.concatenate([starts[unigrams], halves_start]),
                             np.concatenate([ends[unigrams], halves_end]))
    unigram_hashes, halves_hashes = hashes[:len(unigrams)], hashes[len(unigrams):]
    ordered = np.sort(unigram_hashes)  # (np.unique here imports numpy.ma: 7 ms of start-up)
    if (ordered[1:] == ordered[:-1]).any():  # two different unigrams, one hash
        return None
    half_ids = _KeyTable(unigram_hashes, np.arange(len(unigrams))).get(halves_hashes).astype(np.int64)
    found = half_ids >= 0
    # A half found by its hash must be that unigram: the same length and code points.
    half_lengths = halves_end - halves_start
    unigram_of_half = unigrams[half_ids[found]]
    if not (np.array_equal(half_lengths[found], lengths[unigram_of_half])
            and _same_code_points(codes, halves_start[found], starts[unigram_of_half], half_lengths[found])):
        return None
    others = np.flatnonzero(~found)
    distinct = _distinct_token_ids(codes, halves_start[others], half_lengths[others], halves_hashes[others])
    if distinct is None:
        return None
    other_ids, first_of_id = distinct
    half_ids[others] = len(unigrams) + other_ids
    first_other = others[first_of_id]
    return _VocabularyTokens(np.concatenate([unigram_hashes, halves_hashes[first_other]]),
                             np.concatenate([lengths[unigrams], half_lengths[first_other]]),
                             unigrams, bigrams, half_ids[:len(bigrams)], half_ids[len(bigrams):])


def _same_code_points(codes: np.ndarray, starts_a: np.ndarray, starts_b: np.ndarray, lengths: np.ndarray) -> bool:
    """Whether codes[a:a + n] equals codes[b:b + n] for every (a, b, n)."""
    within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.array_equal(codes[np.repeat(starts_a, lengths) + within], codes[np.repeat(starts_b, lengths) + within])


def _distinct_token_ids(codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                        hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(an id for every token, equal tokens sharing it, taken from its hash; the index of
    each id's first token), or None when two different tokens share a hash: every token's
    code points are compared with those of the first token of its hash."""
    _, first_of_id, ids = np.unique(hashes, return_index=True, return_inverse=True)
    ids = ids.reshape(-1)
    first = first_of_id[ids]
    if not (np.array_equal(lengths, lengths[first]) and _same_code_points(codes, starts, starts[first], lengths)):
        return None
    return ids, first_of_id


def _alphabet(codes: np.ndarray) -> np.ndarray:
    """np.unique(codes), without sorting the 350,000 code points of a vocabulary."""
    present = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=bool)
    present[codes] = True
    return np.flatnonzero(present)


class _CharWbCounts(_CompiledCounts):
    """Counts of char_wb n-grams (min_n..max_n, 2 <= min_n <= 3, max_n <= 4), for
    TfidfVectorizer(analyzer="char_wb", preprocessor=normalise_head).

    char_wb pads every whitespace-separated word with one space on each side and takes
    its n-grams; a word of one character gives " a " whole. With min_n <= 3 every padded
    word is at least min_n long, so the n-grams are exactly the windows of length n that
    lie inside one padded word. (1-grams would count each pad space once per word, which
    the shared spaces of the joined batch cannot tell; min_n = 1 is left to sklearn.)"""

    def __init__(self, terms: PackedVocabulary, min_n: int, max_n: int):
        self.min_n, self.max_n, self.n_cols = min_n, max_n, len(terms)
        self._kernel_tables = None  # built on first use by entries()
        self._bmp_ids: tuple[np.ndarray, np.ndarray] | None = None  # _bmp_char_ids
        self._bmp_kernel: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # _bmp_kernel_ids
        lengths = terms.lengths()
        term_starts = terms.ends - lengths
        codes = terms.codes()
        alphabet = _alphabet(codes)
        # Character id 0 = a character no vocabulary n-gram has; such n-grams match nothing.
        # (and for every code beyond the alphabet's largest: the table's last entry)
        self.table = np.zeros(int(alphabet[-1]) + 2 if len(alphabet) else 1, dtype=np.uint64)
        self.table[alphabet] = np.arange(1, len(alphabet) + 1, dtype=np.uint64)
        char_ids = self.table[codes]
        cols = terms.columns
        self.table_of = {}
        for n in range(min_n, max_n + 1):
            of_length_n = np.flatnonzero(lengths == n)
            keys = np.zeros(len(of_length_n), dtype=np.uint64)
            for k in range(n):  # the same packing as the windows of __call__
                keys = (keys << np.uint64(_CHAR_BITS)) | char_ids[term_starts[of_length_n] + k]
            self.table_of[n] = _KeyTable(keys, cols[of_length_n], slots_per_key=4)

    def _bmp_char_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """For each code point of the BMP on its own: its character id as pairs() finds it
        (normalised, whitespace as " ", looked up in self.table), and whether it is
        whitespace. Built on first use: pages of the BMP take both in one lookup each."""
        if self._bmp_ids is None:
            codes, classes, _ = _bmp_normalised()
            space = (classes & SPACE) != 0
            codes = np.where(space, np.uint32(ord(" ")), codes)
            self._bmp_ids = np.take(self.table, codes, mode="clip"), space
        return self._bmp_ids

    @staticmethod
    def fits(terms: PackedVocabulary, min_n: int, max_n: int) -> bool:
        return 2 <= min_n <= 3 and max_n <= 4 and len(_alphabet(terms.codes())) < 2 ** _CHAR_BITS

    def __call__(self, lines: Sequence[str]) -> sp.csr_matrix:
        return _counts_matrix(*self.pairs(lines), len(lines), self.n_cols)

    _LOOPS = ("char_wb_entries", "char_wb_dot")

    def _text(self, lines: Sequence[str]) -> str:
        return self._padded_text(lines)

    def _capacity(self, text: str) -> int:
        return len(text) * (self.max_n - self.min_n + 1)  # a window per position and length

    def _run(self, loop, text: str, n_rows: int, last: tuple, reset=None) -> int:
        """loop (_kernels.char_wb_entries or char_wb_dot) over the batch's padded text,
        with its last four arguments; reset() before a second call when the first wrote any."""
        if self._kernel_tables is None:
            self._kernel_tables = tuple(self.table_of[n].kernel_table() for n in range(self.min_n, self.max_n + 1))
        rest = (self.min_n, self._kernel_tables, n_rows, self.n_cols, *last)
        # A text of the BMP is read in place, by table inside the loop (_bmp_char_ids); the
        # kernel answers -1 for any other text and on a code point the tables cannot lower
        # alone, which take numpy's steps.
        found = loop(text, self._bmp_kernel_ids(), None, *rest)
        if found == -1:
            if reset is not None:
                reset()
            ids, space, newline = self._positions_of(text)
            found = loop(ids, space.view(np.uint8), newline.view(np.uint8), *rest)
        return found

    def _bmp_kernel_ids(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """_bmp_char_ids as _kernels.char_wb_entries reads them: (character id, whitespace
        as uint8, the exception flags of _bmp_kernel_tables) per code point of the BMP."""
        if self._bmp_kernel is None:
            char_ids, is_space = self._bmp_char_ids()
            self._bmp_kernel = (np.ascontiguousarray(char_ids, dtype=np.uint64), is_space.astype(np.uint8),
                                _bmp_kernel_tables()[2])
        return self._bmp_kernel

    def pairs(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every occurrence of a vocabulary n-gram in the lines."""
        ids, space, newline = self._positions(lines)
        row_at = _row_at(np.flatnonzero(newline), len(ids))
        rows, cols = [], []
        key = ids.copy()
        # blocked[i]: the window starting at i crosses a line end or has whitespace inside it
        blocked = newline.copy()
        two_spaces = space[:-1] & space[1:]
        for n in range(2, self.max_n + 1):
            m = len(ids) - n + 1
            if m <= 0:
                break
            key = key[:m]  # each window's key from the one a character shorter, in place
            np.left_shift(key, np.uint64(_CHAR_BITS), out=key)
            np.bitwise_or(key, ids[n - 1:n - 1 + m], out=key)
            blocked = blocked[:m] | newline[n - 1:n - 1 + m]
            if n > 2:
                blocked |= space[n - 2:n - 2 + m]  # the last inner position of the window
            if n < self.min_n:
                continue
            starts = np.flatnonzero(~(blocked | two_spaces) if n == 2 else ~blocked)
            col = self.table_of[n].get(key[starts])
            hit = col >= 0
            rows.append(row_at.take(starts[hit]))
            cols.append(col[hit])
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def _positions(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(character id, whitespace, line end) of every position of the batch's padded
        text, as pairs() reads them."""
        return self._positions_of(self._padded_text(lines))

    @staticmethod
    def _padded_text(lines: Sequence[str]) -> str:
        """The batch as one string, as pairs() reads it."""
        # One string for the batch: every line's head lower-cased and given a space at each
        # end, lines separated by "\n". Any whitespace character stands for the space that
        # pads a word, so the padded words need not be built: a window of length n is an
        # n-gram of a padded word when it crosses no line end, has no whitespace inside it
        # (its first and last positions aside) and is not two spaces.
        # (Lowered after the padding is added: spaces and line ends are neither cased nor
        # case-ignorable, so str.lower() lowers every head as it would alone.)
        heads = [line[:CHAR_FEATURE_CHARS] for line in lines]
        text = " " + " \n ".join(heads) + " "
        if text.count("\n") != len(heads) - 1:  # a line holding "\n" itself (_join_batch)
            text = " " + _join_batch(heads).replace("\n", " \n ") + " "
        return text

    def _positions_of(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """_positions of the batch's padded text."""
        units = _bmp_units(text)
        if units is not None:  # the steps below composed per code point (_bmp_char_ids)
            char_ids, is_space = self._bmp_char_ids()
            newline = units == _NEWLINE
            ids, space = char_ids.take(units), is_space.take(units)
            space &= ~newline
        else:
            codes, classes = _normalised_codes(text)
            newline = codes == _NEWLINE
            space = ((classes & SPACE) != 0) & ~newline
            codes[space] = ord(" ")
            ids = np.take(self.table, codes, mode="clip")
        return ids, space, newline


def _entry_arrays(capacity: int, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Uninitialised (row, col, value, indptr) arrays for _kernels.c to fill: room for
    `capacity` entries."""
    return (np.empty(capacity, np.int64), np.empty(capacity, np.int64), np.empty(capacity, np.float32),
            np.empty(n_rows + 1, np.int64))


def _entries_of(out: tuple[np.ndarray, ...], nnz: int, n_rows: int) -> Entries:
    row, col, value, indptr = out
    return Entries(row[:nnz], col[:nnz], value[:nnz], n_rows, indptr)


def fast_transform(vectorizer) -> FastTfidf | None:
    """lines -> the vectorizer's TF-IDF matrix, computed in batch (a FastTfidf); None when
    the fitted vectorizer's configuration is not one this module reproduces exactly.
    vectorizer: a fitted TfidfVectorizer or its stand-in (stored.py): only its attributes
    are read."""
    if class_name(vectorizer) != _TFIDF_VECTORIZER or not hasattr(vectorizer, "vocabulary_"):
        return None
    v = vectorizer
    if v.stop_words is not None or v.strip_accents is not None or v.tokenizer is not None:
        return None
    min_n, max_n = v.ngram_range
    terms = as_packed(v.vocabulary_)  # a model file's arrays, or a fitted vectorizer's dict as arrays
    if v.analyzer == "word" and same_function(v.preprocessor, normalise_text) \
            and v.token_pattern == WORD_TOKEN_PATTERN and min_n == 1 and max_n in (1, 2):
        counts = _WordCounts(terms, bigrams=max_n == 2)
        if not counts.exact:  # never seen; sklearn then transforms
            return None
    elif v.analyzer == "char_wb" and same_function(v.preprocessor, normalise_head) \
            and _CharWbCounts.fits(terms, min_n, max_n):
        counts = _CharWbCounts(terms, min_n, max_n)
    else:
        return None
    return FastTfidf(counts, *_tfidf_weighting(v._tfidf))  # the vectorizer's own fitted TfidfTransformer


class FastTfidf:
    """A fitted TfidfVectorizer's transform (calling it) and its product with weights."""

    def __init__(self, counts, weigh, weigh_entries, kernel_weighting=None):
        self.counts, self.weigh, self.weigh_entries = counts, weigh, weigh_entries
        self.kernel_weighting = kernel_weighting
        self.n_cols = counts.n_cols

    def __call__(self, lines: Sequence[str]) -> sp.csr_matrix:
        lines = list(lines)
        if not lines:  # TfidfTransformer refuses an empty matrix
            import scipy.sparse as sp

            return sp.csr_matrix((0, self.n_cols), dtype=np.float32)
        return self.weigh(self.counts(lines))

    def products(self, lines: Sequence[str], weights: np.ndarray) -> np.ndarray:
        """self(lines) @ weights (float64 weights, one row per column of the matrix), the
        same numbers, computed on arrays of entries (sparse_entries.py) without a scipy
        matrix: for a page that saves the matrix classes' fixed cost per call, and for a
        batch sorting the entries' uint32 keys is faster than _counts_matrix's two bucket
        passes (benchmarks/NOTES.md, "The batched path")."""
        if not len(lines):
            return np.zeros((0, weights.shape[1]))
        if self.weigh_entries is None:
            rows, cols = self.counts.pairs(lines)
            return self.weigh(_counts_matrix(rows, cols, len(lines), self.n_cols)) @ weights
        if self.kernel_weighting is not None and _kernels is not None:
            weights = np.ascontiguousarray(weights, dtype=np.float64)
            product = self.counts.dot(lines, self.kernel_weighting, weights)
            if product is not None:
                return product
            return self.kernel_weighting.entries_dot(self.counts.entries(lines), weights)
        return entries_dot(self.weigh_entries(self.counts.entries(lines)), weights)


# A count up to which the compiled loops weigh counts by table (KernelWeighting.tf): one
# term counted this often in one line is left to the entries' path.
_TF_TABLE_SIZE = 4096


class KernelWeighting(NamedTuple):
    """What the compiled loops need to weigh counts as _tfidf_weighting does: tf[count],
    the term frequency of a count as numpy computes it (float32: 1 + log(count) when
    sublinear, else the count), and the idf (float64 or float32, or None)."""
    tf: np.ndarray
    idf: np.ndarray | None
    sublinear: bool

    @classmethod
    def of(cls, idf: np.ndarray | None, sublinear: bool) -> KernelWeighting:
        # numpy's own log of every count, so that a count weighed by table is the value
        # np.log gives it in weigh_values (numpy's log is computed element by element).
        tf = np.arange(_TF_TABLE_SIZE, dtype=np.float32)
        if sublinear:
            tf[0] = 1.0  # no count is 0; log(0) would warn
            np.log(tf, tf)
            tf += 1.0
        return cls(tf, idf, sublinear)

    def entries_dot(self, counts: Entries, weights: np.ndarray) -> np.ndarray:
        """entries_dot(weigh_entries(counts), weights): the log in numpy, the rest (times
        idf, the L2 norms, the product) in one compiled loop, operation for operation the
        same (_kernels.tfidf_dot)."""
        data = counts.value
        if self.sublinear and len(data):
            np.log(data, data)
            data += 1.0
        out = np.zeros((counts.n_rows, weights.shape[1]))
        indptr = row_pointers(counts.row, counts.n_rows) if counts.indptr is None else counts.indptr
        _kernels.tfidf_dot(counts.col, data, indptr, self.idf, weights, out)
        return out


_TFIDF_VECTORIZER = "sklearn.feature_extraction.text.TfidfVectorizer"


def _tfidf_weighting(tfidf) -> tuple[Callable[[sp.csr_matrix], sp.csr_matrix], Callable[[Entries], Entries] | None,
                                     KernelWeighting | None]:
    """(counts -> tfidf.transform(counts, copy=False), in place; the same for the counts
    as sparse_entries.Entries, or None where only transform() itself is exact; the
    weighting as the compiled loops apply it, or None without them).

    The steps of TfidfTransformer.transform (scikit-learn 1.x) on the counts matrix, the
    same operations in the same order, so the same numbers: log(tf) + 1 when sublinear,
    times idf, then each row divided by its L2 norm (normalise_rows_l2, scikit-learn's
    arithmetic). transform() itself first validates the matrix (a dtype and finiteness
    scan of the data) and normalize() validates it again, for a matrix built here: the
    weighting here takes a fraction of transform()'s time. Other norms ("l1", none) are left to
    transform(); tests check every combination against it bit for bit."""
    if tfidf.norm != "l2":
        real = materialize(tfidf)
        return (lambda counts: real.transform(counts, copy=False)), None, None
    idf = getattr(tfidf, "idf_", None) if tfidf.use_idf else None
    sublinear = tfidf.sublinear_tf

    def weigh_values(data: np.ndarray, cols: np.ndarray, row: np.ndarray, n_rows: int) -> None:
        if sublinear:
            np.log(data, data)
            data += 1.0
        if idf is not None:
            data *= idf[cols]
        _normalise_values_l2(data, row, n_rows)

    def weigh(counts: sp.csr_matrix) -> sp.csr_matrix:
        if len(counts.data):
            lengths = np.diff(counts.indptr)
            weigh_values(counts.data, counts.indices, np.repeat(np.arange(len(lengths)), lengths), len(lengths))
        return counts

    def weigh_entries(counts: Entries) -> Entries:
        if len(counts.value):
            weigh_values(counts.value, counts.col, counts.row, counts.n_rows)
        return counts

    # The kernels multiply by a float64 idf_ in float64 and by a float32 one in float32, as
    # numpy does; an idf_ of any other type is left to numpy.
    exact = _kernels is not None and (idf is None or idf.dtype in (np.float64, np.float32))
    kernel = KernelWeighting.of(None if idf is None else np.ascontiguousarray(idf), sublinear) if exact else None
    return weigh, weigh_entries, kernel


def normalise_rows_l2(matrix: sp.csr_matrix) -> None:
    """Divide each row of a CSR matrix by its L2 norm, in place, with the arithmetic of
    scikit-learn's inplace_csr_row_normalize_l2 (its Cython loop): per row, the squares of
    the values (in the values' precision) added one by one, in order, to a float64 sum
    from 0.0; its square root; each value divided by it in float64 and stored back. Rows
    whose sum is 0 are left as they are. np.bincount adds its weights in input order, one
    by one, into float64 bins: the same sums. (Importing scikit-learn for its loop costs
    most of a start-up.)"""
    lengths = np.diff(matrix.indptr)
    if not len(matrix.data):
        return
    _normalise_values_l2(matrix.data, np.repeat(np.arange(len(lengths)), lengths), len(lengths))


def _normalise_values_l2(data: np.ndarray, row: np.ndarray, n_rows: int) -> None:
    """normalise_rows_l2 of the entries data (in place) of rows `row` (ascending)."""
    sums = np.bincount(row, weights=data * data, minlength=n_rows)
    norms = np.sqrt(sums)
    norms[sums == 0.0] = 1.0  # x / 1.0 is x: such rows stay as they are
    data[:] = data / norms[row]
