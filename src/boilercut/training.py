"""Fit the Pipeline on labeled pages, and score a LineModel on labeled pages.

Plain functions with plain arguments: boilercut/train.py and boilercut/evaluate.py call them with
values from the Hydra config; tests call them directly.
"""
from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs

from boilercut.block_logistic import BLOCK_SOLVERS, BlockRows, block_solvable, fit_classifier
from boilercut.context_stage import ContextStage
from boilercut.features import dense_parts_as_csr, dense_parts_aside, make_line_table, tfidf_parts
from boilercut.fit_processes import FitProcesses, elapsed_logger
from boilercut.lines import count_words
from boilercut.metrics import class_metrics, choose_threshold, keep_metrics, removal_at_loss, removal_key
from boilercut.model import LineModel, build_pipeline
from boilercut.operating_points import AUTO, BALANCED, OperatingPoints
from boilercut.page_style import STYLES, PageStyle
from boilercut.shared_counts import SharedCounts, count_parts
from boilercut.site_repeats import MIN_SITE_PAGES, labeled_site, records_repeats
from boilercut.site_stage import SiteStage

logger = logging.getLogger(__name__)


def flat_labels(records: Sequence[dict]) -> list:
    return [lab for r in records for lab in r["labels"]]


def check_trainable(records: Sequence[dict], keep_labels: Sequence[str]) -> list[str]:
    """The classes present in training; errors when training cannot work."""
    present = sorted({lab for lab in flat_labels(records) if lab is not None})
    if len(present) < 2:
        raise ValueError(f"training data has {len(present)} class(es) {present}: need at least two")
    if not set(keep_labels) & set(present):
        raise ValueError(f"no training line is labeled with a kept class {list(keep_labels)}; "
                         f"labels present: {present}")
    return present


LINE_WEIGHTS = ("none", "log", "sqrt", "words")


def line_weights(records: Sequence[dict], scheme: str) -> np.ndarray:
    """Per-line training weight. The metrics that matter are word-weighted (losing a
    2,000-word table cell costs more than losing a heading), so the loss can be too:
    log: 1 + log(1 + words); sqrt: sqrt(1 + words); words: 1 + words; times a page's
    "_weight" field where it has one (pages added with data.adapt)."""
    if scheme not in LINE_WEIGHTS:
        raise ValueError(f"line_weight must be one of {LINE_WEIGHTS}, got {scheme!r}")
    words = np.asarray([count_words(line) for r in records for line in r["lines"]], dtype=np.float64)
    weights = {"none": np.ones_like(words), "log": 1 + np.log1p(words), "sqrt": np.sqrt(1 + words),
               "words": 1 + words}[scheme]
    # Pages added with data.adapt carry a factor of their own (adapt.WEIGHT_FIELD).
    factor = np.repeat([float(r.get("_weight", 1.0)) for r in records], [len(r["lines"]) for r in records])
    return weights * factor


def check_split_classes(splits: dict[str, Sequence[dict]]) -> None:
    """A label seen in validation or test but never in training cannot be predicted: refuse."""
    trained = {lab for lab in flat_labels(splits["train"]) if lab is not None}
    for name in ("validation", "test"):
        for rec in splits.get(name, []):
            for j, lab in enumerate(rec["labels"]):
                if lab is not None and lab not in trained:
                    raise ValueError(f"{rec.get('_file', 'data')}: page {rec['id']!r} line {j + 1} has label "
                                     f"{lab!r}, which the {name} split has but the training split lacks; "
                                     "change data.seed or data.split, or add pages with that label")


SOLVERS = BLOCK_SOLVERS + ("sklearn",)


def dense_columns(union) -> int:
    """How many of the feature union's last columns are dense (the shape part, when last)."""
    name, part = union.transformer_list[-1]
    return len(part.get_feature_names_out()) if name == "shape" else 0


def _dense_part_last_only(union) -> bool:
    """Whether every part of the feature union but the last is a TF-IDF part, and the last
    the shape part (dense_columns)."""
    return union.transformer_list[-1][0] == "shape" and len(tfidf_parts(union)) == len(union.transformer_list) - 1


