"""Train the boilercut line classifier on labeled pages and save it as the default model.

    boilercut train                                   # bundled pages -> the default model
    boilercut train model.C=2 features.context_window=1
    boilercut train experiment=no_context             # a named variant from conf/experiment/
    boilercut train -m model.C=1,4,16                 # a sweep; each job saves into its own folder
    boilercut train 'data.extra_eval_files=[../shared/realweb/dev-raw.jsonl.gz]'
    boilercut train data.adapt=labels.jsonl           # + pages labeled with boilercut label
    boilercut train --help                            # every config group and key, with its comment

`python -m train` and `python -m boilercut.train` run the same command. Reads the config
in conf/, splits pages (never lines) into train/validation/test, fits the Pipeline, picks
the keep threshold on validation, evaluates once on test, and writes the model plus a
metadata JSON. The previous model is replaced only on success.
"""
from __future__ import annotations

import logging
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from boilercut.adapt import adapt_pages
from boilercut.commands import signals_held
from boilercut.config_help import run_hydra_command
from boilercut.configs import CONF_DIR
from boilercut.data import DataError, file_fingerprint, load_records, split_by_page, validate_records
from boilercut.metrics import THRESHOLD_OBJECTIVES, removal_key
from boilercut.model import LineModel, check_long_line_words
from boilercut.persist import ModelFileError, load_model, save_model
from boilercut.tables import class_table, keep_table
from boilercut.training import (LINE_WEIGHTS, check_split_classes, check_trainable, evaluate_scored,
                                 SOLVERS, fit_models, fit_operating_points, pick_threshold, refit_site_stage,
                                 score_records)

logger = logging.getLogger("train")


def check_config(cfg: DictConfig) -> None:
    """Reject bad values before any data is read."""
    t = cfg.threshold
    if not 0.0 <= float(t.max_content_loss) <= 1.0:
        raise ValueError(f"threshold.max_content_loss must be in [0, 1], got {t.max_content_loss}")
    if t.fixed is not None and not 0.0 <= float(t.fixed) <= 1.0:
        raise ValueError(f"threshold.fixed must be in [0, 1] or null, got {t.fixed}")
    if t.objective not in THRESHOLD_OBJECTIVES:
        raise ValueError(f"threshold.objective must be one of {THRESHOLD_OBJECTIVES}, got {t.objective!r}")
    if not 0.0 <= float(cfg.output.removal_budget) <= 1.0:
        raise ValueError(f"output.removal_budget must be in [0, 1], got {cfg.output.removal_budget}")
    check_long_line_words(cfg.guard.long_line_words, "guard.long_line_words")
    if cfg.fit.line_weight not in LINE_WEIGHTS:
        raise ValueError(f"fit.line_weight must be one of {LINE_WEIGHTS}, got {cfg.fit.line_weight!r}")
    if cfg.fit.get("solver", "block") not in SOLVERS:
        raise ValueError(f"fit.solver must be one of {SOLVERS}, got {cfg.fit.solver!r}")
    if "C" in cfg.model and not float(cfg.model.C) > 0:
        raise ValueError(f"model.C must be > 0, got {cfg.model.C}")
    split = list(cfg.data.split)
    if len(split) != 3 or any(s < 0 for s in split) or abs(sum(split) - 1) > 1e-6 or split[0] == 0:
        raise ValueError(f"data.split must be three shares >= 0 summing to 1 with a train share > 0, got {split}")
    if cfg.data.get("adapt") is not None:  # before minutes of training, not after
        if not float(cfg.data.adapt_weight) > 0:
            raise ValueError(f"data.adapt_weight must be > 0, got {cfg.data.adapt_weight}")
        if not 0 <= float(cfg.data.adapt_holdout) < 1:
            raise ValueError(f"data.adapt_holdout must be in [0, 1), got {cfg.data.adapt_holdout}")
    if not cfg.data.keep_labels:
        raise ValueError("data.keep_labels is empty: nothing would be kept")
    if cfg.data.labels is not None and not set(cfg.data.keep_labels) <= set(cfg.data.labels):
        raise ValueError(f"data.keep_labels {list(cfg.data.keep_labels)} not all in data.labels {list(cfg.data.labels)}")


