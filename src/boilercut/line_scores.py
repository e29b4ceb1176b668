"""What the model says about every line of a batch of pages: LineModel.score's result.

    scored = model.score(pages)
    scored.proba          # (lines, classes): class probabilities, rows in page order
    scored.keep           # per line, the probability of the keep labels (summed)
    scored.labels         # per line, the most probable class
    scored.words          # per line, its word count (lines.count_words)
    scored.by_page(scored.keep)   # any of them cut into one array per page

One object for every caller (training, evaluation, predict, the line API, the
integrations), so that none scores twice for two views of the same lines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import numpy as np


@dataclass
class LineScores:
    proba: np.ndarray                 # (lines, classes), columns in class_names order
    keep: np.ndarray                  # (lines,) probability of the keep labels
    words: np.ndarray                 # (lines,) int64 word counts
    class_names: Sequence[str]        # the model's labels, in column order
    page_sizes: Sequence[int]         # lines of each page, in order
    _bounds: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        self._bounds = np.cumsum(self.page_sizes)[:-1] if len(self.page_sizes) else np.zeros(0, dtype=np.int64)

    @cached_property
    def labels(self) -> np.ndarray:
        """The most probable class of each line (an object array of str)."""
        if not len(self.proba):
            return np.zeros(0, dtype=object)
        return np.asarray(self.class_names, dtype=object)[self.proba.argmax(axis=1)]

    def by_page(self, values: np.ndarray) -> list[np.ndarray]:
        """values (one per line, or rows of proba) cut into one array per page."""
        return np.split(values, self._bounds) if len(self.page_sizes) else []
