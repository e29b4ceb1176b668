"""Model files: the safe .skops format, and every way a model file is refused at load.
The .skops tests need skops (the `safe` extra); the others run without it."""
import importlib.util
import json
import shutil

import pytest

from boilercut import load_model, score_lines
from boilercut.model import LineModel
from boilercut.persist import ModelFileError, metadata_path, save_model, sha256_file
from conftest import TINY_CLASSIFIER, TINY_FEATURES, TINY_PAGE, tiny_records

needs_skops = pytest.mark.skipif(importlib.util.find_spec("skops") is None,
                                 reason="needs skops: pip install -e .[safe]")
LINES = TINY_PAGE.split("\n")


def forge(path, pipeline) -> None:
    """Replace a saved .skops model with `pipeline` and fix its checksum, as an attacker
    who hands over both files would: only the type check stands in the way."""
    import skops.io as sio

    path.write_bytes(sio.dumps(pipeline))
    meta_file = metadata_path(path)
    meta = json.loads(meta_file.read_text())
    meta["model_sha256"] = sha256_file(path)
    meta_file.write_text(json.dumps(meta))


def edit_metadata(path, **changes) -> None:
    meta_file = metadata_path(path)
    meta = json.loads(meta_file.read_text())
    meta.update(changes)
    meta_file.write_text(json.dumps(meta))


