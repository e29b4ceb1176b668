"""A model file stores each vectorizer's vocabulary packed into arrays (format 4,
packed_vocabulary.py): loading reads arrays, scoring gives the same probabilities as with
the dict, the real scikit-learn object gets the very dict back, and the safe loader
refuses a packed vocabulary that is anything but a str and two int64 arrays."""
import json
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
from conftest import TINY_CONTEXT_STAGE, TINY_FEATURES, TINY_PAGE, tiny_records
from sklearn.feature_extraction.text import TfidfVectorizer
from test_model_pickles import forge, forge_bytes, model_path, refusal  # noqa: F401  (fixture)

from boilercut import load_model, score_lines
from boilercut.fast_tfidf import fast_transform
from boilercut.model import LineModel
from boilercut.normalise import normalise_head, normalise_text
from boilercut.packed_vocabulary import PackedVocabulary, packed_vocabularies
from boilercut.persist import FORMAT_VERSION, metadata_path, save_model, stored_form
from boilercut.safe_joblib import load_stored
from boilercut.stored import materialize
from boilercut.training import fit_line_model

LINES = TINY_PAGE.split("\n")
WORDS = {"preprocessor": normalise_text, "token_pattern": r"(?u)\b\w+\b", "ngram_range": (1, 2)}
CHARS = {"preprocessor": normalise_head, "analyzer": "char_wb", "ngram_range": (3, 4)}
TEXTS = [line for r in tiny_records(12) for line in r["lines"]] + [
    "Ünïcödé wörds, ΣΟΦΙΑΣ and 東京 too", "digits 2024 and 3.14", "a b c d e", "x"]


def vectorizers(pipeline) -> list:
    """The TfidfVectorizers of a Pipeline (real or stand-in), as the scorer finds them."""
    union = pipeline.steps[0][1]
    return [part.transformer_ for _, part in union.transformer_list if hasattr(part.transformer_, "vocabulary_")]


@pytest.fixture(scope="module")
def bigram_model():
    """A model with word bigrams (the session's tiny model has unigrams only)."""
    pipeline, stage = fit_line_model(tiny_records(), {**TINY_FEATURES, "word_ngram_max": 2}, {"C": 4.0, "max_iter": 500},
                                     context_stage=TINY_CONTEXT_STAGE)
    return LineModel(pipeline, context_stage=stage)


def test_a_saved_model_holds_packed_vocabularies(bigram_model, tmp_path):
    path = save_model(bigram_model, tmp_path / "m.joblib")
    assert json.loads(metadata_path(path).read_text())["format_version"] == FORMAT_VERSION == 4
    found = vectorizers(load_stored(path.read_bytes())["pipeline"])
    assert len(found) == 2 and all(isinstance(v.vocabulary_, PackedVocabulary) for v in found)
    # Saving leaves the model's own dicts as they were.
    assert all(type(v.vocabulary_) is dict for v in vectorizers(bigram_model.pipeline))


def test_packed_and_dict_vocabularies_score_the_same(bigram_model, tmp_path):
    packed = load_model(save_model(bigram_model, tmp_path / "m.joblib"))
    forge(tmp_path / "m.joblib", stored_form(bigram_model))  # a format-3 file: the dicts pickled
    meta = json.loads(metadata_path(tmp_path / "m.joblib").read_text())
    metadata_path(tmp_path / "m.joblib").write_text(json.dumps({**meta, "format_version": 3}))
    with_dicts = load_model(tmp_path / "m.joblib")
    assert all(type(v.vocabulary_) is dict for v in vectorizers(with_dicts._stored("pipeline")))
    pages = [LINES, TEXTS]
    expected = bigram_model.score(pages).proba
    assert np.array_equal(packed.score(pages).proba, expected)
    assert np.array_equal(with_dicts.score(pages).proba, expected)


def assert_same_vocabulary(got: dict, expected: dict) -> None:
    assert got == expected and list(got) == list(expected)
    assert {type(column) for column in got.values()} == {type(column) for column in expected.values()}


def test_the_real_vectorizer_gets_its_dict_back(bigram_model, tmp_path):
    path = save_model(bigram_model, tmp_path / "m.joblib")
    originals = [v.vocabulary_ for v in vectorizers(bigram_model.pipeline)]
    for loaded in (materialize(load_stored(path.read_bytes())), joblib.load(path)):  # safe, trusted
        for vectorizer, original in zip(vectorizers(loaded["pipeline"]), originals):
            assert_same_vocabulary(vectorizer.vocabulary_, original)
    assert score_lines(LINES, model=load_model(path, trust_model_file=True)) == score_lines(LINES, model=bigram_model)


def test_packing_round_trips_any_terms():
    vocabulary = {term: np.int64(i) for i, term in enumerate(["", "a b", "東京", "x\udcff", "😀 ok", "Σσς"])}
    packed = PackedVocabulary.from_dict(vocabulary)
    assert len(packed) == 6
    assert_same_vocabulary(packed.to_dict(), vocabulary)
    assert_same_vocabulary(pickle.loads(pickle.dumps(packed)), vocabulary)  # a plain unpickler: the dict


def test_python_int_columns_come_back_as_python_ints():
    # scikit-learn's fit leaves Python ints when no max_features or min_df cut the vocabulary.
    vocabulary = TfidfVectorizer().fit(["bee ant", "cow"]).vocabulary_
    assert {type(column) for column in vocabulary.values()} == {int}
    assert_same_vocabulary(PackedVocabulary.from_dict(vocabulary).to_dict(), vocabulary)


