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
    # The metadata records the config the model was trained with, as composed.
    assert saved["data"][0]["sha256"] and saved["config"]["model"]["C"] == cfg.model.C
    assert saved["config"]["fit"]["solver"] == cfg.fit.solver
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
    ("threshold.objective=accuracy", "threshold.objective must be one of"),
    ("output.removal_budget=2", "output.removal_budget must be in"),
    ("guard.long_line_words=0", "guard.long_line_words must be a whole number"),
    ("site_stage.fit_on=test", "site_stage.fit_on must be train or validation"),
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


def test_a_label_missing_from_the_training_split_is_refused(tmp_path):
    import train
    from conftest import tiny_records, write_jsonl

    records = tiny_records()
    for r in records:  # no clickbait anywhere but on the first line of the first page
        r["labels"] = [lab if lab != "clickbait" else "nav" for lab in r["labels"]]
    records[0]["labels"][0] = "clickbait"
    data = write_jsonl(tmp_path / "rare.jsonl", records)
    # Explicit split files put that page in test only.
    train_file = write_jsonl(tmp_path / "tr.jsonl", records[1:18])
    val_file = write_jsonl(tmp_path / "va.jsonl", records[18:])
    test_file = write_jsonl(tmp_path / "te.jsonl", records[:1])
    cfg = compose_train(tiny_train_overrides(data, tmp_path / "m.joblib") + [
        f"data.train_files=[{train_file}]", f"data.validation_files=[{val_file}]",
        f"data.test_files=[{test_file}]"])
    with pytest.raises(ValueError, match=r"page 'tiny-000' line 1 has label 'clickbait'.*training split lacks"):
        train.train(cfg)


def test_failed_training_keeps_the_existing_model(tiny_file, tmp_path):
    import train

    model_path = tmp_path / "m.joblib"
    train.train(compose_train(tiny_train_overrides(tiny_file, model_path)))
    before = model_path.read_bytes()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "lines": ["a"]}\n', encoding="utf-8")
    from boilercut.data import DataError
    with pytest.raises(DataError):
        train.train(compose_train(tiny_train_overrides(bad, model_path)))
    assert model_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".m.joblib")) == []
