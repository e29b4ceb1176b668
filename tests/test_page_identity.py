"""A page scores the same, to the last bit, alone (the line API: score_lines, classify_lines,
filter_page) and among other pages (model.score, clean_batch, the corpus path's batches).

Running sums over a whole batch and BLAS kernels chosen by the size of a block once made
the two differ by up to 1e-13 (page_rows.py); these tests compare with max difference 0.0.
"""
import numpy as np
import pytest
from conftest import TINY_CLASSIFIER, TINY_FEATURES, tiny_records
from test_fast_scoring import COUNTERS, TRICKY

from boilercut import classify_lines, filter_page, filter_pages, score_lines
from boilercut.batch import clean_batch
from boilercut.model import LineModel
from boilercut.training import fit_line_model

# The default model's feature settings (conf/features/default.yaml) at a tiny scale: word
# bigrams of the line and its neighbours, char 3- and 4-grams, clipped shape features of
# the lines up to 3 away and their mean over +-6, a context stage reaching 6 lines.
DEFAULT_LIKE = {**TINY_FEATURES, "word_ngram_max": 2, "char_ngram_min": 3, "char_ngram_max": 4,
                "context_window": 3, "smooth": 6, "shape_weight": 0.5, "shape_clip": 5.0, "position": False}
DEFAULT_STAGE = {"folds": 2, "shift": 3, "radii": [2, 6], "C": 0.03}


def _binary(records: list[dict]) -> list[dict]:
    return [{**r, "labels": [None if x is None else ("content" if x == "content" else "boilerplate")
                             for x in r["labels"]]} for r in records]


@pytest.fixture(scope="module", params=["tiny", "default-like", "two-classes"])
def model(request, tiny_model) -> LineModel:
    if request.param == "tiny":
        return tiny_model
    records = tiny_records() if request.param == "default-like" else _binary(tiny_records())
    pipeline, stage = fit_line_model(records, DEFAULT_LIKE, TINY_CLASSIFIER, context_stage=DEFAULT_STAGE)
    return LineModel(pipeline=pipeline, keep_labels=("content",), context_stage=stage, long_line_words=40)


def varied_pages() -> list[list[str]]:
    """About 400 lines: pages of the tiny corpus (other seeds than the training pages), pages
    of odd lines, one-line pages (a product of one row goes through other BLAS kernels),
    a page that repeats its lines, and a page with a long line (the long-line guard)."""
    pages = [r["lines"] for r in tiny_records(18, seed=11)]
    pages[3:3] = [TRICKY, ["alone"], COUNTERS, ["Home | News | Sport"], ["", " "]]
    pages.append(pages[0] + pages[0][:5])
    pages.append(["A headline", "word " * 60, "Share this"])
    pages.append(["One more"])
    return pages


def odd_pages() -> list[list[str]]:
    """Pages that take the other branches of the per-page fast paths (sparse_entries,
    fast_tfidf._normalised_codes, page_lines._clip_lines, the context stage in place): only
    empty lines, CJK only, the lowering exceptions (final sigma, dotted I), characters above
    U+FFFF, a lone surrogate (clipped to U+FFFD), lines longer than the features read (their
    words counted again), and a page of many lines and n-grams."""
    sentences = [line for r in tiny_records(30, seed=21) for line in r["lines"]]
    return [["", "", ""], [""], ["日本語のテキスト", "中文字符 한국어 テキスト", "网站首页 新闻"],
            ["ΟΔΟΣ ΚΑΙ ΣΟΦΙΑΣ", "İstanbul İ", "Home > News"], ["emoji 😀 ok 😀😀", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 words"],
            ["bad \udcff byte", "Home | News", "A line of text."],
            ["Home", "A story " + "word " * 2000, "x" * 9000, "Footer © 2024"],
            sentences, ["one line alone, long enough to have bigrams and n-grams of every size"]]


def test_probabilities_of_a_page_alone_are_those_of_the_batch(model):
    pages = varied_pages()
    assert sum(map(len, pages)) >= 300
    alone = np.concatenate([model.score([page]).proba for page in pages])
    together = model.score(pages).proba
    in_chunks = model.score(pages, chunk_lines=40).proba  # several tables, long pages in windows
    assert np.abs(alone - together).max() == 0.0
    assert np.abs(alone - in_chunks).max() == 0.0


def test_the_line_api_per_page_gives_the_batched_results(model):
    pages = varied_pages()
    scored = model.score(pages)
    scores, labels = scored.by_page(scored.keep), [list(part) for part in scored.by_page(scored.labels)]
    cleaned = clean_batch(model, ["\n".join(page) for page in pages])
    for page, page_scores, page_labels, done in zip(pages, scores, labels, cleaned):
        assert score_lines(page, model) == page_scores.tolist()
        assert classify_lines(page, model) == page_labels
        assert filter_page("\n".join(page), model) == done.text


def test_odd_pages_score_alone_as_in_the_batch(model):
    pages = odd_pages()
    texts = ["\n".join(page) for page in pages]
    scored = model.score(pages)
    alone = np.concatenate([model.score([page]).proba for page in pages])
    assert np.abs(alone - scored.proba).max() == 0.0
    for page, page_scores, page_labels in zip(pages, scored.by_page(scored.keep), scored.by_page(scored.labels)):
        assert score_lines(page, model) == page_scores.tolist()
        assert classify_lines(page, model) == list(page_labels)
    assert filter_pages(texts, model) == [filter_page(text, model) for text in texts]