def blocks_beside(stacked: sp.csr_matrix, dense: np.ndarray, weight=None, rows: np.ndarray | None = None) -> BlockRows:
    """The BlockRows that BlockRows.split gives of the union's matrix with the shape part
    stacked in (of its `rows`, a mask, if given), from the union's matrix without it
    (`stacked`: entries in its first columns only, the rest the empty place of the shape
    part) and the shape part's features (`dense`). FeatureUnion weighs the part once it is
    sparse, and scipy reads a sparse matrix back as dense by adding each stored value to a
    zero: so here, which makes every -0.0 +0.0."""
    weighted = dense if weight is None else dense * weight
    dense = np.zeros(weighted.shape, dtype=np.float64)
    dense += weighted
    cut = stacked.shape[1] - dense.shape[1]
    sparse = sp.csr_matrix((stacked.data, stacked.indices, stacked.indptr), shape=(stacked.shape[0], cut))
    if rows is not None:
        sparse, dense = sparse[rows], dense[rows]
    return BlockRows(sp.csr_matrix(sparse, dtype=np.float64), np.ascontiguousarray(dense))


def fit_pipeline(records: Sequence[dict], features: dict, classifier: dict, line_weight: str = "none",
                 solver: str = "block", shared: SharedCounts | None = None, rows: np.ndarray | None = None):
    """Fit features on every line (unlabeled lines are context) and the classifier on labeled lines.

    solver: "block" fits a multinomial LogisticRegression with block_logistic.py (the shape
    columns as a dense block: the same objective, about twice as fast); "block-jacobi" the
    same, preconditioned; "sklearn", or a classifier block_logistic cannot fit, uses the
    classifier's own fit. shared, rows: the TF-IDF parts' counts of a larger set of lines
    and which of them the records' lines are, in order (shared_counts.py): the same fit,
    without analysing the lines again."""
    if solver not in SOLVERS:
        raise ValueError(f"fit.solver must be one of {SOLVERS}, got {solver!r}")
    pipeline = build_pipeline(features, classifier)
    table = make_line_table([r["lines"] for r in records])
    labels = np.asarray(flat_labels(records), dtype=object)
    known = np.asarray([lab is not None for lab in labels])
    weights = line_weights(records, line_weight)
    targets = labels[known].astype(str)
    # boilercut's solver takes the shape part as a dense block: the part is kept aside,
    # not stacked into the sparse matrix only to be cut out of it again.
    as_blocks = (solver in BLOCK_SOLVERS and block_solvable(pipeline[-1], len(set(targets)))
                 and _dense_part_last_only(pipeline[0]))
    start = time.perf_counter()
    with shared.used_for(rows) if shared is not None else nullcontext(), \
            dense_parts_aside() if as_blocks else dense_parts_as_csr() as aside:
        feats = pipeline[:-1].fit_transform(table)
    # The parts stacked as CSR keep each part's column order within a row, which for the
    # shifted neighbour blocks is not ascending: sorted, the matrix is the one the COO path
    # gave, entry for entry (the solver's sums then add in the same order).
    feats.sort_indices()
    logger.info("features: %d lines x %d columns in %.1fs", feats.shape[0], feats.shape[1],
                time.perf_counter() - start)
    labeled = None if known.all() else known
    if as_blocks:
        feats = blocks_beside(feats, aside[0], (pipeline[0].transformer_weights or {}).get("shape"), labeled)
    elif labeled is not None:
        feats = feats[labeled]
    start = time.perf_counter()
    fit_classifier(pipeline[-1], feats, targets, weights[known], dense_columns(pipeline[0]), solver)
    logger.info("classifier fitted on %d labeled lines in %.1fs (%d iterations)", int(known.sum()),
                time.perf_counter() - start, int(np.max(pipeline[-1].n_iter_)))
    return pipeline