def test_a_vocabulary_of_mixed_columns_stays_a_dict():
    assert PackedVocabulary.from_dict({"a": 0, "b": np.int64(1)}) is None
    vectorizer = TfidfVectorizer(vocabulary={"a": 0, "b": np.int64(1)}).fit(["a b"])
    with packed_vocabularies([vectorizer]):
        assert type(vectorizer.vocabulary_) is dict


@pytest.mark.parametrize("features", [WORDS, {**WORDS, "ngram_range": (1, 1)}, {**WORDS, "max_features": 30}, CHARS],
                         ids=["bigrams", "unigrams", "bigrams-of-cut-unigrams", "chars"])
def test_fast_tables_from_packed_arrays_are_those_from_the_dict(features):
    vectorizer = TfidfVectorizer(dtype=np.float32, sublinear_tf=True, **features).fit(TEXTS)
    from_dict = fast_transform(vectorizer)(TEXTS)
    vectorizer.vocabulary_ = PackedVocabulary.from_dict(vectorizer.vocabulary_)
    from_packed = fast_transform(vectorizer)(TEXTS)
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(from_packed, name), getattr(from_dict, name)), name


def test_word_terms_that_are_not_tokens_leave_the_words_to_sklearn():
    vectorizer = TfidfVectorizer(**WORDS).fit(["pp cd"])
    vectorizer.vocabulary_ = {"pp": np.int64(0), "cd": np.int64(1), "pp-cd": np.int64(2)}  # not two tokens and a space
    assert fast_transform(vectorizer) is None


def test_a_tampered_packed_vocabulary_cannot_be_loaded(model_path, tmp_path):  # noqa: F811
    class Forged:
        def __init__(self, *args):
            self.args = args

        def __reduce__(self):
            from boilercut.packed_vocabulary import unpack_vocabulary
            return unpack_vocabulary, self.args

    ends, columns = np.array([1, 2], dtype=np.int64), np.array([0, 1], dtype=np.int64)
    forge(model_path, {"pipeline": Forged("ab", np.array([1, 5], dtype=np.int64), columns, True), "context_stage": None})
    assert "do not divide its terms" in refusal(model_path)
    forge(model_path, {"pipeline": Forged("ab", [1, 2], columns, True), "context_stage": None})
    assert "not a 1-d int64 array" in refusal(model_path)
    forge(model_path, {"pipeline": Forged(b"ab", ends, columns, True), "context_stage": None})
    assert "not a str" in refusal(model_path)
    forge(model_path, {"pipeline": Forged("ab", ends, columns, "yes"), "context_stage": None})
    assert "not a bool" in refusal(model_path)


def test_the_packing_functions_other_than_unpack_are_refused(model_path):  # noqa: F811
    forge(model_path, {"pipeline": [packed_vocabularies], "context_stage": None})
    assert "refuses to load global 'boilercut.packed_vocabulary.packed_vocabularies'" in refusal(model_path)
    # unpack_vocabulary, then BUILD with the state (None, {"x": 1}).
    forge_bytes(model_path, b"\x80\x02cboilercut.packed_vocabulary\nunpack_vocabulary\nN}X\x01\x00\x00\x00xK\x01s\x86b.")
    assert "refuses to set the attributes of 'boilercut.packed_vocabulary.unpack_vocabulary'" in refusal(model_path)


@pytest.mark.parametrize("array", [
    np.arange(12, dtype=np.float64).reshape(3, 4), np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    np.arange(5, dtype=">i4"), np.array(3.5), np.zeros((0, 7), dtype=np.float32), np.array([True, False]),
    np.arange(7, dtype=np.int8),
], ids=["c-order", "f-order", "big-endian", "0-d", "empty", "bool", "int8"])
def test_arrays_read_without_joblib_are_those_joblib_reads(array, tmp_path):
    path = tmp_path / "a.joblib"
    joblib.dump({"before": "x", "array": array, "after": np.arange(3)}, path, compress=3)
    expected, got = joblib.load(path), load_stored(path.read_bytes())
    for key in ("array", "after"):
        assert got[key].dtype == expected[key].dtype and got[key].shape == expected[key].shape
        assert np.array_equal(got[key], expected[key]) and got[key].flags.writeable
        assert got[key].flags.f_contiguous == expected[key].flags.f_contiguous
    assert got["before"] == "x"


def test_predict_imports_neither_joblib_nor_scipy_sparse(model_path, tmp_path):  # noqa: F811
    page = tmp_path / "page.txt"
    page.write_text(TINY_PAGE)
    code = ("import sys\n"
            "from boilercut.predict import main\n"
            f"main(['--model', {str(model_path)!r}, {str(page)!r}])\n"
            "print(sorted(m for m in ('joblib', 'scipy.sparse', 'sklearn', 'pandas') if m in sys.modules), file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"
    assert out.stdout.strip()


def test_scipy_sparse_uses_the_routines_loaded_without_it():
    code = ("from boilercut.sparsetools import sparsetools\n"
            "routines = sparsetools()\n"
            "import scipy.sparse, numpy\n"
            "from scipy.sparse import _sparsetools\n"
            "assert routines is _sparsetools\n"
            "m = scipy.sparse.csr_matrix(numpy.array([[1.0, 0.0], [2.0, 3.0]]))\n"
            "print((m @ numpy.array([1.0, 1.0])).tolist())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "[1.0, 5.0]"
