"""The public API on a tiny model: classify_lines, score_lines, filter_page, save/load."""
import json

import pytest

from boilercut import classify_lines, filter_page, load_model, score_lines
from boilercut.persist import ModelFileError, metadata_path, save_model
from conftest import TINY_PAGE as PAGE



def test_labels_and_scores_one_per_line(tiny_model):
    lines = PAGE.split("\n")
    labels = classify_lines(lines, model=tiny_model)
    scores = score_lines(lines, model=tiny_model)
    assert len(labels) == len(scores) == len(lines)
    assert labels[0] == "nav" and labels[2] == "content" and labels[-2] == "footer"
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[2] > 0.5 > scores[0]


def test_filter_page_keeps_content_lines_in_order(tiny_model):
    kept = filter_page(PAGE, model=tiny_model)
    assert kept.split("\n") == PAGE.split("\n")[2:4]


def test_filter_page_threshold_extremes(tiny_model):
    assert filter_page(PAGE, model=tiny_model, threshold=0.0) == PAGE
    with pytest.raises(ValueError, match="threshold must be between 0 and 1"):
        filter_page(PAGE, model=tiny_model, threshold=1.5)


def test_empty_inputs(tiny_model):
    assert filter_page("", model=tiny_model) == ""
    assert classify_lines([], model=tiny_model) == []
    assert score_lines([], model=tiny_model) == []


def test_wrong_types_are_refused(tiny_model):
    with pytest.raises(TypeError, match="got a str"):
        classify_lines("one line", model=tiny_model)
    with pytest.raises(TypeError, match="line 2 is int"):
        score_lines(["a", 3], model=tiny_model)


def test_save_load_round_trip(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m.joblib")
    meta = json.loads(metadata_path(path).read_text())
    assert meta["labels"] == tiny_model.labels and len(meta["model_sha256"]) == 64
    loaded = load_model(path)
    assert loaded.threshold == tiny_model.threshold
    assert score_lines(PAGE.split("\n"), model=loaded) == score_lines(PAGE.split("\n"), model=tiny_model)


def test_corrupted_model_is_refused(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m.joblib")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="SHA-256 does not match"):
        load_model(path)


def test_missing_model_says_how_to_train(tmp_path):
    with pytest.raises(ModelFileError, match="python -m train"):
        load_model(tmp_path / "none.joblib")


@pytest.mark.parametrize("context_stage", [None, {"folds": 2, "shift": 2, "radii": [3]}])
def test_chunked_scoring_equals_whole_page_scoring(context_stage):
    from boilercut.model import LineModel
    from boilercut.training import fit_line_model
    from conftest import TINY_CLASSIFIER, TINY_FEATURES, tiny_records

    pipeline, stage = fit_line_model(tiny_records(), {**TINY_FEATURES, "position": False}, TINY_CLASSIFIER,
                                     context_stage=context_stage)
    model = LineModel(pipeline, context_stage=stage)
    assert model.context_reach() == 2 + (3 if context_stage else 0)
    pages = [r["lines"] for r in tiny_records(12, seed=3)]
    long_page = [line for page in pages for line in page]
    batch = [long_page, pages[0], long_page[:7]]
    whole = model.score(batch, chunk_lines=10**6).proba
    for chunk in (2 * model.context_reach() + 1, 25, 100):  # windows smaller than a page, and batches of several pages
        assert abs(model.score(batch, chunk_lines=chunk).proba - whole).max() < 1e-12
