"""Term counts of the training lines, counted once and shared by every fit of a training run.

`python -m train` fits the first stage four times: three fold Pipelines (for the context
stage) and the final one, each on its own subset of the training lines, and each of
their TfidfVectorizers ran its analyzer over its lines and looked every term up in a dict:
three passes over the training lines per vectorizer, a third of training time once the
solver was preconditioned (benchmarks/NOTES.md, "Training in 30 seconds").

Here every line is analysed once per vectorizer, into counts over a vocabulary of every
term, sorted, with the position of each term's first occurrence in its line. A fit on a
subset of the lines, in any order, takes its rows and does on arrays what
CountVectorizer.fit_transform does on them: the vocabulary of the terms they hold, in the
order the terms first occur (the dict's order, which a model file stores), the sorted
columns, then scikit-learn's own document-frequency and max_features cut. The fitted
vectorizer and its TF-IDF matrix are those of clone(vectorizer).fit(texts) and
.transform(texts), to the bit (tests/test_shared_counts.py).

The counting itself runs in compiled loops where the kernels are built (char_wb and word
analyzers): _kernels.char_wb_counts and word_ngram_counts number each line's terms as the
analyzer's list of str would be numbered, without building a str per n-gram (2.9 s -> 0.8 s
for the character n-grams of the bundled training lines); only the distinct terms become
str. Elsewhere the analyzer's own terms are counted, the same arrays.

    counted = count_parts(tfidf_parts(union), table)        # once, on every training line
    with counted.used_for(rows):                             # rows: the fit's lines, in its order
        feats = pipeline[:-1].fit_transform(table_of_those_rows)
"""
from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from itertools import chain
from numbers import Integral
from typing import Iterator, Sequence

import numpy as np
import scipy.sparse as sp

# Parameters applied after the terms are counted: a fit on any subset of the lines reads
# the same counts whatever they are. Every other parameter decides what the terms are.
_AFTER_COUNTING = frozenset({"min_df", "max_df", "max_features", "binary", "dtype", "norm", "use_idf",
                             "smooth_idf", "sublinear_tf"})


def analysis_params(vectorizer) -> dict:
    """The parameters of a TfidfVectorizer that decide the terms of a text."""
    return {k: v for k, v in vectorizer.get_params().items() if k not in _AFTER_COUNTING}


