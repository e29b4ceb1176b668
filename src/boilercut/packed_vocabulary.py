"""A fitted vectorizer's vocabulary_ as a model file stores it: one string and two arrays.

A TfidfVectorizer's vocabulary_ is a dict of term -> column. Pickled as a dict, loading it
builds a str and a numpy scalar per term: for the default model's 245,000 terms that took
0.2 s of every start-up, and the fast TF-IDF tables (fast_tfidf.py) then turned the dict
back into arrays. save_model stores each vocabulary packed instead (packed_vocabularies):
the terms concatenated into one string, each term's end in it (in code points), and the
columns, in the dict's order. Scoring reads the arrays; to_dict() gives the dict back, equal
and in the same order, when the real scikit-learn object is built (stored.materialize).

A packed vocabulary pickles as a call of unpack_vocabulary, which returns the dict: a
plain joblib.load (--trust-model-file) builds the very vectorizer that was saved. The safe
loader (safe_joblib) answers that call with a PackedVocabulary instead, after checking
its arguments.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np

_VECTORIZER = "sklearn.feature_extraction.text.TfidfVectorizer"


class PackedVocabulary:
    """vocabulary_ as text (the terms, concatenated), ends (int64: where each term ends in
    text, in code points) and columns (int64: each term's column), in the dict's order.
    numpy_columns: whether the dict's columns are numpy int64 scalars (what scikit-learn
    leaves when max_features or min_df cut the vocabulary) or Python ints (otherwise)."""

    def __init__(self, text: str, ends: np.ndarray, columns: np.ndarray, numpy_columns: bool = True):
        self.text, self.ends, self.columns, self.numpy_columns = text, ends, columns, numpy_columns
        self._codes: np.ndarray | None = None

    @classmethod
    def from_dict(cls, vocabulary: dict) -> "PackedVocabulary | None":
        """The packed form of a vocabulary of str terms and columns that are all numpy
        int64 or all Python ints (what scikit-learn's fit leaves), None for any other:
        to_dict() could not rebuild it."""
        if not all(type(term) is str for term in vocabulary):
            return None
        column_types = set(map(type, vocabulary.values()))
        if column_types not in ({np.int64}, {int}):
            return None
        packed = as_packed(vocabulary)
        packed.numpy_columns = column_types == {np.int64}
        return packed

    def __len__(self) -> int:
        return len(self.columns)

    def lengths(self) -> np.ndarray:
        """The number of code points of each term."""
        return np.diff(self.ends, prepend=0)

    def codes(self) -> np.ndarray:
        """The code points of text (uint32), computed once."""
        if self._codes is None:
            self._codes = np.frombuffer(self.text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return self._codes

    def to_dict(self) -> dict:
        """The vocabulary_ dict it was packed from: the same terms, columns (of the same
        type) and order."""
        starts = self.ends - self.lengths()
        terms = map(self.text.__getitem__, map(slice, starts.tolist(), self.ends.tolist()))
        return dict(zip(terms, self.columns if self.numpy_columns else self.columns.tolist()))

    def __reduce__(self):
        return unpack_vocabulary, (self.text, self.ends, self.columns, self.numpy_columns)


def as_packed(vocabulary) -> PackedVocabulary:
    """A vocabulary_ (a dict of str -> int column, or a PackedVocabulary) as arrays, to read
    (fast_tfidf builds its tables from them): columns of any integer type become int64."""
    if isinstance(vocabulary, PackedVocabulary):
        return vocabulary
    lengths = np.fromiter(map(len, vocabulary), dtype=np.int64, count=len(vocabulary))
    columns = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))
    return PackedVocabulary("".join(vocabulary), np.cumsum(lengths), columns)


def unpack_vocabulary(text: str, ends: np.ndarray, columns: np.ndarray, numpy_columns: bool) -> dict:
    """The vocabulary_ dict of a packed vocabulary (what a plain unpickler builds)."""
    return PackedVocabulary(text, ends, columns, numpy_columns).to_dict()


def checked_vocabulary(text, ends, columns, numpy_columns) -> PackedVocabulary:
    """A PackedVocabulary from a file's arguments, refused (ValueError) unless they are what
    PackedVocabulary.__reduce__ writes: a str, two int64 arrays of one length whose ends
    rise to the text's end, and a bool."""
    if not isinstance(text, str):
        raise ValueError("a packed vocabulary's terms are not a str")
    if not isinstance(numpy_columns, bool):
        raise ValueError("a packed vocabulary's column type is not a bool")
    for name, array in (("ends", ends), ("columns", columns)):
        if not (type(array) is np.ndarray and array.dtype == np.int64 and array.ndim == 1):
            raise ValueError(f"a packed vocabulary's {name} are not a 1-d int64 array")
    if len(ends) != len(columns):
        raise ValueError("a packed vocabulary has as many ends as columns")
    lengths = np.diff(ends, prepend=0)
    if (lengths < 0).any() or (len(ends) and ends[-1] != len(text)) or (not len(ends) and text):
        raise ValueError("a packed vocabulary's ends do not divide its terms")
    return PackedVocabulary(text, ends, columns, numpy_columns)


@contextmanager
def packed_vocabularies(obj) -> Iterator[None]:
    """While inside: the vocabulary_ of every TfidfVectorizer in obj (a fitted Pipeline or
    what save_model stores) packed, so that pickling it writes the packed form. The dicts
    are put back on the way out, however it ends."""
    swapped = []
    try:
        for vectorizer in _vectorizers(obj, set()):
            packed = PackedVocabulary.from_dict(vectorizer.vocabulary_)
            if packed is not None:
                swapped.append((vectorizer, vectorizer.vocabulary_))
                vectorizer.vocabulary_ = packed
        yield
    finally:
        for vectorizer, vocabulary in swapped:
            vectorizer.vocabulary_ = vocabulary


def _vectorizers(obj, seen: set[int]) -> Iterator:
    """Every fitted TfidfVectorizer reachable from obj through containers and object
    attributes (Pipeline steps, FeatureUnion parts, Neighbours' transformer_), once each."""
    if id(obj) in seen or isinstance(obj, (np.ndarray, np.generic, str, bytes, int, float, type(None))):
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple)):
        items = obj
    elif isinstance(obj, dict):
        items = obj.values()
    else:
        cls = type(obj)
        if f"{cls.__module__}.{cls.__qualname__}" == _VECTORIZER:
            if isinstance(getattr(obj, "vocabulary_", None), dict):
                yield obj
            return  # nothing inside a vectorizer holds another one
        items = getattr(obj, "__dict__", {}).values()
    for item in items:
        yield from _vectorizers(item, seen)