def fold_members(records: Sequence[dict], folds: int) -> list[list[int]]:
    """The page indices of each fold. The pages of one site (data.group_name: the views of
    an HTML page, a site family) stay in one fold, as they stay in one split: scored by a
    Pipeline that had read their site's other pages, a site's chrome got out-of-fold
    probabilities as sure as training lines get, and the stages after learned to trust them
    (data/README.md, sixth session). Groups are dealt in page order, each to the fold with
    the fewest lines so far."""
    from boilercut.data import group_name

    groups: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        groups.setdefault(group_name(record, i), []).append(i)
    if len(groups) < folds:
        raise ValueError(f"context_stage.folds is {folds}, but the training pages form only {len(groups)} "
                         "groups (sites, or pages without a site): use fewer folds")
    members: list[list[int]] = [[] for _ in range(folds)]
    lines = [0] * folds
    for pages in groups.values():
        k = lines.index(min(lines))
        members[k] += pages
        lines[k] += sum(len(records[i]["lines"]) for i in pages)
    return [sorted(m) for m in members]


def _fold_proba(records: Sequence[dict], held_out: Sequence[dict], features: dict, classifier: dict,
                line_weight: str, classes: Sequence[str], solver: str = "block",
                shared: SharedCounts | None = None, rows: np.ndarray | None = None) -> np.ndarray:
    """Probabilities of the held-out pages' lines from a Pipeline fitted on `records`, in
    `classes` order (a class absent from this fold's training pages gets probability 0)."""
    return _proba_in(fit_pipeline(records, features, classifier, line_weight, solver, shared, rows), held_out,
                     classes)


def _proba_in(pipeline, records: Sequence[dict], classes: Sequence[str]) -> np.ndarray:
    """A fitted Pipeline's probabilities of the records' lines, in `classes` order."""
    proba = LineModel(pipeline=pipeline).score([r["lines"] for r in records]).proba
    out = np.zeros((len(proba), len(classes)))
    out[:, [list(classes).index(str(c)) for c in pipeline.classes_]] = proba
    return out


def fit_line_model(records: Sequence[dict], features: dict, classifier: dict, line_weight: str = "none",
                   context_stage: dict | None = None, n_jobs: int | None = 1, solver: str = "block") -> tuple:
    """(first-stage Pipeline, context stage or None): fit_models without a site stage."""
    return fit_models(records, features, classifier, line_weight, context_stage, n_jobs, solver=solver)[:2]


