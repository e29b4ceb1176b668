"""The scoreboard: a model on every set it is judged on, at its default setting.

    python benchmarks/accuracy.py                              # models/boilercut.joblib
    python benchmarks/accuracy.py --model m.joblib --keep conservative
    python benchmarks/accuracy.py --threshold 0.2 --lost 20    # + the 20 longest content lines lost per set
    python benchmarks/accuracy.py --json scoreboard.json       # also write every figure as JSON
    python benchmarks/accuracy.py --site-repeats               # a site stage reads each set's site repeats

Sets: the test split of the model's own data (macro-F1 and per-class F1 too), the four
real development sets under --shared (realweb and wcxb, raw and fineweb views; a set
that is absent is skipped, so a clone without ../shared scores the test split only) and
the two real example pages (../shared/examples). Columns: word F1 with its 95% interval
from a bootstrap over sites, content words lost, boilerplate words removed, removed @1%
loss with its interval, keep-all's word F1, and the best word F1 that any one threshold
gives (when it is keep-all's, no threshold beats keeping every line). Breakdowns by page_type (wcxb), source
(realweb) and site_kind (the test split) follow the main table.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"
BREAKDOWN_FIELDS = ("page_type", "site_kind", "source")  # the first that every record of a set has


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def ci(pair) -> str:
    return "" if pair is None else f" [{pair[0]:.3f}, {pair[1]:.3f}]"


def row(name: str, m: dict) -> str:
    return (f"| {name} | {m['pages']} | {m['lines']} | {m['word_f1']:.3f}{ci(m.get('word_f1_ci'))} | "
            f"{pct(m['content_words_lost'])} | {pct(m['boilerplate_words_removed'])} | "
            f"{m['removed_at_1pct']:.3f}{ci(m.get('removed_at_1pct_ci'))} | {m['keep_all_f1']:.3f} | "
            f"{m['best_f1']:.3f} |")


HEADER = ("| set | pages | lines | word F1 [95% CI] | content lost | boilerplate removed | "
          "removed @1% loss [95% CI] | keep-all F1 | best F1, one threshold |\n|---|---|---|---|---|---|---|---|---|")


def judged_sets(model, shared: Path) -> dict[str, list[dict]]:
    """The sets a model is judged on: its own data's test split, then each real set under
    `shared` that exists (a warning on stderr for each one absent)."""
    from boilercut.data import test_split_of
    from boilercut.scoreboard import REAL_SETS, read_jsonl

    sets = {"data test split": test_split_of(model.metadata.get("config"))[0]}
    for name in REAL_SETS:
        path = shared / f"{name}.jsonl.gz"
        if path.is_file():
            sets[name] = read_jsonl(path)
        else:
            print(f"accuracy: {path} is absent: skipped", file=sys.stderr)
    return sets


def score_set(model, records: list[dict], keep_point: str | None = None, threshold: float | None = None,
              site_repeats: bool = False):
    """(ScoredSet, keep decision per line, predicted label per line) of `model` on `records`
    at an operating point or one threshold."""
    from boilercut.scoreboard import ScoredSet
    from boilercut.site_repeats import labeled_site, records_repeats

    pages = [r["lines"] for r in records]
    repeats = None
    if site_repeats and model.site_stage is not None:
        repeats = records_repeats(records, labeled_site, model.site_stage.min_site_pages)
    lines_scored = model.score(pages, repeats=repeats)
    keep = lines_scored.keep >= model.line_thresholds(pages, lines_scored, keep_point, threshold)
    return ScoredSet(records, lines_scored.keep, model.keep_labels), keep, lines_scored.labels


def model_examples(model, shared: Path, keep_point: str | None = None, threshold: float | None = None) -> dict:
    """scoreboard.example_checks of the example pages under `shared`, each page scored alone
    at an operating point or one threshold."""
    from boilercut.scoreboard import example_checks

    def keep_lines(lines):
        lines_scored = model.score([lines])
        return lines_scored.keep >= model.line_thresholds([lines], lines_scored, keep_point, threshold)
    return example_checks(shared / "examples", keep_lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="model file (default models/boilercut.joblib)")
    point = ap.add_mutually_exclusive_group()
    point.add_argument("--threshold", type=float, default=None, help="one keep threshold for every page")
    point.add_argument("--keep", default=None, help="a named operating point of the model (default: its default)")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder holding realweb/, wcxb/, examples/")
    ap.add_argument("--rounds", type=int, default=200, help="bootstrap rounds over sites (0 = no intervals)")
    ap.add_argument("--lost", type=int, default=0, metavar="N", help="print the N longest content lines lost per set")
    ap.add_argument("--no-breakdown", action="store_true", help="only the main table")
    ap.add_argument("--json", type=Path, default=None, help="write every figure to this JSON file")
    ap.add_argument("--site-repeats", action="store_true",
                    help="give a model with a site stage each set's site repeats (pages grouped by their "
                         "`site` field, and `view` where there is one; the whole set is the corpus)")
    args = ap.parse_args(argv)

    from boilercut.data import DataError
    from boilercut.filter import check_threshold
    from boilercut.persist import ModelFileError, load_model
    from boilercut.metrics import class_metrics

    try:
        model = load_model(args.model)
        if args.threshold is not None:
            check_threshold(args.threshold)
        model.check_point(args.keep)
        sets = judged_sets(model, args.shared)
    except (ModelFileError, DataError, ValueError) as err:
        print(f"accuracy: error: {err}", file=sys.stderr)
        return 4 if isinstance(err, ModelFileError) else 2

    results, scored = {}, {}
    for name, records in sets.items():
        print(f"accuracy: scoring {name} ({len(records)} pages)", file=sys.stderr, flush=True)
        s, keep, predicted = score_set(model, records, args.keep, args.threshold, args.site_repeats)
        m = {"pages": len(records), "sites": s.n_sites, **s.metrics(keep)}
        if args.rounds:
            m.update(s.bootstrap(keep, args.rounds))
        if name == "data test split":
            m["classes"] = class_metrics(s.labels, list(predicted), model.labels)
        results[name], scored[name] = m, (s, keep)

    print(f"model {args.model or 'models/boilercut.joblib'}; operating point: "
          f"{args.threshold if args.threshold is not None else (args.keep or model.default_point)}")
    print(HEADER)
    for name, m in results.items():
        print(row(name, m))
    classes = results["data test split"]["classes"]
    print("\ndata test split, per class: " + ", ".join(
        f"{lab} F1 {c['f1']:.3f} (recall {c['recall']:.3f})" for lab, c in classes["per_class"].items())
        + f"; macro-F1 {classes['macro_f1']:.3f}")

    examples = model_examples(model, args.shared, args.keep, args.threshold)
    for name, e in examples.items():
        print(f"example {name}: {'PASS' if e['pass'] else 'FAIL'} ({e['content_lines']} of {e['lines']} lines "
              f"are content; content dropped: lines {e['content_dropped'] or '-'}; "
              f"boilerplate kept: lines {e['boilerplate_kept'] or '-'})")

    if not args.no_breakdown:
        for name, (s, keep) in scored.items():
            field = next((f for f in BREAKDOWN_FIELDS if all(r.get(f) for r in s.records)), None)
            if field is None:
                continue
            groups = s.breakdown(keep, field)
            results[name]["by_" + field] = groups
            print(f"\n{name} by {field}\n{HEADER.replace('| set |', f'| {field} |')}")
            for value, g in groups.items():
                print(row(value, g))
    if args.lost:
        for name, (s, keep) in scored.items():
            print(f"\n{name}: the {args.lost} longest content lines lost")
            for score, words, text in s.lost_lines(keep, args.lost):
                print(f"  {score:.2f} {words:5d}w  {text[:150]}")
    if args.json:
        args.json.write_text(json.dumps({"sets": results, "examples": examples}, indent=1, default=float),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
