"""Named keep thresholds, the page-style detector, and the per-page "auto" point."""
import numpy as np
import pytest

from boilercut import filter_page, load_model
from boilercut.operating_points import OperatingPoints
from boilercut.page_style import PageStyle
from boilercut.persist import save_model

RAW_PAGE = ["Home", "News", "Sport", "Weather", "Login", "Search", "Menu", "Contact us",
            "A short sentence about the council meeting on Tuesday.", "Related", "Privacy", "Terms"]
EXTRACTED_PAGE = ["The council met on Tuesday to discuss the new bus routes through the old town.",
                  "Residents said the changes would make it easier to reach the hospital without a car.",
                  "A spokesperson said the first buses would run in the spring, weather permitting."]


RAW_SCORES = [0.1] * 8 + [0.9, 0.2, 0.1, 0.1]   # a model's keep scores: mostly boilerplate
EXTRACTED_SCORES = [0.9, 0.8, 0.95]
PAGES, SCORES = [RAW_PAGE, EXTRACTED_PAGE], [RAW_SCORES, EXTRACTED_SCORES]


def detector():
    raw = [RAW_PAGE[i:] + RAW_PAGE[:i] for i in range(6)]
    raw_scores = [RAW_SCORES[i:] + RAW_SCORES[:i] for i in range(6)]
    extracted = [EXTRACTED_PAGE[i:] + EXTRACTED_PAGE[:i] for i in range(3)] + [EXTRACTED_PAGE * 2]
    extracted_scores = [EXTRACTED_SCORES[i:] + EXTRACTED_SCORES[:i] for i in range(3)] + [EXTRACTED_SCORES * 2]
    return PageStyle.fit(raw + extracted, raw_scores + extracted_scores,
                         ["raw"] * len(raw) + ["extracted"] * len(extracted))


def test_page_style_tells_menus_from_prose_and_round_trips_through_json():
    style = detector()
    assert list(style.is_extracted(PAGES, SCORES)) == [False, True]
    again = PageStyle.from_dict(style.to_dict())
    assert np.array_equal(again.extracted_probability(PAGES, SCORES), style.extracted_probability(PAGES, SCORES))
    with pytest.raises(ValueError, match="both styles"):
        PageStyle.fit([RAW_PAGE], [RAW_SCORES], ["raw"])


def test_points_by_name_and_auto_by_page_style():
    points = OperatingPoints({"conservative": 0.1, "balanced": 0.4, "aggressive": 0.6}, default="auto",
                             auto={"raw": "balanced", "extracted": "conservative"}, page_style=detector())
    assert list(points.page_thresholds(PAGES, SCORES)) == [0.4, 0.1]
    assert list(points.page_thresholds(PAGES, SCORES, "aggressive")) == [0.6, 0.6]
    with pytest.raises(ValueError, match="unknown operating point 'gentle'"):
        points.page_thresholds(PAGES, SCORES, "gentle")
    again = OperatingPoints.from_dict(points.to_dict())
    assert list(again.page_thresholds(PAGES, SCORES)) == [0.4, 0.1]


def test_auto_without_a_detector_or_a_bad_threshold_is_refused():
    with pytest.raises(ValueError, match="auto point needs a page-style detector"):
        OperatingPoints({"balanced": 0.4}, default="auto", auto={"raw": "balanced", "extracted": "balanced"})
    with pytest.raises(ValueError, match="threshold 1.5 is not between 0 and 1"):
        OperatingPoints({"balanced": 1.5})


def test_points_are_saved_with_the_model_and_drive_filter_page(tiny_model, tmp_path):
    from dataclasses import replace

    model = replace(tiny_model, points=OperatingPoints({"balanced": 0.5, "keep_all": 0.0, "drop_all": 1.0},
                                                       default="keep_all"))
    path = save_model(model, tmp_path / "m.joblib")
    loaded = load_model(path)
    page = "\n".join(RAW_PAGE)
    assert filter_page(page, model=loaded) == page                       # default point: keep_all
    assert filter_page(page, model=loaded, keep="drop_all") == ""
    assert filter_page(page, model=loaded, keep="drop_all", threshold=0.0) == page  # a threshold wins
    with pytest.raises(ValueError, match="unknown operating point"):
        filter_page(page, model=loaded, keep="nope")


def test_a_model_without_points_has_only_balanced(tiny_model):
    assert tiny_model.points is None
    assert list(tiny_model.page_thresholds([RAW_PAGE], [RAW_SCORES])) == [tiny_model.threshold]
    with pytest.raises(ValueError, match="only 'balanced'"):
        tiny_model.page_thresholds([RAW_PAGE], [RAW_SCORES], "conservative")


def test_page_features_are_per_page_whether_batched_or_given_word_counts():
    from boilercut.lines import count_words
    from boilercut.page_style import page_features

    pages = [RAW_PAGE, [], EXTRACTED_PAGE, ["东京的天气 今天很好。", "- 一个列表项"]]
    scores = [RAW_SCORES, [], EXTRACTED_SCORES, [0.9, 0.2]]
    batched = page_features(pages, scores)
    alone = np.vstack([page_features([p], [s]) for p, s in zip(pages, scores)])
    assert np.allclose(batched, alone) and not batched[1].any()
    words = [[count_words(line) for line in p] for p in pages]
    assert np.array_equal(page_features(pages, scores, words), batched)
    assert batched[2][2] == 1.0 and batched[0][0] > 0.5  # sentence ends; short menu lines
