"""A model file loads as stand-ins (stored.py) and scores without scikit-learn; the real
objects built from the stand-ins are the ones joblib.load builds."""
import subprocess
import sys

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import TINY_PAGE
from test_model_pickles import forge_bytes, model_path  # noqa: F401  (fixture)

from boilercut import score_lines
from boilercut.fast_tfidf import normalise_rows_l2
from boilercut.persist import ModelFileError, load_model
from boilercut.safe_joblib import load_restricted, load_stored
from boilercut.stored import Stored, materialize

LINES = TINY_PAGE.split("\n")


def assert_same_objects(a, b, path="model", seen=None):
    """The same classes, attributes and values throughout (arrays: dtype and every value)."""
    seen = set() if seen is None else seen
    if id(a) in seen:
        return
    seen.add(id(a))
    assert type(a) is type(b), path
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), path
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            assert_same_objects(a[key], b[key], f"{path}[{key!r}]", seen)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_objects(x, y, f"{path}[{i}]", seen)
    elif hasattr(a, "__dict__") and not isinstance(a, type) and not callable(a):
        assert_same_objects(vars(a), vars(b), path, seen)
    else:
        assert a == b or a is b, path


def test_the_real_objects_from_stand_ins_are_those_joblib_loads(model_path):  # noqa: F811
    data = model_path.read_bytes()
    stored = load_stored(data)
    assert isinstance(stored["pipeline"], Stored) and isinstance(stored["context_stage"], Stored)
    assert_same_objects(materialize(stored), joblib.load(model_path))
    assert_same_objects(load_restricted(data), joblib.load(model_path))


def test_a_loaded_model_scores_the_same_before_and_after_it_builds_its_pipeline(tiny_model, model_path):  # noqa: F811
    model = load_model(model_path)
    scores = score_lines(LINES, model=model)
    assert scores == score_lines(LINES, model=tiny_model)
    assert type(model.pipeline).__name__ == "Pipeline"  # built on first read, then kept
    assert model.pipeline is model.pipeline
    model._scorer = None  # as for a Pipeline the fast scorer does not know: scikit-learn scores
    assert np.abs(np.array(score_lines(LINES, model=model)) - scores).max() < 1e-9


def test_loading_and_scoring_import_neither_scikit_learn_nor_pandas(model_path):  # noqa: F811
    code = ("import sys, predict\n"
            "from boilercut import load_model, score_lines\n"
            f"model = load_model({str(model_path)!r})\n"
            f"score_lines({LINES!r}, model=model)\n"
            "print(sorted(m for m in ('sklearn', 'pandas', 'scipy.stats', 'datasets', 'hydra', 'matplotlib')"
            " if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module, name", [("sklearn.pipeline", "Pipeline"),
                                          ("boilercut.features", "LineShape"),
                                          ("joblib.numpy_pickle", "NumpyArrayWrapper")])
def test_setting_attributes_of_a_stand_in_class_is_refused(model_path, module, name):  # noqa: F811
    # GLOBAL module name, then BUILD with the state (None, {"x": 1}).
    pickled = (b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\nN}X\x01\x00\x00\x00xK\x01s\x86b.")
    forge_bytes(model_path, pickled)
    with pytest.raises(ModelFileError, match=f"refuses to set the attributes of '{module}.{name}'"):
        load_model(model_path)


def test_calling_a_stand_in_class_is_refused(model_path):  # noqa: F811
    pickled = b"\x80\x02csklearn.pipeline\nPipeline\n)R."  # Pipeline(), by REDUCE
    forge_bytes(model_path, pickled)
    with pytest.raises(ModelFileError, match="refuses to call 'sklearn.pipeline.Pipeline'"):
        load_model(model_path)


def _random_csr(rng, n_rows, n_cols, density, dtype):
    matrix = sp.random(n_rows, n_cols, density=density, format="csr", dtype=dtype, random_state=rng)
    matrix.data *= rng.choice([1e-3, 1.0, 7.0, 1e3], size=len(matrix.data)).astype(dtype)
    return matrix


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_normalisation_is_scikit_learns_bit_for_bit(dtype):
    from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

    rng = np.random.default_rng(0)
    for n_rows, n_cols, density in ((1, 50, 0.9), (30, 400, 0.3), (500, 3000, 0.05), (4, 10, 0.0)):
        matrix = _random_csr(rng, n_rows, n_cols, density, dtype)
        matrix.data[::7] = 0.0  # explicit zeros: rows whose sum is 0 stay as they are
        expected = matrix.copy()
        inplace_csr_row_normalize_l2(expected)
        normalise_rows_l2(matrix)
        assert matrix.data.dtype == expected.data.dtype
        assert np.array_equal(matrix.data, expected.data, equal_nan=True)



def test_a_loaded_model_pickles_with_its_real_objects(model_path):  # noqa: F811
    """As multiprocessing and datasets' map workers pickle it: stand-ins go as the real
    objects, the scorer is built again on first use."""
    import pickle

    model = load_model(model_path)
    scores = score_lines(LINES, model=model)
    copy = pickle.loads(pickle.dumps(model))
    assert type(copy._stored("pipeline")).__name__ == "Pipeline"
    assert score_lines(LINES, model=copy) == scores
