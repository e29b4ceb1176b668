"""Hostile arguments to the Python API, and the messages they get (issue 17, smaller items):
each is refused with an error that names the bad value, or warned about, never accepted
silently and never a raw error from deep inside."""
import logging

import pytest
from conftest import TINY_PAGE, tiny_records

from boilercut import filter_page
from boilercut.batch import clean_batch
from boilercut.corpus_io import read_source
from boilercut.evaluation import evaluate


@pytest.mark.parametrize("threshold", ["0.5", True, False, [0.5]], ids=["str", "True", "False", "list"])
def test_filter_page_refuses_a_threshold_that_is_not_a_number(tiny_model, threshold):
    with pytest.raises(TypeError, match=r"threshold must be a number between 0 and 1, got .* \((str|bool|list)\)"):
        filter_page(TINY_PAGE, model=tiny_model, threshold=threshold)


@pytest.mark.parametrize("option", ["threshold", "max_removed_share"])
@pytest.mark.parametrize("value", ["0.5", True])
def test_clean_batch_refuses_options_that_are_not_numbers(tiny_model, option, value):
    with pytest.raises(TypeError, match=f"{option} must be a number between 0 and 1"):
        clean_batch(tiny_model, [TINY_PAGE], **{option: value})


def test_numbers_of_every_kind_are_still_thresholds(tiny_model):
    import numpy as np

    expected = filter_page(TINY_PAGE, model=tiny_model, threshold=0.5)
    for threshold in (np.float32(0.5), np.float64(0.5)):
        assert filter_page(TINY_PAGE, model=tiny_model, threshold=threshold) == expected
    assert filter_page(TINY_PAGE, model=tiny_model, threshold=0) == TINY_PAGE
    with pytest.raises(ValueError, match="between 0 and 1, got nan"):
        filter_page(TINY_PAGE, model=tiny_model, threshold=float("nan"))


def test_json_error_names_the_column_once(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"text": "a\x01b"}\n')
    (bad,) = list(read_source(str(path), "jsonl"))
    assert bad.reason == "not valid JSON (Invalid control character at column 12)"


def test_evaluate_warns_once_about_labels_the_model_does_not_have(tiny_model, caplog):
    records = tiny_records(4, seed=5)
    records[0]["labels"][:3] = ["spam", "spam", "article"]
    records[2]["labels"][0] = "spam"
    with caplog.at_level(logging.WARNING, logger="boilercut.evaluation"):
        result = evaluate(tiny_model, records, use_justext=False, progress=False)
    warnings = [r.getMessage() for r in caplog.records if r.name == "boilercut.evaluation"]
    assert warnings == [("4 of 48 labeled lines have labels the model does not have (spam: 3, article: 1): "
                         "they count as boilerplate (not kept), and per-class scores are left out")]
    assert "classes" not in result


def test_evaluate_says_nothing_when_every_label_is_known(tiny_model, caplog):
    with caplog.at_level(logging.WARNING, logger="boilercut.evaluation"):
        evaluate(tiny_model, tiny_records(4, seed=5), use_justext=False, progress=False)
    assert not [r for r in caplog.records if r.name == "boilercut.evaluation"]


datasets = pytest.importorskip("datasets")


@pytest.mark.parametrize("values, kind", [([1, 2], "int64"), ([["a"], ["b"]], "list")])
def test_clean_dataset_names_a_text_column_that_is_not_text(tiny_model, values, kind):
    from boilercut import clean_dataset

    ds = datasets.Dataset.from_dict({"text": values})
    with pytest.raises(TypeError, match=rf"text_column 'text' holds {kind} values, not text \(row 0: "):
        clean_dataset(ds, model=tiny_model, keep_in_memory=True)


def test_clean_dataset_names_the_row_of_a_null_text(tiny_model):
    from boilercut import clean_dataset

    ds = datasets.Dataset.from_dict({"text": [TINY_PAGE, TINY_PAGE, None, TINY_PAGE]})
    with pytest.raises(TypeError, match=r"text_column 'text' is null in row 2; .*filter"):
        clean_dataset(ds, model=tiny_model, batch_size=2, keep_in_memory=True)
