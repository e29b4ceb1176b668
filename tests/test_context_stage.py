"""The context stage: its features, out-of-fold training, and model files with and without it."""
import json

import joblib
import numpy as np
import pytest

from boilercut import load_model, score_lines
from boilercut.context_stage import ContextStage
from boilercut.persist import metadata_path, save_model, sha256_file
from boilercut.training import _fold_proba, fit_line_model
from conftest import TINY_CLASSIFIER, TINY_FEATURES, TINY_PAGE, tiny_records


def test_features_never_cross_a_page_boundary():
    stage = ContextStage(shift=2, radii=(1, 3), neighbour_power=3)
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    page = np.array([0, 0, 0, 1])  # the last line is alone on its page
    feats = stage.features(proba, page)
    assert feats.shape == (4, 2 * (2 + 2 * 2 + 2))
    own, neighbours = feats[:, :4], feats[:, 4:]
    assert np.allclose(own[:, :2], proba) and np.allclose(own[:, 2:], np.log(proba))
    assert not neighbours[3].any()  # nothing of page 0 leaks into page 1
    # Line 0's neighbour one below (offset +1, the third shift block), cubed.
    assert np.allclose(neighbours[0, 4:6], proba[1] ** 3)


def test_only_confident_neighbours_count():
    """A run of unsure lines gives the line little push; a run of confident ones a lot."""
    stage = ContextStage(shift=1, radii=(1,), neighbour_power=3)
    unsure = stage.features(np.full((3, 2), 0.5), np.zeros(3, dtype=int))
    sure = stage.features(np.array([[0.95, 0.05], [0.5, 0.5], [0.95, 0.05]]), np.zeros(3, dtype=int))
    assert sure[1, 4] > 6 * unsure[1, 4]


@pytest.mark.parametrize("settings, message", [
    ({"folds": 1}, "folds must be 0 .off. or 2..24"),
    ({"folds": 25}, "folds must be 0 .off. or 2..24"),
    ({"folds": 2, "C": 0}, "context_stage.C must be > 0"),
    ({"folds": 2, "radii": [0]}, "radii >= 1"),
    ({"folds": 2, "neighbour_power": 0.5}, "neighbour_power must be >= 1"),
])
def test_bad_settings_fail_before_fitting(settings, message):
    with pytest.raises(ValueError, match=message):
        fit_line_model(tiny_records(), TINY_FEATURES, TINY_CLASSIFIER, context_stage=settings)


def test_folds_zero_means_no_context_stage():
    pipeline, stage = fit_line_model(tiny_records(), TINY_FEATURES, TINY_CLASSIFIER, context_stage={"folds": 0})
    assert stage is None and list(pipeline.classes_) == ["clickbait", "content", "footer", "nav"]


def test_out_of_fold_fits_are_the_same_in_one_or_two_processes():
    settings = {"folds": 2, "shift": 1, "radii": [2], "C": 1.0}
    _, one = fit_line_model(tiny_records(), TINY_FEATURES, TINY_CLASSIFIER, context_stage=settings, n_jobs=1)
    _, two = fit_line_model(tiny_records(), TINY_FEATURES, TINY_CLASSIFIER, context_stage=settings, n_jobs=2)
    assert np.array_equal(one.classifier_.coef_, two.classifier_.coef_)


def test_a_class_missing_from_a_fold_gets_probability_zero():
    records = tiny_records()
    without_footer = [dict(r, labels=[None if lab == "footer" else lab for lab in r["labels"]]) for r in records]
    classes = ["clickbait", "content", "footer", "nav"]
    proba = _fold_proba(without_footer[:12], records[12:], TINY_FEATURES, TINY_CLASSIFIER, "none", classes)
    assert proba.shape == (sum(len(r["lines"]) for r in records[12:]), 4)
    assert not proba[:, 2].any() and np.allclose(proba.sum(axis=1), 1)


def test_the_context_stage_changes_scores(tiny_model):
    lines = TINY_PAGE.split("\n")
    alone = score_lines(lines, model=type(tiny_model)(tiny_model.pipeline))
    assert score_lines(lines, model=tiny_model) != alone


def test_a_format_2_model_file_loads_without_a_context_stage(tiny_model, tmp_path):
    """Format 2 files hold the bare Pipeline, with the features of today's code."""
    path = save_model(tiny_model, tmp_path / "m.joblib")
    joblib.dump(tiny_model.pipeline, path)
    meta = json.loads(metadata_path(path).read_text())
    meta.update(format_version=2, model_sha256=sha256_file(path))
    metadata_path(path).write_text(json.dumps(meta))
    loaded = load_model(path)
    assert loaded.context_stage is None
    lines = TINY_PAGE.split("\n")
    assert score_lines(lines, model=loaded) == score_lines(lines, model=type(tiny_model)(tiny_model.pipeline))


def test_a_model_file_holding_something_else_is_refused(tiny_model, tmp_path):
    from boilercut.persist import ModelFileError

    path = save_model(tiny_model, tmp_path / "m.joblib")
    joblib.dump({"pipeline": tiny_model.pipeline, "context_stage": "not a stage"}, path)
    meta = json.loads(metadata_path(path).read_text())
    meta.update(model_sha256=sha256_file(path))
    metadata_path(path).write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="context_stage is a str, not a ContextStage"):
        load_model(path)


def test_folds_keep_a_site_s_pages_together_and_balance_lines():
    from boilercut.training import fold_members

    records = [{"id": f"p{i}", "site": f"s{i % 4}" if i < 12 else None, "lines": ["x"] * (1 + i % 3)}
               for i in range(20)]
    members = fold_members(records, 3)
    assert sorted(i for m in members for i in m) == list(range(20))
    fold_of = {i: k for k, m in enumerate(members) for i in m}
    for site in range(4):
        assert len({fold_of[i] for i in range(12) if i % 4 == site}) == 1
    lines = [sum(len(records[i]["lines"]) for i in m) for m in members]
    assert max(lines) - min(lines) <= 8  # a site group holds 6 to 9 lines
    two_sites = [dict(r, site="a" if i % 2 else "b") for i, r in enumerate(records[:6])]
    with pytest.raises(ValueError, match="only 2 groups"):
        fold_members(two_sites, 3)
