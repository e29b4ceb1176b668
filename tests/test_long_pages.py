"""A page longer than a scoring chunk is scored in windows, with the same scores as whole.

The windows carry the features' context reach on each side, which covers what a line's
neighbours contribute; what the page as a whole contributes (the line recurs elsewhere
on the page, its position in the page) must come from the whole page, not the window.
The tiny corpus of conftest has no page with a repeated line, so a model fitted on it
gives the duplicate feature no weight: these tests fit one on pages whose menu comes
back at the bottom, as on real pages.
"""
import random

import numpy as np
import pytest
from conftest import TINY_CLASSIFIER, TINY_FEATURES, make_page

from boilercut.model import LineModel
from boilercut.training import fit_line_model

STAGE = {"folds": 2, "shift": 1, "radii": [2], "C": 1.0}


def pages_with_repeated_menus(n: int, seed: int) -> list[dict]:
    """Tiny-corpus pages; every other one repeats its menu and first teaser at the bottom."""
    rng = random.Random(seed)
    pages = []
    for i in range(n):
        page = make_page(i, rng)
        if i % 2:
            page["lines"] += [page["lines"][0], page["lines"][8]]
            page["labels"] += ["nav", "clickbait"]
        pages.append(page)
    return pages


@pytest.fixture(scope="module", params=[False, True], ids=["default-features", "with-position"])
def model(request) -> LineModel:
    features = {**TINY_FEATURES, "position": request.param}
    pipeline, stage = fit_line_model(pages_with_repeated_menus(24, seed=0), features, TINY_CLASSIFIER,
                                     context_stage=STAGE)
    return LineModel(pipeline, context_stage=stage)


def long_page(n_pages: int = 30) -> list[str]:
    """One long page whose lines recur far apart: the menus and teasers of many pages."""
    return [line for page in pages_with_repeated_menus(n_pages, seed=3) for line in page["lines"]]


def test_the_model_reads_the_duplicate_feature(model):
    """Guards the other test: a model that ignored the feature could not tell chunked from whole."""
    page = long_page()
    alone = model.score([page[:14]]).proba  # one page of the long one: no line recurs
    within = model.score([page]).proba[:14]
    assert abs(alone - within).max() > 0.01


@pytest.mark.parametrize("chunk", [15, 40, 100])
def test_a_page_scored_in_windows_scores_as_the_whole_page(model, chunk):
    page = long_page()
    assert len(page) > 3 * chunk
    batch = [page, page[:9], page[20:31]]  # windows, then short pages batched with the last one
    whole = model.score(batch, chunk_lines=10**6).proba
    windowed = model.score(batch, chunk_lines=chunk).proba
    # Equal up to the rounding of running sums over differently sized tables (~1e-16).
    assert abs(windowed - whole).max() < 1e-12


def test_keep_decisions_of_a_long_page_do_not_depend_on_the_window(model):
    page = long_page()
    whole = model.score([page], chunk_lines=10**6)
    windowed = model.score([page], chunk_lines=40)
    assert np.array_equal(whole.labels, windowed.labels)
    assert np.array_equal(whole.keep >= 0.5, windowed.keep >= 0.5)
