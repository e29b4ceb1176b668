"""Row operations over the pages of a batch, computed so that no page's numbers depend on
the pages scored with it.

A line must get the same scores, to the last bit, whether its page is scored alone
(`score_lines`, `filter_page`) or in a batch of 2,000 lines (the corpus path). Two steps
used to break that by up to 1e-13: the mean over a window of neighbouring lines took its
sums from one running sum over the whole batch, so their rounding depended on how many
lines came before the page; and BLAS multiplies a dense block of rows with kernels that
depend on the block's size (a one-line page goes through gemv, and the context stage's
transposed weights through size-dependent gemm paths). Here both are computed page by
page, exactly as scoring the page alone computes them; the other row operations (shifts)
take one row at a time anyway.

A PageRows is built once per batch; the shifts of every offset and the windows of every
radius keep their index arrays, which the word, shape and context parts of the model all
reuse. Those of a single page depend only on its length: one_page() keeps them for the
line API, which scores one page per call (building them had a cost on every call).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from boilercut.compiled import KERNELS

# The compiled loops (compiled.py), or None: the numpy steps, the same numbers.
_kernels = KERNELS

class PageRows:
    """The pages of a batch: `page` gives each row's page number, and a page's rows are
    contiguous."""

    def __init__(self, page: np.ndarray):
        self.page = np.asarray(page)
        n = len(self.page)
        change = np.flatnonzero(self.page[1:] != self.page[:-1]) + 1
        # Page k holds rows bounds[k]:bounds[k + 1].
        self.bounds = np.concatenate(([0], change, [n])) if n else np.zeros(1, dtype=np.int64)
        self._shifts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._windows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # The compiled loops read page numbers as int64 (signed integers of any size convert exactly)
        self._page64 = (np.ascontiguousarray(self.page, dtype=np.int64)
                        if _kernels is not None and self.page.dtype.kind == "i" else None)

    @classmethod
    def of(cls, page) -> PageRows:
        """page as a PageRows: itself if it is one, else built from the page numbers."""
        return page if isinstance(page, PageRows) else cls(page)

    @staticmethod
    @lru_cache(maxsize=512)
    def one_page(n: int) -> PageRows:
        """The PageRows of a single page of n lines, kept for the next page of that length.
        (Shared between calls and threads: its arrays are only ever read.)"""
        return PageRows(np.zeros(n, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.page)

    @property
    def n_pages(self) -> int:
        return len(self.bounds) - 1

    def row_pages(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each row: the first row of its page, one past its last row, and the page's
        index in the batch (0, 1, ...)."""
        if self._rows is None:
            lengths = np.diff(self.bounds)
            index = np.repeat(np.arange(self.n_pages), lengths)
            self._rows = self.bounds[:-1][index], self.bounds[1:][index], index
        return self._rows

    def shifted(self, values: np.ndarray, offset: int) -> np.ndarray:
        """Row i gets row i + offset when that row is on the same page, else zeros (dense
        values; features.shift_rows, the same numbers)."""
        if self.n_pages <= 1:  # one page: a slice (a gather and a product cost more)
            out = np.zeros_like(values)
            n = len(values)
            if offset >= 0:
                out[:max(n - offset, 0)] = values[offset:]
            else:
                out[-offset:] = values[:max(n + offset, 0)]
            return out
        if self._compiled(values):
            out = np.empty(values.shape)
            _kernels.shift_rows(np.ascontiguousarray(values), 0, offset, self._page64, out, False)
            return out
        if offset not in self._shifts:
            n = len(self.page)
            src = np.arange(offset, n + offset)
            valid = (src >= 0) & (src < n)
            src = np.minimum(np.maximum(src, 0), max(n - 1, 0))  # np.clip, without its checks
            if n:
                valid &= self.page[src] == self.page
            self._shifts[offset] = src, valid[:, None]
        src, valid = self._shifts[offset]
        return values[src] * valid

    def add_shifted(self, total: np.ndarray, values: np.ndarray, offset: int) -> None:
        """total += shifted(values, offset), in place. For one page only the rows that have
        a row `offset` away are added to: the others would add zeros, which change no value."""
        if self.n_pages > 1 and self._compiled(values) and total.dtype == np.float64 and total.flags.c_contiguous \
                and total.shape == values.shape:
            _kernels.shift_rows(np.ascontiguousarray(values), 0, offset, self._page64, total, True)
            return
        if self.n_pages > 1:
            total += self.shifted(values, offset)
            return
        n = len(values)
        if offset >= 0:
            total[:max(n - offset, 0)] += values[offset:]
        else:
            total[-offset:] += values[:max(n + offset, 0)]

    def window_mean(self, values: np.ndarray, radius: int) -> np.ndarray:
        """Mean of rows i-radius..i+radius except row i itself, clipped to the page; zeros
        for a line alone on its page. Leaving the line out matters: otherwise a lone line's
        own features come back as its "context" and count twice.

        By running sums that restart at every page (a zero row, then the page's cumulative
        sum), each page's means are the ones the page alone gives."""
        if self._compiled(values):  # one loop, the same operations (otherwise a Python loop over pages)
            out = np.empty(values.shape)
            _kernels.window_mean(np.ascontiguousarray(values), np.ascontiguousarray(self.bounds, dtype=np.int64),
                                 radius, values.shape[1], out)
            return out
        lo, hi, divisor = self._window(radius)
        if self.n_pages <= 1 and values.dtype == np.float64:  # as below, without the copy of vstack
            csum = np.zeros((len(values) + 1, values.shape[1]))
            np.cumsum(values, axis=0, out=csum[1:])
        elif self.n_pages <= 1:
            csum = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
        else:
            # Page k's sums sit at rows bounds[k] + k .. bounds[k + 1] + k, so row j of the
            # batch, as a bound of a row of page k, reads csum[j + k].
            csum = np.zeros((len(self.page) + self.n_pages, values.shape[1]), dtype=values.dtype)
            for k, (a, b) in enumerate(zip(self.bounds[:-1].tolist(), self.bounds[1:].tolist())):
                np.cumsum(values[a:b], axis=0, out=csum[a + k + 1:b + k + 1])
            csum = csum.astype(np.result_type(values.dtype, np.float64), copy=False)  # as vstack above
        return (csum[hi] - csum[lo] - values) / divisor

    def _compiled(self, values: np.ndarray) -> bool:
        """Whether the compiled loops (_kernels.c) take these values: float64 rows of at
        least one column, of a batch whose page numbers are integers."""
        return self._page64 is not None and values.dtype == np.float64 and values.ndim == 2 and values.shape[1] > 0

    def _window(self, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For window_mean: the rows of the running sums that bound each row's window, and
        the number of other rows in it (at least 1), as a column."""
        if radius not in self._windows:
            start, end, index = self.row_pages()
            rows = np.arange(len(self.page))
            lo = np.maximum(rows - radius, start)
            hi = np.minimum(rows + radius + 1, end)
            divisor = np.maximum(hi - lo - 1, 1)[:, None]
            if self.n_pages > 1:  # page k's sums are k rows further down (window_mean)
                lo, hi = lo + index, hi + index
            self._windows[radius] = lo, hi, divisor
        return self._windows[radius]

    def dot(self, values: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """values @ weights (dense), one page at a time: the products of the page alone."""
        if self.n_pages <= 1:
            return values @ weights
        out = np.empty((len(values), weights.shape[1]), dtype=np.result_type(values, weights))
        for a, b in zip(self.bounds[:-1].tolist(), self.bounds[1:].tolist()):
            out[a:b] = values[a:b] @ weights
        return out
