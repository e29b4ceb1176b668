"""boilercut.clean_dataset on a small in-memory HuggingFace Dataset."""
import pytest
from datasets import Dataset

from boilercut import clean_dataset, filter_page
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


def test_a_model_retrained_into_the_same_file_is_not_served_from_the_cache(tiny_model, tmp_path):
    """datasets caches map() by a fingerprint of its arguments; a model file's path alone
    would hand the old model's results back after a retrain (issue 15)."""
    from datasets import load_from_disk

    from boilercut.model import LineModel
    from boilercut.training import fit_line_model
    from conftest import TINY_CLASSIFIER, TINY_FEATURES, tiny_records

    tiny_dataset(8).save_to_disk(str(tmp_path / "ds"))
    ds = load_from_disk(str(tmp_path / "ds"))  # backed by files: map() results are cached beside them
    path = tmp_path / "m.joblib"
    save_model(tiny_model, path)
    first = clean_dataset(ds, model=path)
    assert list(first["text"]) == [KEPT] * 8
    assert clean_dataset(ds, model=path).cache_files == first.cache_files  # the same model: cached
    # The same Pipeline file with another threshold in its metadata: everything is kept.
    save_model(LineModel(tiny_model.pipeline, context_stage=tiny_model.context_stage, threshold=0.0), path)
    assert list(clean_dataset(ds, model=path)["text"]) == [TINY_PAGE] * 8
    # A Pipeline retrained on data whose nav and content labels are swapped, saved over the
    # same file with the same metadata settings: it keeps the menus.
    swap = {"nav": "content", "content": "nav"}
    records = [{**r, "labels": [swap.get(label, label) for label in r["labels"]]} for r in tiny_records()]
    pipeline, _ = fit_line_model(records, TINY_FEATURES, TINY_CLASSIFIER)
    save_model(LineModel(pipeline, threshold=0.5), path)
    kept = list(clean_dataset(ds, model=path)["text"])
    assert kept == [filter_page(TINY_PAGE, model=LineModel(pipeline, threshold=0.5))] * 8
    assert "Home > News > Story 99" in kept[0] and KEPT not in kept[0]