def fit_models(records: Sequence[dict], features: dict, classifier: dict, line_weight: str = "none",
               context_stage: dict | None = None, n_jobs: int | None = 1,
               site_stage: dict | None = None, solver: str = "block",
               site_only: Sequence[dict] = ()) -> tuple:
    """Fit the first-stage Pipeline, the context stage when context_stage["folds"] >= 2, and
    the site stage when site_stage["enabled"] (it needs the context stage).

    The context stage learns from out-of-fold probabilities: pages are dealt into `folds`
    groups, and each group's lines are scored by a Pipeline fitted on the other groups.
    The fold Pipelines and the final one (on every page) are independent fits, run in
    `n_jobs` processes, this one among them (fit_processes.py). The site stage
    (site_stage.py) learns from the context stage's probabilities of those out-of-fold
    probabilities, on the pages whose site (`site` and `view` fields) has
    site_stage["min_site_pages"] or more training pages, and from the `site_only` pages:
    pages the first two stages never see, scored by the final ones, so that their
    probabilities are out-of-sample as a new site's are. Returns
    (pipeline, context stage or None, site stage or None).
    """
    settings = dict(context_stage or {})
    folds = int(settings.pop("folds", 0) or 0)
    fold_by = settings.pop("fold_by", "page")
    if fold_by not in ("page", "site"):
        raise ValueError(f"context_stage.fold_by must be page or site, got {fold_by!r}")
    sites = dict(site_stage or {})
    use_sites = bool(sites.pop("enabled", False))
    if use_sites and folds == 0:
        raise ValueError("site_stage.enabled needs the context stage (context_stage.folds >= 2); "
                         "pass site_stage.enabled=false")
    if folds == 0:
        return fit_pipeline(records, features, classifier, line_weight, solver), None, None
    if folds < 2 or folds > len(records):
        raise ValueError(f"context_stage.folds must be 0 (off) or 2..{len(records)} "
                         f"(the number of training pages), got {folds}")
    stage = ContextStage(**settings)
    stage.check_params()  # before minutes of fitting, not after
    labels = flat_labels(records)
    classes = sorted({lab for lab in labels if lab is not None})
    members = fold_members(records, folds) if fold_by == "site" else \
        [list(range(k, len(records), folds)) for k in range(folds)]  # round-robin: k, k + folds, ...
    processes = min(effective_n_jobs(n_jobs), folds + 1)  # n_jobs as joblib reads it: -1 = every core
    start = time.perf_counter()
    with FitProcesses(processes, imports=[__name__]) as pool:  # its workers start while the lines are counted
        # Every fit's TF-IDF parts read their counts from one pass over the lines.
        shared = count_parts(tfidf_parts(build_pipeline(features, classifier)[0]),
                             make_line_table([r["lines"] for r in records]),
                             pool.submit if pool.has_workers else None)
        logger.info("training lines counted for the TF-IDF parts in %.1fs", time.perf_counter() - start)
        first_line = np.cumsum([0] + [len(r["lines"]) for r in records])

        def rows_of(pages: list[int]) -> np.ndarray:
            return np.concatenate([np.arange(first_line[i], first_line[i + 1]) for i in pages] or [[]])

        tasks = [(fit_pipeline, (records, features, classifier, line_weight, solver, shared,
                                 np.arange(first_line[-1])))]
        for k in range(folds):
            trained = [i for j in range(folds) if j != k for i in members[j]]
            tasks.append((_fold_proba, ([records[i] for i in trained], [records[i] for i in members[k]],
                                        features, classifier, line_weight, classes, solver, shared,
                                        rows_of(trained))))
        logger.info("fitting %d fold Pipelines and the final one in %d process(es)", folds, processes)
        # A fit's cost grows with its lines (the final one, on every page, is the longest).
        costs = [len(task[1][-1]) for task in tasks]
        results = pool.run(tasks, costs, on_done=elapsed_logger("first stage", len(tasks), start))
    pipeline, *fold_probas = results
    logger.info("first stage fitted in %.1fs", time.perf_counter() - start)
    by_page = [None] * len(records)  # back to page order
    for indices, proba in zip(members, fold_probas):
        sizes = np.cumsum([len(records[i]["lines"]) for i in indices])[:-1]
        for i, part in zip(indices, np.split(proba, sizes)):
            by_page[i] = part
    page = np.repeat(np.arange(len(records)), [len(r["lines"]) for r in records])
    weights = line_weights(records, line_weight)
    stage.fit(np.vstack(by_page), page, labels, classes, sample_weight=weights)
    if not use_sites:
        return pipeline, stage, None
    min_pages = int(sites.pop("min_site_pages", MIN_SITE_PAGES))
    sites.pop("fit_on", None)  # refit_site_stage's
    site_records = list(records) + list(site_only)
    if site_only:
        by_page = by_page + [_proba_in(pipeline, site_only, classes)]
        page = np.repeat(np.arange(len(site_records)), [len(r["lines"]) for r in site_records])
        labels, weights = flat_labels(site_records), line_weights(site_records, line_weight)
    repeats = records_repeats(site_records, labeled_site, min_pages)
    site = SiteStage.fit(stage.predict_proba(np.vstack(by_page), page), [len(r["lines"]) for r in site_records],
                         repeats, labels, classes, sample_weight=weights, min_site_pages=min_pages, **sites)
    logger.info("site stage fitted on %d pages with a site signal%s", sum(r is not None for r in repeats),
                "" if site is not None else ": too few labeled lines, no site stage")
    return pipeline, stage, site