@dataclass
class CountedLines:
    """Every line's terms under one analyzer: `terms` sorted; `counts` (lines x terms, CSR,
    int32, columns sorted in each row); `first`, for each stored count, where the term
    first occurs in the line's list of terms."""
    column: str | None
    params: dict
    terms: np.ndarray
    counts: sp.csr_matrix
    first: np.ndarray

    @classmethod
    def count(cls, vectorizer, texts: Sequence[str], column: str | None = None) -> "CountedLines":
        analyze = vectorizer.build_analyzer()  # also what it checks and marks on the vectorizer
        compiled = _compiled_counts(vectorizer, texts)
        if compiled is not None:
            return cls(column, analysis_params(vectorizer), *compiled)
        ids: dict[str, int] = defaultdict()
        ids.default_factory = ids.__len__  # a new term gets the next id, as CountVectorizer numbers them
        per_line = [[ids[term] for term in analyze(text)] for text in texts]
        lengths = np.fromiter(map(len, per_line), dtype=np.int64, count=len(per_line))
        flat = np.fromiter(chain.from_iterable(per_line), dtype=np.int64, count=int(lengths.sum()))
        del per_line
        terms = np.asarray(list(ids), dtype=object)
        order, rank = _term_order(terms)
        row = np.repeat(np.arange(len(lengths)), lengths)
        position = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        # One stored count per (line, term), sorted by line then term; np.unique's index is
        # the first occurrence (it sorts stably when asked for it).
        width = max(len(terms), 1)
        pair, first_index, counts = np.unique(row * width + rank[flat], return_index=True, return_counts=True)
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(np.bincount(pair // width, minlength=len(lengths)), out=indptr[1:])
        matrix = sp.csr_matrix((counts.astype(np.int32), (pair % width).astype(np.int32), indptr),
                               shape=(len(lengths), len(terms)))
        return cls(column, analysis_params(vectorizer), terms[order], matrix,
                   position[first_index].astype(np.int32))

    def matches(self, column: str | None, vectorizer) -> bool:
        return column == self.column and analysis_params(vectorizer) == self.params

    def fitted(self, vectorizer, rows: np.ndarray) -> tuple:
        """(a fitted clone of `vectorizer`, its TF-IDF matrix of the lines `rows`, in that
        order), as features.fitted_with_output gives them from the lines' texts."""
        from sklearn.base import clone
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

        # The attributes TfidfVectorizer.fit sets, in its order (a pickle keeps the order).
        fitted = clone(vectorizer)
        fitted._tfidf = TfidfTransformer(norm=fitted.norm, use_idf=fitted.use_idf, smooth_idf=fitted.smooth_idf,
                                         sublinear_tf=fitted.sublinear_tf)
        fitted._validate_ngram_range()
        fitted._warn_for_unused_params()
        fitted._validate_vocabulary()
        fitted.build_analyzer()  # as counting does: it leaves a mark that the stop words were checked
        if fitted.fixed_vocabulary_:
            raise ValueError("shared counts fit a vocabulary; this vectorizer has a fixed one")
        counts, vocabulary = self._counts_of(rows, fitted.dtype)
        if fitted.binary:
            counts.data.fill(1)
        # What CountVectorizer.fit_transform does after counting, with its own methods.
        n_doc = counts.shape[0]
        max_doc_count = fitted.max_df if isinstance(fitted.max_df, Integral) else fitted.max_df * n_doc
        min_doc_count = fitted.min_df if isinstance(fitted.min_df, Integral) else fitted.min_df * n_doc
        if max_doc_count < min_doc_count:
            raise ValueError("max_df corresponds to < documents than min_df")
        counts = CountVectorizer._limit_features(fitted, counts, vocabulary, max_doc_count, min_doc_count,
                                                 fitted.max_features)
        if fitted.max_features is None:
            # scikit-learn cuts before it sorts then, and sorting numbers the columns anew
            # with Python ints (the same numbers, another type: a model file keeps it).
            vocabulary = dict(zip(vocabulary, map(int, vocabulary.values())))
        fitted.vocabulary_ = vocabulary
        counts.sort_indices()
        fitted._tfidf.fit(counts)
        return fitted, fitted._tfidf.transform(counts, copy=False)

    def _counts_of(self, rows: np.ndarray, dtype) -> tuple[sp.csr_matrix, dict]:
        """The counts of `rows` over the terms they hold (columns in term order), and the
        vocabulary dict {term: column} in the order the terms first occur in them."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.counts.indptr[rows], self.counts.indptr[rows + 1]
        lengths = ends - starts
        offsets = np.cumsum(lengths) - lengths
        entry = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))
        columns = self.counts.indices[entry]
        present, first_entry, local = np.unique(columns, return_index=True, return_inverse=True)
        if len(present) == 0:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        counts = sp.csr_matrix((self.counts.data[entry].astype(dtype), local.astype(np.int32), indptr),
                               shape=(len(rows), len(present)))
        # A term's first occurrence: its first entry (entries run in the rows' order), at
        # the position it first takes in that line.
        line = np.searchsorted(indptr, first_entry, side="right") - 1
        seen = line * (int(self.first.max(initial=0)) + 1) + self.first[entry][first_entry]
        terms = self.terms[present]
        order = np.argsort(seen, kind="stable")
        # (lists zipped: a comprehension over numpy scalars took 0.1 s a fit)
        vocabulary = dict(zip(terms[order].tolist(), order.tolist()))
        return counts, vocabulary


def _term_order(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the terms' indices in sorted order, each term's place in that order)."""
    order = np.asarray(sorted(range(len(terms)), key=terms.__getitem__), dtype=np.int64)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return order, rank


def _compiled_counts(vectorizer, texts: Sequence[str]) -> tuple | None:
    """CountedLines.count's (terms, counts, first) from the compiled loops
    (_kernels.char_wb_counts, word_ngram_counts: the analyzer's terms without a Python str
    for each n-gram), the same arrays; None when the kernels are absent or the vectorizer
    analyses otherwise. The loops read each text as the analyzer does after decoding and
    preprocessing it, and word n-grams after tokenizing it and removing stop words."""
    from boilercut.compiled import KERNELS

    if not counted_fast(vectorizer):
        return None
    low, high = vectorizer.ngram_range
    decode, preprocess = vectorizer.decode, vectorizer.build_preprocessor()
    if vectorizer.analyzer == "char_wb":
        found = KERNELS.char_wb_counts([preprocess(decode(text)) for text in texts], low, high)
    else:
        tokenize, stop_words = vectorizer.build_tokenizer(), vectorizer.get_stop_words()
        tokens = [tokenize(preprocess(decode(text))) for text in texts]
        if stop_words is not None:
            tokens = [[token for token in line if token not in stop_words] for line in tokens]
        found = KERNELS.word_ngram_counts(tokens, low, high)
    if found is None:  # a token with a space
        return None
    found, indptr, ids, counts, first = found
    terms = np.asarray(found, dtype=object)
    order, rank = _term_order(terms)
    indptr = np.frombuffer(indptr, dtype=np.int64)
    shape = (len(indptr) - 1, len(terms))
    # Each line's entries come in the order its terms first occur: sorted here by column
    # (scipy's per-row sort), with count and first position packed as one value to follow.
    packed = sp.csr_matrix(((np.frombuffer(counts, dtype=np.int32).astype(np.int64) << 32)
                            | np.frombuffer(first, dtype=np.int32),
                            rank[np.frombuffer(ids, dtype=np.int32)].astype(np.int32), indptr), shape=shape)
    packed.sort_indices()
    matrix = sp.csr_matrix(((packed.data >> 32).astype(np.int32), packed.indices, indptr), shape=shape)
    return terms[order], matrix, (packed.data & 0xFFFFFFFF).astype(np.int32)


_COMPILED_MAX_N = 8  # _kernels.c's GRAM_MAX_N


@dataclass
class SharedCounts:
    """The counted lines of every TF-IDF part of a feature union; used_for says which of
    them a fit is given."""
    parts: list[CountedLines]

    def lookup(self, column: str | None, vectorizer) -> CountedLines | None:
        return next((p for p in self.parts if p.matches(column, vectorizer)), None)

    @contextmanager
    def used_for(self, rows: np.ndarray) -> Iterator[None]:
        """While inside, Neighbours.fit_transform of a TF-IDF part in these parts takes its
        counts from here, for the lines `rows` (the table it is given must hold them, in
        that order)."""
        token = _ACTIVE.set((self, np.asarray(rows, dtype=np.int64)))
        try:
            yield
        finally:
            _ACTIVE.reset(token)


_ACTIVE: ContextVar[tuple[SharedCounts, np.ndarray] | None] = ContextVar("boilercut_shared_counts", default=None)


def active_counts(column: str | None, vectorizer, n_lines: int) -> tuple[CountedLines, np.ndarray] | None:
    """The counted lines and rows for a fit of `vectorizer` on `column` of n_lines lines,
    when SharedCounts.used_for is in force and holds them; else None."""
    active = _ACTIVE.get()
    if active is None:
        return None
    shared, rows = active
    counted = shared.lookup(column, vectorizer)
    if counted is None:
        return None
    if len(rows) != n_lines:
        raise ValueError(f"shared counts are in use for {len(rows)} lines, but the fit is given {n_lines}")
    return counted, rows


def count_parts(parts, table, submit=None) -> SharedCounts:
    """SharedCounts of the TF-IDF `parts` (features.Neighbours, as features.tfidf_parts
    gives them) over the lines of `table`, counted here. Parts without a compiled count
    (counted_fast) take seconds each: with `submit` (function, *args) -> Future, as
    FitProcesses.submit, all of those but the slowest are counted in workers meanwhile."""
    inputs = [(part.transformer, part.inputs(table), part.column) for part in parts]
    slow = [k for k, part in enumerate(parts) if not counted_fast(part.transformer)]
    away = {}
    if submit is not None and len(slow) > 1:
        # The slowest (character n-grams: one Python str per n-gram) here: this process
        # would otherwise wait idle for the slowest worker.
        slowest = max(slow, key=lambda k: _cost(parts[k].transformer))
        away = {k: submit(CountedLines.count, *inputs[k]) for k in slow if k != slowest}
    here = {k: CountedLines.count(*inputs[k]) for k in range(len(parts)) if k not in away}
    return SharedCounts([here[k] if k in here else away[k].result() for k in range(len(parts))])


def counted_fast(vectorizer) -> bool:
    """Whether CountedLines.count takes the compiled loops for this vectorizer (a tenth
    of a second per 10,000 lines, instead of about a second)."""
    from boilercut.compiled import KERNELS

    low, high = vectorizer.ngram_range
    return (KERNELS is not None and vectorizer.analyzer in ("char_wb", "word")
            and 1 <= low <= high <= _COMPILED_MAX_N)


def _cost(vectorizer) -> int:
    """A rank of how long counting a vectorizer's terms takes: character n-grams (several
    per character) above words."""
    analyzer = getattr(vectorizer, "analyzer", "word")
    return 2 if analyzer in ("char", "char_wb") else 1
