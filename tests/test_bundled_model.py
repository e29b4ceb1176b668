"""The model trained on the bundled data, on the shipped mirror example and on ../shared.

Slow: trains once per session on data/pages.jsonl (about a minute on 2 cores) into a
temporary folder; models/ is never touched.
"""
import gzip
import json

import pytest

from boilercut import classify_lines, filter_page, load_model, split_lines
from conftest import REPO, SHARED

pytestmark = pytest.mark.slow

MIRROR = REPO / "data" / "examples" / "mirror-page.txt"
# In data/examples/mirror-page.txt: line 2 is the headline, lines 5-11 the article.
ARTICLE_LINES = [2, 5, 6, 7, 8, 9, 10, 11]


@pytest.fixture(scope="module")
def bundled_model(bundled_model_file):
    return load_model(bundled_model_file)


def test_mirror_example_keeps_article_and_drops_everything_else(bundled_model):
    lines = split_lines(MIRROR.read_text(encoding="utf-8"))
    kept = filter_page("\n".join(lines), model=bundled_model).split("\n")
    assert kept == [lines[i - 1] for i in ARTICLE_LINES]


def test_mirror_example_labels_the_lists_as_clickbait(bundled_model):
    lines = split_lines(MIRROR.read_text(encoding="utf-8"))
    labels = classify_lines(lines, model=bundled_model)
    related = lines.index("Related")
    assert labels[related] == "clickbait"
    assert labels[0] == "nav"  # breadcrumb glued to the headline


@pytest.mark.skipif(not (SHARED / "examples").is_dir(), reason="../shared is not beside the project")
def test_real_mirror_example_drops_every_non_article_line(bundled_model):
    text = (SHARED / "examples" / "ascend-wealth-mirror.txt").read_text(encoding="utf-8")
    lines = split_lines(text)
    kept = filter_page(text, model=bundled_model).split("\n")
    # The article: the headline (line 2) and the paragraphs between the Date: line and the bio.
    date = next(i for i, line in enumerate(lines) if line.startswith("Date:"))
    bio = next(i for i in range(date + 1, len(lines)) if "is a " in lines[i] and "reporter" in lines[i])
    article = [lines[1]] + lines[date + 1:bio]
    assert [line for line in article if line not in kept] == []
    assert kept == article


@pytest.mark.skipif(not (SHARED / "examples").is_dir(), reason="../shared is not beside the project")
def test_real_news_example_keeps_every_article_paragraph(bundled_model):
    text = (SHARED / "examples" / "news-article.txt").read_text(encoding="utf-8")
    lines = split_lines(text)
    kept = set(filter_page(text, model=bundled_model).split("\n"))
    paragraphs = [line for line in lines if len(line.split()) >= 12
                  and not line.startswith(("Watch:", "Flashback", "Follow "))]
    assert [p for p in paragraphs if p not in kept] == []


@pytest.mark.skipif(not (SHARED / "realweb").is_dir(), reason="../shared/realweb is not beside the project")
def test_transfer_to_realweb_beats_keep_all(bundled_model):
    from boilercut.evaluation import evaluate

    path = SHARED / "realweb" / "dev-raw.jsonl.gz"
    records = [json.loads(line) for line in gzip.open(path, "rt", encoding="utf-8")][:300]
    result = evaluate(bundled_model, records, use_justext=False, progress=False)
    ours, keep_all = result["methods"]["boilercut"], result["methods"]["keep-all"]
    assert ours["word_f1"] > keep_all["word_f1"] + 0.03
    assert ours["content_words_lost"] < 0.10
