"""The public batched API: filter_pages and clean_texts give, page by page, what filter_page
gives, for any mix of pages (empty, blank, CJK, very long, several batches' worth)."""
import gzip
import json

import pytest
from conftest import SHARED, TINY_PAGE, tiny_records

from boilercut import clean_texts, filter_page, filter_pages, load_model
from boilercut.batch import BATCH_LINES
from boilercut.lines import count_words
from boilercut.model import CHUNK_LINES
from boilercut.locations import default_model_path
from boilercut.persist import metadata_path

CJK_PAGE = "首页 | 新闻 | 体育\n市议会周二开会讨论了穿过老城区的新公交线路。\n相关阅读\n© 2024 示例传媒"


def mixed_pages() -> list[str]:
    """Pages of every shape a corpus has, more lines in all than one batch holds."""
    corpus = ["\n".join(r["lines"]) for r in tiny_records(40, seed=5)]
    return [TINY_PAGE, "", " ", "\n", "  \n\t\n", CJK_PAGE, TINY_PAGE.replace("\n", "\r\n") + "\r\n",
            "one line without an end", *corpus, TINY_PAGE + "\n" + "word " * 300]


def test_filter_pages_gives_filter_page_of_every_page(tiny_model):
    pages = mixed_pages()
    assert sum(text.count("\n") + 1 for text in pages) > BATCH_LINES / 5  # several pages a batch
    expected = [filter_page(text, model=tiny_model) for text in pages]
    assert filter_pages(pages, model=tiny_model) == expected
    assert filter_pages(iter(pages), model=tiny_model) == expected  # any iterable
    assert expected[0] == "\n".join(TINY_PAGE.split("\n")[2:4])  # not trivially all or nothing


@pytest.mark.parametrize("options", [{"threshold": 0.0}, {"threshold": 0.9}, {"keep": "balanced"}])
def test_filter_pages_passes_threshold_and_keep_on(tiny_model, options):
    pages = mixed_pages()[:10]
    assert filter_pages(pages, model=tiny_model, **options) == [filter_page(p, tiny_model, **options) for p in pages]


def test_pages_over_several_batches_and_a_page_longer_than_a_chunk(tiny_model):
    """A page of more lines than a model call scores (windows) among pages that fill
    several batches: each comes out as filter_page makes it."""
    long_page = "\n".join((TINY_PAGE + "\n") * (CHUNK_LINES // 8 + 5)).rstrip("\n")
    pages = [TINY_PAGE] * (BATCH_LINES // 8 + 3) + [long_page, CJK_PAGE]
    got = filter_pages(pages, model=tiny_model)
    assert got[-2] == filter_page(long_page, model=tiny_model)
    assert got[-1] == filter_page(CJK_PAGE, model=tiny_model)
    assert set(got[:-2]) == {filter_page(TINY_PAGE, model=tiny_model)}


def test_clean_texts_gives_text_and_statistics_of_each_document_in_order(tiny_model):
    lines = TINY_PAGE.split("\n")
    kept = lines[2:4]
    results = clean_texts([TINY_PAGE, "", CJK_PAGE], model=tiny_model)
    assert [r.text for r in results] == filter_pages([TINY_PAGE, "", CJK_PAGE], model=tiny_model)
    page = results[0]
    assert (page.lines_kept, page.lines_removed, page.dropped) == (2, 6, False)
    words = sum(map(count_words, lines))
    assert page.words_removed_share == pytest.approx((words - sum(map(count_words, kept))) / words)
    assert results[1].stats() == {"lines_kept": 0, "lines_removed": 0, "words_removed_share": 0.0}
    assert results[2].lines_kept + results[2].lines_removed == 4


def test_a_document_left_empty_stays_in_the_result(tiny_model):
    """The one rule for documents with no line kept: "" with its statistics, in its place."""
    menu = "Home | Sport | Weather | Business | News\nPrivacy policy | Terms of use | Cookies"
    results = clean_texts([TINY_PAGE, menu, TINY_PAGE], model=tiny_model)
    assert len(results) == 3
    assert results[1].text == "" and not results[1].dropped
    assert (results[1].lines_kept, results[1].lines_removed, results[1].words_removed_share) == (0, 2, 1.0)


def test_clean_texts_guard_marks_dropped_documents(tiny_model):
    results = clean_texts([TINY_PAGE, "\n".join(TINY_PAGE.split("\n")[2:4])], model=tiny_model, max_removed_share=0.1)
    assert results[0].dropped and results[0].text == ""
    assert not results[1].dropped and results[1].lines_removed == 0


def test_bad_arguments_are_named(tiny_model):
    with pytest.raises(TypeError, match="got a str; use filter_page"):
        filter_pages(TINY_PAGE, model=tiny_model)
    with pytest.raises(TypeError, match=r"texts\[1\] is NoneType, not str"):
        clean_texts([TINY_PAGE, None], model=tiny_model)
    with pytest.raises(ValueError, match="threshold must be between 0 and 1"):
        filter_pages([TINY_PAGE], model=tiny_model, threshold=2)
    with pytest.raises(ValueError, match="unknown operating point"):
        filter_pages([TINY_PAGE], model=tiny_model, keep="gentle")
    with pytest.raises(ValueError, match="mode must be one of"):
        clean_texts([TINY_PAGE], model=tiny_model, mode="middle")
    assert filter_pages([], model=tiny_model) == []


DEV_FINEWEB = SHARED / "realweb" / "dev-fineweb.jsonl.gz"


@pytest.mark.slow
@pytest.mark.skipif(not DEV_FINEWEB.is_file() or not metadata_path(default_model_path()).is_file(),
                    reason="needs ../shared/realweb and a trained models/boilercut.joblib")
def test_filter_pages_on_real_pages_equals_filter_page_with_the_trained_model():
    """On real FineWeb pages with the trained model (operating point auto, long-line guard)."""
    model = load_model(default_model_path())
    with gzip.open(DEV_FINEWEB, "rt", encoding="utf-8") as f:
        pages = ["\n".join(json.loads(line)["lines"]) for line in f][:400]
    assert filter_pages(pages, model=model) == [filter_page(p, model=model) for p in pages]
