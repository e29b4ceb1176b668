"""The long-line guard: lines of long_line_words words or more are kept whatever their score."""
import dataclasses
import json

import numpy as np
import pytest

from boilercut import load_model
from boilercut.model import check_long_line_words
from boilercut.persist import ModelFileError, metadata_path, save_model
from conftest import TINY_PAGE

LINES = TINY_PAGE.split("\n")
# A long line built from the page's own boilerplate, so the classifiers read it as boilerplate.
MENU = " | ".join(["Home", "News", "Sport", "Contact", "Login"] * 12)  # 60 items, 119 words


def guarded(model, words):
    return dataclasses.replace(model, long_line_words=words)


def test_a_long_boilerplate_line_is_kept_only_with_the_guard(tiny_model):
    page = [LINES[0], MENU, *LINES[1:]]
    plain = tiny_model.score([page]).keep
    assert plain[1] < 0.5, "the test needs a long line the classifiers drop"
    kept = guarded(tiny_model, 100).score([page]).keep
    assert kept[1] == pytest.approx(1.0)
    assert guarded(tiny_model, 100).score([page]).labels[1] == "content"
    # Every other line, and a guard longer than the line, leave the scores as they were.
    np.testing.assert_array_equal(np.delete(kept, 1), np.delete(plain, 1))
    np.testing.assert_array_equal(guarded(tiny_model, 120).score([page]).keep, plain)


def test_probabilities_still_sum_to_one(tiny_model):
    proba = guarded(tiny_model, 100).score([[MENU, *LINES]]).proba
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_cjk_characters_count_as_words(tiny_model):
    line = "网站首页新闻体育联系我们" * 10  # 120 characters, 120 words, no spaces
    assert guarded(tiny_model, 100).score([[line, *LINES]]).keep[0] == pytest.approx(1.0)


def test_the_guard_is_saved_with_the_model(tiny_model, tmp_path):
    path = save_model(guarded(tiny_model, 150), tmp_path / "m.joblib")
    assert load_model(path).long_line_words == 150
    path = save_model(guarded(tiny_model, None), tmp_path / "off.joblib")
    assert load_model(path).long_line_words is None


@pytest.mark.parametrize("value", [0, -5, 2.5, True, "200"])
def test_bad_guard_values_are_refused(value, tiny_model, tmp_path):
    with pytest.raises(ValueError, match="long_line_words"):
        check_long_line_words(value)
    path = save_model(tiny_model, tmp_path / "m.joblib")
    meta_file = metadata_path(path)
    meta_file.write_text(json.dumps({**json.loads(meta_file.read_text()), "long_line_words": value}))
    with pytest.raises(ModelFileError, match="long_line_words"):
        load_model(path)


def test_word_counts_that_come_with_the_scores_are_count_words(tiny_model):
    """model.score reuses the shape features' word counts; a line clipped for the
    features (over MAX_FEATURE_CHARS) is counted again in full."""
    from boilercut.features import MAX_FEATURE_CHARS
    from boilercut.lines import count_words

    clipped = " ".join(["word"] * (MAX_FEATURE_CHARS // 2))  # 2,000 words; its head and tail have fewer
    pages = [[*LINES, clipped, "网站首页 新闻", "bad \udce9 byte  ", ""], LINES[:2]]
    scored = tiny_model.score(pages)
    for page, page_scores, page_words in zip(pages, scored.by_page(scored.keep), scored.by_page(scored.words)):
        assert list(page_words) == [count_words(line) for line in page]
        np.testing.assert_allclose(page_scores, tiny_model.score([page]).keep, rtol=1e-12, atol=1e-15)


def test_word_counts_without_the_fast_scorer(tiny_model):
    """A pipeline the LinearScorer does not take (scored by scikit-learn) still gets counts."""
    from boilercut.lines import count_words

    model = dataclasses.replace(tiny_model)
    model._scorer = None  # as LinearScorer.from_pipeline leaves it for other pipelines
    scored = model.score([LINES])
    assert list(scored.words) == [count_words(line) for line in LINES]
    np.testing.assert_allclose(scored.keep, tiny_model.score([LINES]).keep, atol=1e-9)


def test_only_the_shape_part_gives_word_counts(tiny_model):
    """The scorer takes word counts from the part that provides them (features_and_words:
    the LineShape part), and they are the shape features' counts of the lines."""
    from boilercut.lines import count_words
    from boilercut.page_lines import line_batch
    from boilercut.scorer import LinearScorer

    scorer = LinearScorer.from_pipeline(tiny_model.pipeline)
    shape_parts = [part for part in scorer.parts if part.features_and_words is not None]
    assert len(shape_parts) == 1
    features, words = shape_parts[0].features_and_words(line_batch([LINES]))
    assert list(words) == [count_words(line) for line in LINES]
    np.testing.assert_array_equal(features, shape_parts[0].features(line_batch([LINES])))
