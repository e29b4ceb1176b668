import numpy as np
import pytest

from boilercut.metrics import choose_threshold, class_metrics, keep_metrics, removal_at_loss, threshold_curve

# Four lines: content(10 words) kept, content(2) dropped, boiler(5) kept, boiler(3) dropped, one null.
GOLD = [True, True, False, False, None]
PRED = [True, False, True, False, False]
WORDS = [10, 2, 5, 3, 100]


def test_keep_metrics_by_hand():
    m = keep_metrics(GOLD, PRED, WORDS)
    assert m["lines"] == 4
    assert m["line_precision"] == pytest.approx(1 / 2)
    assert m["line_recall"] == pytest.approx(1 / 2)
    assert m["word_precision"] == pytest.approx(10 / 15)
    assert m["word_recall"] == pytest.approx(10 / 12)
    assert m["word_f1"] == pytest.approx(2 * (10 / 15) * (10 / 12) / ((10 / 15) + (10 / 12)))
    assert m["boilerplate_words_removed"] == pytest.approx(3 / 8)
    assert m["content_words_lost"] == pytest.approx(2 / 12)


def test_threshold_curve_and_choice():
    scores = [0.9, 0.4, 0.6, 0.1, 0.0]
    t, lost, removed = threshold_curve(GOLD, scores, WORDS)
    # thresholds 0.1, 0.4, 0.6, 0.9, inf: drop lines scoring below each
    assert list(t[:4]) == [0.1, 0.4, 0.6, 0.9]
    assert list(np.round(lost, 4)) == [0, 0, round(2 / 12, 4), round(2 / 12, 4), 1]
    assert list(np.round(removed, 4)) == [0, round(3 / 8, 4), round(3 / 8, 4), 1, 1]
    # With no loss allowed, the best is dropping below 0.4: the midpoint of 0.1 and 0.4.
    assert choose_threshold(GOLD, scores, WORDS, 0.0) == pytest.approx(0.25)
    assert removal_at_loss(GOLD, scores, WORDS, 0.0) == pytest.approx(3 / 8)
    assert removal_at_loss(GOLD, scores, WORDS, 0.2) == pytest.approx(1.0)


def test_choose_threshold_rejects_bad_budget():
    with pytest.raises(ValueError, match="max_content_loss"):
        choose_threshold(GOLD, [0.5] * 5, WORDS, 1.5)
    with pytest.raises(ValueError, match="objective"):
        choose_threshold(GOLD, [0.5] * 5, WORDS, 0.1, objective="accuracy")


def test_f1_objective_stops_where_removing_more_costs_more_content_than_it_gains():
    gold, words, scores = [True, False, True, False], [10, 1, 1, 10], [0.9, 0.8, 0.3, 0.2]
    # Dropping the 0.8 line too removes 1 more boilerplate word but loses a content word:
    # "removal" takes it (within the 10% budget), "f1" does not (F1 22/23 against 20/21).
    assert choose_threshold(gold, scores, words, 0.1, objective="removal") == pytest.approx(0.85)
    assert choose_threshold(gold, scores, words, 0.1, objective="f1") == pytest.approx(0.25)
    # The loss budget binds "f1" too: its best here (0.85, F1 20/21) loses 1 of 11 content words.
    swapped = [0.9, 0.8, 0.2, 0.3]
    assert choose_threshold(gold, swapped, words, 0.1, objective="f1") == pytest.approx(0.85)
    assert choose_threshold(gold, swapped, words, 0.0, objective="f1") == pytest.approx(0.2)


def test_class_metrics_by_hand():
    gold = ["content", "nav", "nav", "footer", None]
    pred = ["content", "nav", "footer", "footer", "nav"]
    m = class_metrics(gold, pred, ["content", "nav", "clickbait", "footer"])
    assert m["per_class"]["nav"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert m["per_class"]["footer"]["precision"] == 0.5
    # clickbait has no gold lines: left out of the macro average
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert m["confusion"][1] == [0, 1, 0, 1]
