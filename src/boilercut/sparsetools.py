"""scipy's sparse-matrix routines in C (scipy.sparse._sparsetools), without scipy.sparse.

Scoring multiplies TF-IDF entries by weights with csr_matvecs, the routine `csr_matrix @
dense` ends in (sparse_entries.py), and fast_tfidf builds count matrices with coo_tocsr,
csr_tocsc and csr_sum_duplicates. Importing scipy.sparse to reach them cost 170 ms of a
1 s start-up (its __init__ imports scipy._lib._array_api, which imports numpy.testing and
numpy.f2py), more than anything else the start-up imports. The routines live in one
compiled module of their own that needs only numpy: it is loaded from its file in
scipy/sparse/, under its own name, so that scipy.sparse, when something imports it later
(training, scikit-learn), finds it loaded and uses the same module.

Should that fail (a scipy that moved the module), scipy.sparse is imported to reach it;
None when this scipy has no such module (callers then go through the matrix classes).

    from boilercut.sparsetools import sparsetools
    routines = sparsetools()      # the module, or None
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from functools import lru_cache
from pathlib import Path

_NAME = "scipy.sparse._sparsetools"


@lru_cache(maxsize=1)
def sparsetools():
    """scipy.sparse._sparsetools, loaded without scipy.sparse's __init__ when it can be."""
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    try:
        return _load_from_file()
    except (ImportError, OSError):
        pass
    try:
        from scipy.sparse import _sparsetools
    except ImportError:
        return None
    return _sparsetools


def _load_from_file():
    """The compiled module from scipy/sparse/, executed as the import system would."""
    import scipy  # the package itself: a few ms, and the extension's name is under it

    folder = Path(scipy.__file__).parent / "sparse"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"_sparsetools{suffix}"
        if path.is_file():
            loader = importlib.machinery.ExtensionFileLoader(_NAME, str(path))
            module = importlib.util.module_from_spec(importlib.util.spec_from_loader(_NAME, loader))
            loader.exec_module(module)
            sys.modules[_NAME] = module
            return module
    raise ImportError(f"no compiled {_NAME} in {folder}")


def is_sparse(matrix) -> bool:
    """scipy.sparse.issparse(matrix), without importing scipy.sparse: while it is not
    imported, no object can be one of its matrices."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(matrix)
