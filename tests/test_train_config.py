"""Training through the composed Hydra config, as `python -m train` does, on a tiny corpus."""
import json

import pytest

from boilercut import filter_page, load_model
from conftest import TINY_PAGE, compose_train, tiny_train_overrides


def test_train_writes_model_metadata_and_metrics(tiny_file, tmp_path):
    import train

    model_path = tmp_path / "m.joblib"
    cfg = compose_train(tiny_train_overrides(tiny_file, model_path))
    meta = train.train(cfg)
    saved = json.loads((tmp_path / "m.joblib.json").read_text())
    assert saved["labels"] == sorted(["content", "nav", "clickbait", "footer"])
    assert 0 <= saved["threshold"] <= 1
    assert saved["data"][0]["sha256"] and saved["config"]["model"]["C"] == 4.0
    assert set(saved["metrics"]) == {"validation", "test"}
    assert "per_class" in saved["metrics"]["validation"]["classes"]
    assert saved["pages"]["train"] + saved["pages"]["validation"] + saved["pages"]["test"] == 24
    model = load_model(model_path)
    assert filter_page(TINY_PAGE, model=model).split("\n") == TINY_PAGE.split("\n")[2:4]
    assert meta["threshold"] == saved["threshold"]


def test_binary_label_set_trains_with_the_same_command(tmp_path):
    import train
    from conftest import tiny_records, write_jsonl

    records = tiny_records()
    for r in records:
        r["labels"] = [None if lab is None else ("content" if lab == "content" else "boilerplate")
                       for lab in r["labels"]]
    data = write_jsonl(tmp_path / "binary.jsonl", records)
    cfg = compose_train(tiny_train_overrides(data, tmp_path / "b.joblib") + ["experiment=binary"])
    train.train(cfg)
    assert load_model(tmp_path / "b.joblib").labels == ["boilerplate", "content"]


@pytest.mark.parametrize("override, message", [
    ("threshold.fixed=1.5", "threshold.fixed must be in"),
    ("model.C=-1", "model.C must be > 0"),
    ("features.context_window=-1", "context_window must be >= 0"),
    ("data.split=[0.5,0.2]", "data.split must be three shares"),
])
def test_bad_config_values_fail_before_training(tiny_file, tmp_path, override, message):
    import train

    cfg = compose_train(tiny_train_overrides(tiny_file, tmp_path / "m.joblib") + [override])
    with pytest.raises(ValueError, match=message):
        train.train(cfg)
    assert not (tmp_path / "m.joblib").exists()


def test_one_class_data_is_refused(tmp_path):
    import train
    from conftest import tiny_records, write_jsonl

    records = tiny_records()
    for r in records:
        r["labels"] = ["content"] * len(r["lines"])
    data = write_jsonl(tmp_path / "one.jsonl", records)
    cfg = compose_train(tiny_train_overrides(data, tmp_path / "m.joblib"))
    with pytest.raises(ValueError, match="need at least two"):
        train.train(cfg)


def test_labels_outside_the_configured_set_are_refused(tmp_path):
    import train
    from boilercut.data import DataError
    from conftest import tiny_records, write_jsonl

    records = tiny_records()
    records[3]["labels"][0] = "menu"
    data = write_jsonl(tmp_path / "bad.jsonl", records)
    cfg = compose_train(tiny_train_overrides(data, tmp_path / "m.joblib"))
    with pytest.raises(DataError, match=r"record 4 \(id='tiny-003'\): line 1 has label 'menu'"):
        train.train(cfg)
