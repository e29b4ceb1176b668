"""The scoreboard's figures: per-set metrics, bootstrap intervals over sites, examples."""
import numpy as np
import pytest

from boilercut.metrics import keep_metrics
from boilercut.scoreboard import ScoredSet, example_checks, site_of


def page(i, site, labels):
    return {"id": f"p{i}", "site": site, "lines": [f"word {k} " * (k + 1) for k in range(len(labels))],
            "labels": labels}


RECORDS = [page(0, "a", ["content", "nav", None]), page(1, "a", ["content", "footer"]),
           page(2, "b", ["clickbait", "content", "content"]), page(3, "c", ["nav", "content"])]


def test_metrics_are_keep_metrics_of_the_known_lines():
    scores = np.array([0.9, 0.2, 0.5, 0.8, 0.6, 0.1, 0.7, 0.3, 0.4, 0.95])
    s = ScoredSet(RECORDS, scores, ["content"])
    keep = scores >= 0.5
    m = s.metrics(keep)
    gold = [None if g is None else g == "content" for r in RECORDS for g in r["labels"]]
    expected = keep_metrics(gold, keep, s.words)
    assert m["word_f1"] == expected["word_f1"] and m["lines"] == 9
    assert m["keep_all_f1"] < 1.0 and s.n_sites == 3


def test_bootstrap_interval_brackets_the_figure_and_collapses_for_one_site():
    rng = np.random.default_rng(0)
    scores = rng.random(10)
    s = ScoredSet(RECORDS, scores, ["content"])
    keep = scores >= 0.5
    lo, hi = s.bootstrap(keep, rounds=300)["word_f1_ci"]
    assert lo <= s.metrics(keep)["word_f1"] <= hi and lo < hi
    one_site = ScoredSet([dict(r, site="same") for r in RECORDS], scores, ["content"])
    lo, hi = one_site.bootstrap(keep, rounds=50)["word_f1_ci"]
    assert lo == pytest.approx(hi) and hi == pytest.approx(one_site.metrics(keep)["word_f1"])


def test_site_falls_back_to_the_url_host_then_the_id():
    assert site_of({"id": "x", "url": "https://news.example.org/a/b"}) == "news.example.org"
    assert site_of({"id": "x"}) == "x"


def test_examples_are_skipped_when_absent_and_judged_when_present(tmp_path):
    assert example_checks(tmp_path, lambda lines: np.ones(len(lines), bool)) == {}
    (tmp_path / "news-article.txt").write_text("First paragraph here.\nWatch: a promo\nLast one.\n",
                                               encoding="utf-8")
    keep_all = example_checks(tmp_path, lambda lines: np.ones(len(lines), bool))["news"]
    assert not keep_all["pass"] and keep_all["boilerplate_kept"] == [2]
    right = example_checks(tmp_path, lambda lines: np.array([True, False, True]))["news"]
    assert right["pass"] and right["content_dropped"] == []


def test_best_f1_is_the_best_single_threshold_and_never_below_keep_all():
    scores = np.array([0.9, 0.2, 0.5, 0.8, 0.6, 0.1, 0.7, 0.3, 0.4, 0.95])
    s = ScoredSet(RECORDS, scores, ["content"])
    m = s.metrics(scores >= 0.5)
    gold = [None if g is None else g == "content" for r in RECORDS for g in r["labels"]]
    by_threshold = [keep_metrics(gold, scores >= t, s.words)["word_f1"] for t in np.r_[scores, 0.0, 1.1]]
    assert m["best_f1"] == pytest.approx(max(by_threshold))
    assert m["best_f1"] >= m["keep_all_f1"]
    assert keep_metrics(gold, scores >= m["best_f1_threshold"], s.words)["word_f1"] == pytest.approx(m["best_f1"])
