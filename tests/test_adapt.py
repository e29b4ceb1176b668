"""python -m train data.adapt=labels.jsonl: labeled pages of one corpus join training, weighted."""
import json

import pytest

from boilercut import classify_lines, load_model
from boilercut.adapt import adapt_pages, latest_records
from boilercut.training import line_weights
from conftest import SENTENCES, compose_train
from conftest import tiny_records, tiny_train_overrides, write_jsonl

# A line the bundled (tiny) pages call content, which this corpus's annotator calls an
# inline promo (clickbait), put among the sentences of each page.
MOVED = SENTENCES[-1]
AT = 4


def with_moved(lines: list, labels: list) -> tuple[list, list]:
    lines = [x for x in lines if x != MOVED]
    labels = labels[:len(lines)]
    return lines[:AT] + [MOVED] + lines[AT:], labels[:AT] + ["clickbait"] + labels[AT:]


def adapt_file(tmp_path, n=12):
    """Pages labeled in the app: MOVED is clickbait; four sites; the first page labeled twice."""
    records = []
    for i, page in enumerate(tiny_records(n, seed=5)):
        lines, labels = with_moved(page["lines"], page["labels"])
        records.append({"id": f"mine-{i}", "lines": lines, "labels": labels, "site": f"s{i % 4}",
                        "labeled_by": "me", "labeled_at": "2026-12-05T10:00:00+00:00"})
    records.append(dict(records[0], labels=["nav"] * len(records[0]["lines"])))  # labeled again: wins
    return write_jsonl(tmp_path / "labels.jsonl", records)


def test_the_last_record_of_an_id_wins():
    records = [{"id": "a", "v": 1}, {"id": "b", "v": 2}, {"id": "a", "v": 3}]
    assert latest_records(records) == [{"id": "b", "v": 2}, {"id": "a", "v": 3}]


def test_adapt_pages_are_weighted_and_held_out_by_site():
    records = [{"id": f"p{i}", "site": f"s{i % 5}", "lines": ["x"], "labels": ["content"]} for i in range(20)]
    trained, held_out = adapt_pages(records, weight=7, holdout=0.2, seed=1)
    assert len(trained) + len(held_out) == 20 and held_out
    assert not {r["site"] for r in trained} & {r["site"] for r in held_out}
    assert {r["_weight"] for r in trained} == {7.0} and all("_weight" not in r for r in held_out)


def test_line_weights_carry_the_page_factor():
    pages = [{"lines": ["one two", "three"]}, {"lines": ["four"], "_weight": 10.0}]
    assert line_weights(pages, "words").tolist() == [3.0, 2.0, 20.0]


def test_adapted_training_learns_the_new_labels_and_reports_before_and_after(tiny_file, tmp_path):
    import train

    model_path = tmp_path / "m.joblib"
    train.train(compose_train(tiny_train_overrides(tiny_file, model_path)))
    record = tiny_records(1, seed=9)[0]
    page = with_moved(record["lines"], record["labels"])[0]
    assert classify_lines(page, model=load_model(model_path))[AT] == "content"
    meta = train.train(compose_train(tiny_train_overrides(tiny_file, model_path) + [
        f"data.adapt={adapt_file(tmp_path)}", "data.adapt_weight=20", "data.adapt_holdout=0.25"]))
    assert classify_lines(page, model=load_model(model_path))[AT] == "clickbait"
    before, after = meta["metrics"]["adapt held-out: before"], meta["metrics"]["adapt held-out: after"]
    assert after["word_f1"] > before["word_f1"]
    saved = json.loads((tmp_path / "m.joblib.json").read_text())
    assert saved["data"][-1]["file"].endswith("labels.jsonl")
    assert saved["pages"]["train"] > 24 * 0.7


@pytest.mark.parametrize("override, message", [
    ("data.adapt_weight=0", "data.adapt_weight must be > 0"),
    ("data.adapt_holdout=1", r"data.adapt_holdout must be in \[0, 1\)"),
])
def test_bad_adapt_settings_fail_before_training(tiny_file, tmp_path, override, message):
    import train

    cfg = compose_train(tiny_train_overrides(tiny_file, tmp_path / "m.joblib") +
                        [f"data.adapt={adapt_file(tmp_path)}", override])
    with pytest.raises(ValueError, match=message):
        train.train(cfg)
    assert not (tmp_path / "m.joblib").exists()


def test_adapt_labels_outside_the_label_set_are_refused(tiny_file, tmp_path):
    import train

    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "x", "lines": ["a", "b"], "labels": ["content", "boilerplate"]}])
    cfg = compose_train(tiny_train_overrides(tiny_file, tmp_path / "m.joblib") + [f"data.adapt={bad}"])
    with pytest.raises(ValueError, match="'boilerplate'"):
        train.train(cfg)


def test_quick_adapter_refits_the_classifier_only(tiny_model, tmp_path):
    from boilercut.adapt import QuickAdapter

    record = tiny_records(1, seed=9)[0]
    page = with_moved(record["lines"], record["labels"])[0]
    labeled = [json.loads(line) for line in adapt_file(tmp_path).read_text().splitlines()]
    adapter = QuickAdapter(tiny_model, tiny_records(), line_weight="words")
    adapted = adapter.adapt(labeled, weight=20)
    assert classify_lines(page, model=tiny_model)[AT] == "content"
    assert classify_lines(page, model=adapted)[AT] == "clickbait"
    assert adapted.pipeline.steps[0][1] is tiny_model.pipeline.steps[0][1]  # the fitted features, shared
    assert adapted.context_stage is tiny_model.context_stage and adapted.threshold == tiny_model.threshold
    with pytest.raises(ValueError, match="weight must be > 0"):
        adapter.adapt(labeled, weight=0)


@pytest.mark.parametrize("trained_with", [None, "block", "block-jacobi", "sklearn"])
def test_quick_adapter_refits_with_the_solver_the_model_was_trained_with(tiny_model, monkeypatch, trained_with):
    import copy

    import boilercut.block_logistic as block_logistic
    from boilercut.adapt import QuickAdapter

    model = copy.copy(tiny_model)
    model.metadata = {} if trained_with is None else {"config": {"fit": {"solver": trained_with}}}
    solvers = []
    monkeypatch.setattr(block_logistic, "fit_classifier", lambda *a: solvers.append(a[5]))
    QuickAdapter(model, tiny_records(4)).adapt(tiny_records(2, seed=3), weight=5)
    assert solvers == [trained_with or "block"]  # a model without the record: the solver of its time