def load_splits(data: DictConfig) -> tuple[dict[str, list[dict]], list[str]]:
    """Train/validation/test records, from explicit files or a seeded split by page."""
    labels = list(data.labels) if data.labels is not None else None
    explicit = [data.train_files, data.validation_files, data.test_files]
    if any(f is not None for f in explicit):
        if any(f is None for f in explicit):
            raise ValueError("give all of data.train_files, data.validation_files, data.test_files, or none")
        splits = {name: load_records(list(files), data.cache_dir)
                  for name, files in zip(("train", "validation", "test"), explicit)}
        files = [f for group in explicit for f in group]
        validate_records([r for part in splits.values() for r in part], labels)
    else:
        files = list(data.files)
        records = load_records(files, data.cache_dir)
        validate_records(records, labels)
        parts = split_by_page(records, list(data.split), int(data.seed))
        splits = dict(zip(("train", "validation", "test"), parts))
    return splits, files


def add_adapt_pages(data: DictConfig, splits: dict[str, list[dict]]) -> list[dict]:
    """data.adapt: pages labeled for a corpus join the training split, weighted by
    data.adapt_weight; returns the share held out (data.adapt_holdout) to report on."""
    if data.get("adapt") is None:
        return []
    records = load_records([data.adapt], data.cache_dir)
    trained, held_out = adapt_pages(records, float(data.adapt_weight), float(data.adapt_holdout), int(data.seed))
    validate_records(trained + held_out, list(data.labels) if data.labels is not None else None)
    splits["train"] = splits["train"] + trained
    logger.info("adapt: %d labeled pages trained (weight %s), %d held out", len(trained), data.adapt_weight,
                len(held_out))
    return held_out


def adapt_report(held_out: list[dict], old_model_path: Path, model: LineModel, labels, loss: float) -> dict:
    """The held-out adapt pages scored by the model being replaced (when there is one) and the new one."""
    if not held_out:
        return {}
    out = {}
    try:
        old = load_model(old_model_path)
        out["adapt held-out: before"] = evaluate_scored(score_records(old, held_out), old.threshold, labels, loss)
    except (ModelFileError, ValueError) as err:
        logger.warning("adapt: no model to compare with (%s)", err)
    out["adapt held-out: after"] = evaluate_scored(score_records(model, held_out), model.threshold, labels, loss)
    return out


def train(cfg: DictConfig, model_path: str | Path | None = None) -> dict:
    """Train, evaluate and save; returns the metadata written beside the model."""
    from threadpoolctl import threadpool_limits

    # One BLAS thread in this process. Training's parallelism is fit.n_jobs processes
    # (one BLAS thread each, as joblib gives its workers); here only small dense products
    # remain (the context and site stages, scoring), which a second thread does not speed
    # up, and whose waiting threads, on a machine busy with other work, made the context
    # stage's lbfgs fit 20 times slower (benchmarks/NOTES.md).
    with threadpool_limits(limits=1, user_api="blas"):
        return _train(cfg, model_path)


