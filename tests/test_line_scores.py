"""LineModel.score: one pass gives probabilities, keep scores, labels and word counts that
agree with each other, cut by page as the pages were given."""
import numpy as np
from conftest import TINY_PAGE, tiny_records

from boilercut.lines import count_words


def test_one_scoring_call_gives_every_view_of_the_lines(tiny_model):
    pages = [TINY_PAGE.split("\n"), [], ["网站首页 新闻", "  "], *[r["lines"] for r in tiny_records(3, seed=4)]]
    scored = tiny_model.score(pages)
    n = sum(map(len, pages))
    assert scored.proba.shape == (n, len(tiny_model.labels)) and np.allclose(scored.proba.sum(axis=1), 1)
    content = tiny_model.labels.index("content")
    assert np.array_equal(scored.keep, scored.proba[:, content])  # keep_labels = ("content",)
    assert list(scored.labels) == [tiny_model.labels[i] for i in scored.proba.argmax(axis=1)]
    assert scored.words.tolist() == [count_words(line) for page in pages for line in page]
    assert [len(part) for part in scored.by_page(scored.keep)] == [len(p) for p in pages]
    assert list(scored.by_page(scored.labels)[0][:3]) == ["nav", "nav", "content"]


def test_no_lines_score_to_empty_arrays(tiny_model):
    for pages in ([], [[]], [[], []]):
        scored = tiny_model.score(pages)
        assert scored.proba.shape == (0, len(tiny_model.labels)) and len(scored.keep) == len(scored.labels) == 0
        assert [len(part) for part in scored.by_page(scored.keep)] == [0] * len(pages)
