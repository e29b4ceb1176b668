"""The scoreboard's figures: per-set metrics, bootstrap intervals over sites, examples."""
import numpy as np
import pytest

from boilercut.metrics import keep_metrics
from boilercut.scoreboard import ScoredSet, example_checks, paired_bootstrap, site_of


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


def test_paired_bootstrap_reads_the_difference_on_the_same_resamples():
    gold = np.array([g == "content" for r in RECORDS for g in r["labels"]], dtype=float)
    rng = np.random.default_rng(1)
    noisy = rng.random(10)
    before = ScoredSet(RECORDS, noisy, ["content"])
    # The same model against itself: no difference in any resample.
    same = paired_bootstrap((before, noisy >= 0.5), (before, noisy >= 0.5), rounds=100)
    assert same["word_f1"]["ci"] == [0.0, 0.0] and same["word_f1"]["share_not_worse"] == 1.0
    # A model that keeps exactly the content lines is never worse than a noisy one, and its
    # gain on the whole set lies inside its interval.
    perfect_scores = np.where(gold == 1, 0.9, 0.1)
    after = ScoredSet(RECORDS, perfect_scores, ["content"])
    diff = paired_bootstrap((before, noisy >= 0.5), (after, perfect_scores >= 0.5), rounds=300)
    gain = after.metrics(perfect_scores >= 0.5)["word_f1"] - before.metrics(noisy >= 0.5)["word_f1"]
    assert diff["word_f1"]["share_not_worse"] == 1.0 and diff["removed_at_1pct"]["share_not_worse"] == 1.0
    assert diff["word_f1"]["ci"][0] <= gain <= diff["word_f1"]["ci"][1] and diff["word_f1"]["ci"][1] > 0
    with pytest.raises(ValueError, match="different records"):
        paired_bootstrap((before, noisy >= 0.5), (ScoredSet(RECORDS[:2], noisy[:5], ["content"]), noisy[:5] >= 0.5))


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
