"""predict --site-repeats: count lines per site, then clean with the counts."""
from __future__ import annotations

import gzip
import json

import pytest
from conftest import TINY_CLASSIFIER, TINY_CONTEXT_STAGE, TINY_FEATURES, tiny_records
from site_pages import as_corpus, site_records

from boilercut.batch import SITE_STATS_FIELD
from boilercut.model import LineModel
from boilercut.persist import save_model
from boilercut.training import fit_models


@pytest.fixture(scope="module")
def site_model_file(tmp_path_factory) -> str:
    records = site_records(sites=6, pages=6, seed=1) + tiny_records()
    pipeline, stage, sites = fit_models(records, TINY_FEATURES, TINY_CLASSIFIER, context_stage=TINY_CONTEXT_STAGE,
                                        site_stage={"enabled": True, "C": 10.0})
    model = LineModel(pipeline=pipeline, keep_labels=("content",), threshold=0.5, context_stage=stage,
                      site_stage=sites)
    return str(save_model(model, tmp_path_factory.mktemp("site-model") / "m.joblib"))


@pytest.fixture
def corpus_file(tmp_path):
    """Three unseen sites of five pages, plus two pages without a url."""
    rows = as_corpus(site_records(sites=3, pages=5, seed=7))
    rows += [{"id": "lone-1", "text": "Home | News\nA paragraph of its own."}, {"id": "lone-2", "text": "Just one line"}]
    path = tmp_path / "corpus.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    return path


def predict(*args) -> int:
    import predict as command

    return command.main([str(a) for a in args])


def read_rows(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_site_repeats_removes_what_sites_repeat_and_counts_it(site_model_file, corpus_file, tmp_path):
    plain, sited = tmp_path / "plain.jsonl.gz", tmp_path / "sited.jsonl.gz"
    assert predict(corpus_file, "--output", plain, "--model", site_model_file, "--quiet") == 0
    assert predict(corpus_file, "--output", sited, "--model", site_model_file, "--quiet", "--site-repeats") == 0
    before, after = read_rows(plain), read_rows(sited)
    assert [r["id"] for r in before] == [r["id"] for r in after]
    assert SITE_STATS_FIELD not in before[0]
    assert sum(r["lines_removed"] for r in after) > sum(r["lines_removed"] for r in before)
    assert sum(r[SITE_STATS_FIELD] for r in after[:15]) > 0
    # pages without a site: no signal, the same output as without --site-repeats
    assert [(r["text"], r[SITE_STATS_FIELD]) for r in after[15:]] == [(r["text"], 0) for r in before[15:]]


def test_site_repeats_output_does_not_depend_on_jobs(site_model_file, corpus_file, tmp_path):
    one, two = tmp_path / "one.jsonl.gz", tmp_path / "two.jsonl.gz"
    common = ["--model", site_model_file, "--quiet", "--site-repeats", "--batch-lines", "20"]
    assert predict(corpus_file, "--output", one, "--jobs", "1", *common) == 0
    assert predict(corpus_file, "--output", two, "--jobs", "2", *common) == 0
    assert read_rows(one) == read_rows(two)


def test_a_site_field_names_the_site(site_model_file, tmp_path):
    rows = as_corpus(site_records(sites=1, pages=4, seed=2))
    path = tmp_path / "c.jsonl"
    by_url = [dict(r) for r in rows]
    by_field = [{"id": r["id"], "domain": "one-site", "text": r["text"]} for r in rows]
    path.write_text("".join(json.dumps(r) + "\n" for r in by_url), encoding="utf-8")
    assert predict(path, "--output", tmp_path / "a.jsonl.gz", "--model", site_model_file, "--quiet", "--site-repeats") == 0
    path.write_text("".join(json.dumps(r) + "\n" for r in by_field), encoding="utf-8")
    assert predict(path, "--output", tmp_path / "b.jsonl.gz", "--model", site_model_file, "--quiet", "--site-repeats",
                   "--site-field", "domain") == 0
    a, b = read_rows(tmp_path / "a.jsonl.gz"), read_rows(tmp_path / "b.jsonl.gz")
    assert [r["text"] for r in a] == [r["text"] for r in b]
    assert sum(r[SITE_STATS_FIELD] for r in b) > 0


def test_standard_input_is_refused_in_one_line(site_model_file, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    code = predict("-", "--input-format", "jsonl", "--output", out, "--model", site_model_file, "--site-repeats")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "standard input cannot be read twice" in err[0]
    assert out.read_text(encoding="utf-8") == "previous\n"


def test_site_field_without_site_repeats_is_a_usage_error(site_model_file, corpus_file, tmp_path, capsys):
    code = predict(corpus_file, "--output", tmp_path / "o.jsonl", "--model", site_model_file, "--site-field", "x")
    assert code == 2 and "--site-field needs --site-repeats" in capsys.readouterr().err


def test_clean_dataset_with_site_repeats_cleans_as_predict_does(site_model_file, corpus_file, tmp_path):
    from datasets import Dataset

    from boilercut import clean_dataset

    with gzip.open(corpus_file, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    ds = Dataset.from_list([{"id": r["id"], "url": r.get("url"), "text": r["text"]} for r in rows])
    cleaned = clean_dataset(ds, model=site_model_file, site_repeats=True, keep_in_memory=True)
    out = tmp_path / "out.jsonl.gz"
    assert predict(corpus_file, "--output", out, "--model", site_model_file, "--quiet", "--site-repeats") == 0
    expected = read_rows(out)
    assert cleaned["text"] == [r["text"] for r in expected]
    assert cleaned[SITE_STATS_FIELD] == [r[SITE_STATS_FIELD] for r in expected]
    with pytest.raises(ValueError, match="site_column needs site_repeats"):
        clean_dataset(ds, model=site_model_file, site_column="url")
