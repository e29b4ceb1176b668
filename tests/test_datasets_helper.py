"""boilercut.clean_dataset on a small in-memory HuggingFace Dataset."""
import pytest
from datasets import Dataset

from boilercut import clean_dataset
from boilercut.persist import save_model
from conftest import TINY_PAGE

KEPT = "\n".join(TINY_PAGE.split("\n")[2:4])


def tiny_dataset(n=6):
    return Dataset.from_dict({"text": [TINY_PAGE] * n, "url": [f"https://example.org/{i}" for i in range(n)],
                              "n": list(range(n))})


def test_clean_dataset_replaces_text_and_adds_statistics(tiny_model):
    out = clean_dataset(tiny_dataset(), model=tiny_model, keep_in_memory=True)
    assert out.column_names == ["text", "url", "n", "lines_kept", "lines_removed", "words_removed_share"]
    assert list(out["text"]) == [KEPT] * 6 and list(out["n"]) == list(range(6))
    assert list(out["lines_kept"]) == [2] * 6 and list(out["lines_removed"]) == [6] * 6
    assert 0.5 < out[0]["words_removed_share"] < 1


def test_clean_dataset_with_two_processes_and_a_model_file(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m.joblib")
    one = clean_dataset(tiny_dataset(40), model=path, batch_size=7, keep_in_memory=True)
    two = clean_dataset(tiny_dataset(40), model=path, batch_size=7, num_proc=2, keep_in_memory=True)
    assert one.to_list() == two.to_list()


def test_clean_dataset_guard_drops_documents(tiny_model):
    ds = Dataset.from_dict({"text": [TINY_PAGE, KEPT]})
    out = clean_dataset(ds, model=tiny_model, max_removed_share=0.5, keep_in_memory=True)
    assert list(out["text"]) == [KEPT] and list(out["lines_removed"]) == [0]


def test_clean_dataset_names_a_missing_column(tiny_model):
    with pytest.raises(ValueError, match="'body' is not a column"):
        clean_dataset(tiny_dataset(), text_column="body", model=tiny_model)