def refit_site_stage(model: LineModel, records: Sequence[dict], site_stage: dict,
                     line_weight: str = "none") -> SiteStage | None:
    """A site stage fitted on `records`, pages the model's first two stages never saw
    (the validation pages), as those stages score them: the probabilities of a new
    site's pages, which is what the stage corrects in use. The stage fitted on the
    training pages' out-of-fold probabilities learned less from the counts (data/README.md,
    sixth session)."""
    sites = {k: v for k, v in site_stage.items() if k not in ("enabled", "fit_on", "extra_files")}
    min_pages = int(sites.pop("min_site_pages", MIN_SITE_PAGES))
    scored = model.score([r["lines"] for r in records])  # no counts: the context stage's probabilities
    repeats = records_repeats(records, labeled_site, min_pages)
    return SiteStage.fit(scored.proba, [len(r["lines"]) for r in records], repeats, flat_labels(records),
                         scored.class_names, sample_weight=line_weights(records, line_weight),
                         min_site_pages=min_pages, **sites)


def score_records(model: LineModel, records: Sequence[dict], site_counts: bool = True) -> dict:
    """Per line: gold label, gold keep (None when unlabeled), predicted label, keep score, words.
    A model with a site stage reads the records' site repeats (the records being the
    corpus) unless site_counts is False."""
    pages = [r["lines"] for r in records]
    repeats = None
    if model.site_stage is not None and site_counts:
        repeats = records_repeats(records, labeled_site, model.site_stage.min_site_pages)
    scored = model.score(pages, repeats=repeats)
    gold = flat_labels(records)
    return {
        "gold": gold,
        "gold_keep": [None if g is None else g in model.keep_labels for g in gold],
        "pred": list(scored.labels),
        "score": scored.keep,
        "words": scored.words.tolist(),
        "page": np.repeat(np.arange(len(pages)), [len(p) for p in pages]),
    }


def evaluate_scored(scored: dict, threshold: float, labels: Sequence[str] | None = None,
                    max_content_loss: float = 0.01) -> dict:
    """Keep-decision metrics at `threshold`, removal at the loss target, and fine-label metrics
    when the gold labels are the model's own (not a binary content/boilerplate set)."""
    keep = scored["score"] >= threshold
    out = {"threshold": threshold, **keep_metrics(scored["gold_keep"], keep, scored["words"])}
    out[removal_key(max_content_loss)] = removal_at_loss(
        scored["gold_keep"], scored["score"], scored["words"], max_content_loss)
    gold_set = {g for g in scored["gold"] if g is not None}
    if labels is not None and gold_set <= set(labels):
        out["classes"] = class_metrics(scored["gold"], scored["pred"], labels)
    return out


def pick_threshold(scored: dict, max_content_loss: float, objective: str = "removal") -> float:
    return choose_threshold(scored["gold_keep"], scored["score"], scored["words"], max_content_loss, objective)


def fit_operating_points(model: LineModel, validation: Sequence[dict], validation_scored: dict,
                         points: dict, auto: dict | None, default: str) -> OperatingPoints:
    """The model's named thresholds: "balanced" is model.threshold; each entry of `points`
    ({name: {objective, max_content_loss}}) is chosen on the validation lines; `auto`
    ({style: point name}, or None) adds the per-page choice, with a page-style detector
    fitted on the validation pages' `style` field and their scores (validation_scored,
    score_records of those pages: out of sample, as the scores of pages in use are)."""
    thresholds = {BALANCED: float(model.threshold)}
    for name, spec in points.items():
        thresholds[name] = pick_threshold(validation_scored, float(spec["max_content_loss"]), spec["objective"])
    style = None
    if auto:
        bounds = np.cumsum([len(r["lines"]) for r in validation])[:-1]
        scores = np.split(np.asarray(validation_scored["score"]), bounds) if len(validation) else []
        styled = [i for i, r in enumerate(validation) if r.get("style") in STYLES]
        if len({validation[i]["style"] for i in styled}) == len(STYLES):
            style = PageStyle.fit([validation[i]["lines"] for i in styled], [scores[i] for i in styled],
                                  [validation[i]["style"] for i in styled])
        else:
            # Data of one kind of text (or without the field) cannot teach the detector:
            # every page then gets the same point, the default or "balanced".
            logger.warning("no auto operating point: it needs training pages of both styles %s "
                           "in their 'style' field", STYLES)
            auto = None
            default = BALANCED if default == AUTO else default
    return OperatingPoints(thresholds, default=default, auto=dict(auto or {}), page_style=style)
