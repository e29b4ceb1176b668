"""The site stage: lines the site repeats enter the model; pages without a signal score as before."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import TINY_CLASSIFIER, TINY_CONTEXT_STAGE, TINY_FEATURES, tiny_records
from site_pages import site_records

from boilercut.model import LineModel
from boilercut.persist import load_model, save_model
from boilercut.site_repeats import records_repeats
from boilercut.training import fit_models

SITE_STAGE = {"enabled": True, "min_site_pages": 3, "C": 10.0}  # tiny data: a weak penalty


@pytest.fixture(scope="module")
def site_model() -> LineModel:
    records = site_records(sites=6, pages=6, seed=1) + tiny_records()
    pipeline, stage, sites = fit_models(records, TINY_FEATURES, TINY_CLASSIFIER, context_stage=TINY_CONTEXT_STAGE,
                                        site_stage=SITE_STAGE)
    assert sites is not None
    return LineModel(pipeline=pipeline, keep_labels=("content",), threshold=0.5, context_stage=stage,
                     site_stage=sites, long_line_words=200)


@pytest.fixture(scope="module")
def held_out():
    """Sites the model never saw, with their repeats (the set is the corpus)."""
    records = site_records(sites=3, pages=5, seed=7)
    return records, records_repeats(records)


def test_pages_without_a_signal_get_identical_probabilities(site_model, held_out):
    records, repeats = held_out
    pages = [r["lines"] for r in records] + [r["lines"] for r in tiny_records(4, seed=3)]
    plain = site_model.score(pages).proba
    neutral = site_model.score(pages, repeats=[None] * len(pages)).proba
    assert np.array_equal(plain, neutral)
    mixed = site_model.score(pages, repeats=[*repeats[:2], *([None] * (len(pages) - 2))]).proba
    first_two = sum(len(p) for p in pages[:2])
    assert np.array_equal(mixed[first_two:], plain[first_two:])
    assert not np.allclose(mixed[:first_two], plain[:first_two])


def test_repeated_teasers_lose_keep_score_and_unique_content_keeps_it(site_model, held_out):
    records, repeats = held_out
    pages = [r["lines"] for r in records]
    labels = np.asarray([lab for r in records for lab in r["labels"]], dtype=object)
    plain = site_model.score(pages).keep
    with_sites = site_model.score(pages, repeats=repeats).keep
    other = np.concatenate([rep.other for rep in repeats])
    teasers = (labels == "clickbait") & (other >= 1)
    content = labels == "content"
    assert with_sites[teasers].mean() < plain[teasers].mean() - 0.05
    assert with_sites[content].mean() > 0.5


def test_the_long_line_guard_has_the_last_word(site_model, held_out):
    records, repeats = held_out
    long_line = " ".join(["word"] * 250)
    pages = [[*r["lines"], long_line] for r in records]
    padded = [rep._replace(other=np.append(rep.other, rep.site_pages - 1)) for rep in repeats]
    scored = site_model.score(pages, repeats=padded)
    scores = scored.by_page(scored.keep)
    assert all(s[-1] == pytest.approx(1.0) for s in scores)


def test_a_saved_site_stage_loads_and_scores_the_same(site_model, held_out, tmp_path):
    records, repeats = held_out
    pages = [r["lines"] for r in records]
    path = save_model(site_model, tmp_path / "m.joblib")
    loaded = load_model(path)
    assert loaded.metadata["site_stage"]["min_site_pages"] == 3
    assert np.array_equal(loaded.score(pages, repeats=repeats).proba,
                          site_model.score(pages, repeats=repeats).proba)


def test_a_model_without_a_site_stage_ignores_repeats(tiny_model, held_out):
    records, repeats = held_out
    pages = [r["lines"] for r in records]
    assert np.array_equal(tiny_model.score(pages, repeats=repeats).proba, tiny_model.score(pages).proba)


def test_the_site_stage_needs_the_context_stage():
    with pytest.raises(ValueError, match="needs the context stage"):
        fit_models(site_records(), TINY_FEATURES, TINY_CLASSIFIER, context_stage={"folds": 0}, site_stage=SITE_STAGE)


def test_without_sites_in_the_training_data_there_is_no_site_stage():
    *_, sites = fit_models(tiny_records(), TINY_FEATURES, TINY_CLASSIFIER, context_stage=TINY_CONTEXT_STAGE,
                           site_stage=SITE_STAGE)
    assert sites is None


def test_a_damaged_site_stage_in_the_metadata_is_refused_in_one_line(site_model, tmp_path):
    import json

    from boilercut.persist import ModelFileError, metadata_path

    path = save_model(site_model, tmp_path / "m.joblib")
    meta = json.loads(metadata_path(path).read_text(encoding="utf-8"))
    meta["site_stage"]["bias"] = meta["site_stage"]["bias"][:2]
    metadata_path(path).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelFileError, match="metadata site_stage: weights of shape"):
        load_model(path)


def test_pages_for_the_site_stage_only_leave_the_first_two_stages_as_they_were(held_out):
    """site_only pages train the site stage alone: the line and context stages are the fits
    of the training pages, and the stage learns from how those score a site never seen."""
    records = tiny_records()
    pipeline, stage, none = fit_models(records, TINY_FEATURES, TINY_CLASSIFIER, context_stage=TINY_CONTEXT_STAGE,
                                       site_stage=SITE_STAGE)
    assert none is None  # the training pages have no sites
    pipeline2, stage2, sites = fit_models(records, TINY_FEATURES, TINY_CLASSIFIER,
                                          context_stage=TINY_CONTEXT_STAGE, site_stage=SITE_STAGE,
                                          site_only=site_records(sites=6, pages=6, seed=1))
    assert np.array_equal(pipeline[-1].coef_, pipeline2[-1].coef_)
    assert np.array_equal(stage.classifier_.coef_, stage2.classifier_.coef_)
    assert sites is not None
    model = LineModel(pipeline=pipeline2, keep_labels=("content",), threshold=0.5, context_stage=stage2,
                      site_stage=sites)
    pages, repeats = [r["lines"] for r in held_out[0]], held_out[1]
    with_counts, without = model.score(pages, repeats=repeats).keep, model.score(pages).keep
    teaser = np.asarray([lab == "clickbait" for r in held_out[0] for lab in r["labels"]])
    assert with_counts[teaser].mean() < without[teaser].mean()


def test_a_stage_refitted_on_held_out_pages_fits_their_probabilities(site_model, held_out):
    from boilercut.site_stage import SiteStage
    from boilercut.training import refit_site_stage

    records, repeats = held_out
    refit = refit_site_stage(site_model, records, {**SITE_STAGE, "fit_on": "validation"})
    pages = [r["lines"] for r in records]
    proba = site_model.score(pages).proba
    expected = SiteStage.fit(proba, [len(p) for p in pages], repeats, [lab for r in records for lab in r["labels"]],
                             site_model.score(pages).class_names, C=SITE_STAGE["C"])
    assert np.array_equal(refit.weights, expected.weights) and np.array_equal(refit.bias, expected.bias)
    assert not np.allclose(refit.weights, site_model.site_stage.weights)
    # on the pages it was fitted on, it loses less log-likelihood than the stage of the training pages
    gold = [site_model.score(pages).class_names.index(lab) for r in records for lab in r["labels"]]

    def log_loss(stage):
        p = stage.apply(proba, [len(x) for x in pages], repeats)
        return -np.mean(np.log(p[np.arange(len(gold)), gold]))

    assert log_loss(refit) < log_loss(site_model.site_stage)


def test_unknown_fold_and_fit_settings_are_refused():
    with pytest.raises(ValueError, match="fold_by must be page or site"):
        fit_models(site_records(), TINY_FEATURES, TINY_CLASSIFIER, context_stage={**TINY_CONTEXT_STAGE, "fold_by": "x"},
                   site_stage=SITE_STAGE)