def _train(cfg: DictConfig, model_path: str | Path | None = None) -> dict:
    check_config(cfg)
    started = time.perf_counter()
    splits, files = load_splits(cfg.data)
    adapt_held_out = add_adapt_pages(cfg.data, splits)
    keep_labels = tuple(cfg.data.keep_labels)
    present = check_trainable(splits["train"], keep_labels)
    check_split_classes(splits)
    labels = list(cfg.data.labels) if cfg.data.labels is not None else present
    logger.info("pages: %s", {k: len(v) for k, v in splits.items()})
    features = OmegaConf.to_container(cfg.features, resolve=True)
    classifier = OmegaConf.to_container(cfg.model, resolve=True)
    context_stage = OmegaConf.to_container(cfg.context_stage, resolve=True)
    site_stage = OmegaConf.to_container(cfg.site_stage, resolve=True)
    extra_files = site_stage.pop("extra_files", None) or []  # not a SiteStage.fit argument
    if site_stage.get("fit_on", "train") not in ("train", "validation"):
        raise ValueError(f"site_stage.fit_on must be train or validation, got {site_stage['fit_on']!r}")
    site_only = load_records(extra_files, cfg.data.cache_dir) if extra_files and site_stage.get("enabled") else []
    pipeline, stage, sites = fit_models(splits["train"], features, classifier, cfg.fit.line_weight,
                                        context_stage, cfg.fit.n_jobs, site_stage, cfg.fit.get("solver", "block"),
                                        site_only)
    train_seconds = time.perf_counter() - started
    model = LineModel(pipeline=pipeline, keep_labels=keep_labels, context_stage=stage,
                      long_line_words=cfg.guard.long_line_words, site_stage=sites)

    metrics = {}
    loss = float(cfg.output.removal_budget)
    if splits["validation"]:
        # The thresholds, operating points and page-style detector are those of the path
        # without site counts unless threshold.with_site_counts (data/README.md, sixth session).
        val = score_records(model, splits["validation"], bool(cfg.threshold.get("with_site_counts", True)))
        model.threshold = (float(cfg.threshold.fixed) if cfg.threshold.fixed is not None
                           else pick_threshold(val, float(cfg.threshold.max_content_loss), cfg.threshold.objective))
        metrics["validation"] = evaluate_scored(val, model.threshold, labels, loss)
    else:
        model.threshold = float(cfg.threshold.fixed) if cfg.threshold.fixed is not None else 0.5
        logger.warning("no validation pages: keep threshold set to %s without a search", model.threshold)
    if splits["validation"]:
        op = OmegaConf.to_container(cfg.operating_points, resolve=True)
        model.points = fit_operating_points(model, splits["validation"], val, op["points"] or {}, op["auto"],
                                            op["default"])
        logger.info("operating points: %s (default %s)",
                    ", ".join(f"{k} {v:.3f}" for k, v in model.points.thresholds.items()), model.points.default)
    if site_stage.get("enabled") and site_stage.get("fit_on") == "validation" and splits["validation"]:
        # After the thresholds: they stay those chosen with the stage fitted on the training
        # pages, so the path without counts is the same as with fit_on=train. The
        # extra_files pages are, like the validation pages, new to the first two stages.
        refit = refit_site_stage(model, list(splits["validation"]) + list(site_only), site_stage,
                                 cfg.fit.line_weight)
        if refit is not None:
            model.site_stage = refit
            logger.info("site stage refitted on the validation pages")
    if splits["test"]:
        metrics["test"] = evaluate_scored(score_records(model, splits["test"]), model.threshold, labels, loss)
    for extra in cfg.data.extra_eval_files:
        records = load_records([extra], cfg.data.cache_dir)
        metrics[f"extra:{Path(extra).name}"] = evaluate_scored(
            score_records(model, records), model.threshold, None, loss)

    path = Path(model_path or cfg.output.model_path)
    metrics.update(adapt_report(adapt_held_out, path, model, labels, loss))
    model.metadata = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": OmegaConf.to_container(cfg, resolve=True),
        "metrics": metrics,
        "pages": {k: len(v) for k, v in splits.items()},
        "data": file_fingerprint(files + ([cfg.data.adapt] if cfg.data.get("adapt") is not None else [])),
        "train_seconds": round(train_seconds, 2),
        "python": platform.python_version(),
    }
    with signals_held():  # Ctrl-C must not leave a new model beside the old model's metadata
        save_model(model, path)
    meta = dict(model.metadata, threshold=model.threshold, model_path=str(path))
    if cfg.output.report:
        print_report(meta)
    return meta


def print_report(meta: dict) -> None:
    metrics = meta["metrics"]
    print(f"trained in {meta['train_seconds']:.1f}s on {meta['pages']['train']} pages; "
          f"keep threshold {meta['threshold']:.3f}; model: {meta['model_path']}")
    print(keep_table(metrics))
    for split in ("validation", "test"):
        if "classes" in metrics.get(split, {}):
            print(f"\n{split}:\n" + class_table(metrics[split]["classes"]))


# An absolute config path: Hydra reads it the same whether this module runs as __main__
# or is imported by the console script (boilercut.cli).
@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def main(cfg: DictConfig) -> float | None:
    model_path = None
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        # Sweep jobs must not overwrite each other (or the default model).
        model_path = Path(HydraConfig.get().runtime.output_dir) / Path(cfg.output.model_path).name
    try:
        meta = train(cfg, model_path)
    except (DataError, ValueError, TypeError, OSError) as err:
        print(f"train: error: {err}", file=sys.stderr)
        sys.exit(2)
    val = meta["metrics"].get("validation", {})
    return val.get(removal_key(float(cfg.output.removal_budget)))  # what a sweeper maximises


def command(prog: str) -> None:
    """Run `train` as a program with the arguments in sys.argv; prog: how it was called."""
    run_hydra_command("train", main, prog, __doc__)


if __name__ == "__main__":
    command("python -m boilercut.train")
