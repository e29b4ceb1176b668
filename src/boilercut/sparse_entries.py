"""A small sparse matrix as arrays of entries, and its product with dense weights.

The line API scores one page per call. For a page, building a scipy.sparse matrix and
multiplying it through scipy's matrix classes costs about as much as the arithmetic
(index-type conversions, format checks, dispatch), and that fixed cost is paid for every
feature part of every page. Here the entries stay plain arrays (row, column, value, in
row-major order with each (row, column) once), and the product calls the routine that
`csr_matrix @ dense` ends in, scipy's csr_matvecs, on them directly: the same numbers,
bit for bit. (It adds value * weights[column] to each output row entry by entry in
stored order; numpy's reductions would add them pairwise, which rounds differently.)
The entries are those of a canonical CSR matrix (sorted columns, duplicates summed):
np.unique of the row-major keys orders them so.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from boilercut.sparsetools import sparsetools

# scipy's C routine behind csr_matrix @ dense (fast_tfidf uses its module too), without
# importing scipy.sparse (sparsetools.py); None: a scipy that moved it, where the matrix
# class does the same work.
_csr_matvecs = getattr(sparsetools(), "csr_matvecs", None)


class Entries(NamedTuple):
    """The nonzero entries of an (n_rows, n_cols) matrix, row-major, each (row, col) once."""
    row: np.ndarray     # int64, ascending
    col: np.ndarray     # int64, ascending within a row
    value: np.ndarray   # float32
    n_rows: int
    indptr: np.ndarray | None = None  # the CSR row pointers (int64), when known (row_pointers)


def count_entries(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> Entries:
    """Occurrence counts of the (row, col) pairs, as float32 entries: the entries of
    fast_tfidf's counts matrix (duplicates summed, sorted).

    np.unique(keys, return_counts=True) of the row-major keys, its steps written out (its
    own checks and wrappers cost more than the sort on a page). A key is the row shifted
    left past the column's bits, or-ed with the column: the row-major order of
    row * n_cols + col, taken apart again by a shift and a mask instead of an integer
    division; uint32 keys when they fit (numpy sorts them faster). The row pointers come
    from the sorted keys too: a binary search per row is cheaper than counting every
    entry's row again (row_pointers)."""
    bits = max(int(n_cols) - 1, 1).bit_length()
    key_type = np.uint32 if n_rows <= 1 << (32 - bits) else np.uint64
    keys = np.asarray(rows).astype(key_type)
    np.left_shift(keys, key_type(bits), out=keys)
    keys |= np.asarray(cols).astype(key_type)
    keys.sort()
    first = np.empty(len(keys) + 1, dtype=bool)  # where each distinct key starts, and the end
    first[0] = first[-1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:-1])
    starts = np.flatnonzero(first)
    keys = keys[starts[:-1]]
    row = (keys >> key_type(bits)).astype(np.int64)
    col = (keys & key_type((1 << bits) - 1)).astype(np.int64)
    indptr = np.empty(n_rows + 1, dtype=np.int64)
    indptr[0], indptr[-1] = 0, len(keys)
    # Where rows 1 .. n_rows - 1 begin (the key of row n_rows itself may not fit the type).
    indptr[1:-1] = np.searchsorted(keys, np.arange(1, n_rows, dtype=key_type) << key_type(bits))
    return Entries(row, col, np.diff(starts).astype(np.float32), n_rows, indptr)


def row_pointers(row: np.ndarray, n_rows: int) -> np.ndarray:
    """The CSR indptr of entries whose rows are `row` (ascending)."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_rows), out=indptr[1:])
    return indptr


def entries_dot(entries: Entries, weights: np.ndarray) -> np.ndarray:
    """The matrix of the entries (float32 values) times dense float64 weights (n_cols, m),
    as `csr_matrix @ weights` computes it."""
    n_rows, n_cols = entries.n_rows, len(weights)
    indptr = row_pointers(entries.row, n_rows) if entries.indptr is None else entries.indptr
    if _csr_matvecs is None:
        import scipy.sparse as sp

        matrix = sp.csr_matrix((entries.value, entries.col, indptr), shape=(n_rows, n_cols))
        return np.asarray(matrix @ weights, dtype=np.float64)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    out = np.zeros((n_rows, weights.shape[1]), dtype=np.float64)
    # csr_matrix @ weights casts the values to the result's float64 first, as here.
    _csr_matvecs(n_rows, n_cols, weights.shape[1], indptr, entries.col, entries.value.astype(np.float64),
                 weights.ravel(), out.ravel())
    return out
