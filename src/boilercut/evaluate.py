"""Score a trained model and baseline rules on labeled pages; write a report folder.

    boilercut evaluate                                            # test split of the model's data
    boilercut evaluate 'eval.files=[../shared/realweb/dev-raw.jsonl.gz]'
    boilercut evaluate eval.threshold=0.3 eval.justext=false
    boilercut evaluate --help                                     # every key, with its comment

`python -m boilercut.evaluate` runs the same command. (There is no top-level `evaluate`
module: that name belongs to HuggingFace's evaluate package, which most ML environments have.)

Prints the side-by-side table (boilercut, keep-all, C4 rule, RefinedWeb-style rule,
jusText) and writes metrics.json, report.md, tradeoff.png and confusion.png to
eval.report_dir (under outputs/evaluate/ by default).
"""
from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from boilercut.config_help import run_hydra_command
from boilercut.configs import CONF_DIR
from boilercut.data import DataError, load_records, test_split_of, validate_records
from boilercut.evaluation import evaluate
from boilercut.persist import ModelFileError, load_model
from boilercut.report import setting, write_report
from boilercut.tables import class_table, keep_table


def eval_records(cfg: DictConfig, model) -> tuple[list[dict], str]:
    """The labeled pages to score: given files, or the test split the model was trained with."""
    if cfg.eval.files:
        files = [str(Path(f).expanduser().resolve()) for f in cfg.eval.files]
        records = load_records(files, cfg.eval.cache_dir)
        validate_records(records, allow_empty_lines=True, duplicate_pages="warn")
        return records, ", ".join(Path(f).name for f in files)
    return test_split_of(model.metadata.get("config"), cfg.eval.cache_dir)


def run(cfg: DictConfig) -> dict:
    e = cfg.eval
    if e.threshold is not None and not 0 <= float(e.threshold) <= 1:
        raise ValueError(f"eval.threshold must be in [0, 1], got {e.threshold}")
    if type(e.trust_model_file) is not bool:  # YAML true or false, not a string such as "no"
        raise ValueError(f"eval.trust_model_file must be true or false, got {e.trust_model_file!r}")
    model = load_model(e.model_path, trust_model_file=e.trust_model_file)
    records, what = eval_records(cfg, model)
    result = evaluate(model, records, e.threshold, float(e.max_content_loss), list(e.breakdown_by),
                      bool(e.justext), int(e.worst_pages), bool(e.progress), keep=e.keep)
    folder = write_report(result, e.report_dir, title=f"boilercut on {what}")
    print(f"{what}: {result['pages']} pages, {setting(result)}")
    print(keep_table(result["methods"]))
    if "classes" in result:
        print(class_table(result["classes"]))
    print(f"report: {folder}")
    return result


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="evaluate")  # absolute: see train.py
def main(cfg: DictConfig) -> None:
    try:
        run(cfg)
    except ModelFileError as err:
        print(f"evaluate: error: {err}", file=sys.stderr)
        sys.exit(4)
    except (DataError, ValueError, OSError) as err:
        print(f"evaluate: error: {err}", file=sys.stderr)
        sys.exit(2)


def command(prog: str) -> None:
    """Run `evaluate` as a program with the arguments in sys.argv; prog: how it was called."""
    run_hydra_command("evaluate", main, prog, __doc__)


if __name__ == "__main__":
    command("python -m boilercut.evaluate")