@needs_skops
def test_skops_round_trip_gives_identical_scores(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m.skops")
    assert path.read_bytes()[:2] == b"PK"  # a zip, not a pickle
    loaded = load_model(path)
    assert loaded.context_stage is not None
    assert score_lines(LINES, model=loaded) == score_lines(LINES, model=tiny_model)
    assert loaded.labels == tiny_model.labels and loaded.keep_labels == tiny_model.keep_labels


@needs_skops
def test_trusted_types_cover_a_fitted_pipeline(tiny_model):
    import skops.io as sio

    from boilercut.safe_format import PROJECT_TYPES, TRUSTED_TYPES, schema_types

    from boilercut.persist import stored_form

    assert tiny_model.context_stage is not None
    data = sio.dumps(stored_form(tiny_model))
    assert schema_types(data) <= TRUSTED_TYPES
    # skops trusts scikit-learn's and numpy's types itself; what it does not trust must be
    # on boilercut's own list (this model holds most of it; ClipValues only with shape_clip)
    assert set(sio.get_untrusted_types(data=data)) <= set(PROJECT_TYPES)
    assert "boilercut.features.LineShape" in sio.get_untrusted_types(data=data)


@needs_skops
def test_skops_with_a_foreign_function_is_refused(tiny_model, tmp_path):
    import os

    from sklearn.preprocessing import FunctionTransformer

    path = save_model(tiny_model, tmp_path / "m.skops")
    forge(path, FunctionTransformer(func=os.system))
    with pytest.raises(ModelFileError, match=r"does not trust: .*posix\.system"):
        load_model(path)


@needs_skops
def test_skops_with_an_unlisted_sklearn_type_is_refused(tiny_model, tmp_path):
    """skops itself trusts every scikit-learn estimator; boilercut trusts only its own list."""
    from sklearn.tree import DecisionTreeClassifier

    path = save_model(tiny_model, tmp_path / "m.skops")
    forge(path, DecisionTreeClassifier())
    with pytest.raises(ModelFileError, match="does not trust: sklearn.tree._classes.DecisionTreeClassifier"):
        load_model(path)


@needs_skops
def test_saving_an_unlisted_type_as_skops_is_refused(tmp_path):
    from sklearn.tree import DecisionTreeClassifier

    model = LineModel(pipeline=DecisionTreeClassifier().fit([[0], [1]], ["content", "nav"]))
    with pytest.raises(ModelFileError, match="does not trust"):
        save_model(model, tmp_path / "m.skops")
    assert not (tmp_path / "m.skops").exists()


@needs_skops
def test_skops_file_that_is_not_a_zip_is_refused(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m.skops")
    path.write_bytes(b"not a zip at all")
    edit_metadata(path, model_sha256=sha256_file(path))
    with pytest.raises(ModelFileError, match="not a valid .skops file"):
        load_model(path)


def test_swapped_joblib_file_is_refused(tiny_model, tmp_path):
    """A valid joblib model, just not the one the metadata describes."""
    from boilercut.training import fit_pipeline

    path = save_model(tiny_model, tmp_path / "m.joblib")
    other = fit_pipeline(tiny_records(seed=1), TINY_FEATURES, TINY_CLASSIFIER)
    other_path = save_model(LineModel(pipeline=other), tmp_path / "other" / "m.joblib")
    assert load_model(other_path).labels == tiny_model.labels  # itself a valid model
    shutil.copyfile(other_path, path)
    with pytest.raises(ModelFileError, match="SHA-256 does not match its metadata"):
        load_model(path)


@pytest.mark.parametrize("suffix", [".joblib", pytest.param(".skops", marks=needs_skops)])
def test_truncated_model_is_refused(tiny_model, tmp_path, suffix):
    path = save_model(tiny_model, tmp_path / f"m{suffix}")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelFileError, match="SHA-256 does not match"):
        load_model(path)


def test_missing_metadata_is_refused(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m.joblib")
    metadata_path(path).unlink()
    with pytest.raises(ModelFileError, match=r"m\.joblib\.json: metadata missing; retrain with `python -m train`"):
        load_model(path)


def test_missing_model_says_to_run_train(tmp_path):
    with pytest.raises(ModelFileError, match=r"none\.skops: no model file; train one with `python -m train`"):
        load_model(tmp_path / "none.skops")


@pytest.mark.parametrize("changes, message", [
    ({"keep_labels": ["article"]}, r"keep labels \['article'\] are not among the model labels"),
    ({"keep_labels": []}, "keep labels"),
    ({"labels": ["content"]}, "not a list of two or more distinct names"),
    ({"labels": ["clickbait", "content", "footer", "spam"]}, "differ from metadata"),
    ({"threshold": 1.5}, "threshold 1.5 in the metadata is not between 0 and 1"),
    ({"libraries": {"scikit-learn": "0.24.2"}}, "trained with scikit-learn 0.24.2"),
    ({"libraries": {}}, "does not record the scikit-learn version"),
    ({"format_version": 99}, "model format 99"),
])
def test_incompatible_metadata_is_refused(tiny_model, tmp_path, changes, message):
    path = save_model(tiny_model, tmp_path / "m.joblib")
    edit_metadata(path, **changes)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_metadata_that_is_not_json_is_refused(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m.joblib")
    metadata_path(path).write_text("[1, 2")
    with pytest.raises(ModelFileError, match="metadata is not valid JSON"):
        load_model(path)


def test_model_built_for_other_feature_code_is_refused(tiny_model, tmp_path, monkeypatch):
    """A pickle from before a feature change loads fine; the probe page catches it at load."""
    import numpy as np

    import boilercut.features
    import boilercut.page_lines
    import boilercut.scorer

    path = save_model(tiny_model, tmp_path / "m.joblib")
    shape = boilercut.page_lines.shape_features

    def one_feature_more(batch, position):
        features, words = shape(batch, position)
        return np.hstack([features, np.zeros((len(features), 1))]), words
    # The shape features as the new code would compute them, wherever they are called from
    # (LineShape, and the fast scorer, which calls the function itself).
    for module in (boilercut.page_lines, boilercut.features, boilercut.scorer):
        if hasattr(module, "shape_features"):
            monkeypatch.setattr(module, "shape_features", one_feature_more)
    with pytest.raises(ModelFileError, match="does not work with this boilercut's feature code .*python -m train"):
        load_model(path)


@needs_skops
def test_skops_file_is_compact(tiny_model, tmp_path):
    """Vocabulary entries are saved as JSON ints, not one .npy file each."""
    import zipfile

    path = save_model(tiny_model, tmp_path / "m.skops")
    assert len(zipfile.ZipFile(path).namelist()) < 50
