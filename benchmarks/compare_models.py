"""Two models on every set they are judged on, and how far apart they are, paired.

    python benchmarks/compare_models.py --before models/boilercut.joblib --after new.joblib
    python benchmarks/compare_models.py --before a.joblib --after b.joblib --rounds 1000 --json diff.json

The scoreboard's intervals (accuracy.py) say how much a figure would move with other
sites; two models judged on the same sites move together, so whether one beats the other
is read from the difference, resampled over the same sites for both. For each set
(the test split of the `before` model's data, the four real development sets): word F1,
content lost and removed @1% loss of each model at its default operating point, and the
difference after - before with its 95% interval and the share of resamples where `after`
is not worse. Then the example pages of both.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from accuracy import DEFAULT_SHARED, judged_sets, model_examples, score_set

HEADER = ("| set | word F1 before / after | difference [95% CI] | not worse | content lost before / after | "
          "removed @1% before / after | difference [95% CI] | not worse |\n"
          "|---|---|---|---|---|---|---|---|")


def signed(pair) -> str:
    return f"[{pair[0]:+.3f}, {pair[1]:+.3f}]"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="the model to compare against")
    ap.add_argument("--after", type=Path, required=True, help="the candidate model")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder holding realweb/, wcxb/, examples/")
    ap.add_argument("--rounds", type=int, default=1000, help="paired bootstrap rounds over sites")
    ap.add_argument("--json", type=Path, default=None, help="write every figure to this JSON file")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error(f"--rounds must be at least 1, got {args.rounds}")

    from boilercut.data import DataError
    from boilercut.persist import ModelFileError, load_model
    from boilercut.scoreboard import paired_bootstrap

    try:
        models = {"before": load_model(args.before), "after": load_model(args.after)}
        # The test split of the `before` model's data for both: a candidate trained on other
        # data is judged on the same pages.
        sets = judged_sets(models["before"], args.shared)
    except (ModelFileError, DataError, ValueError) as err:
        print(f"compare_models: error: {err}", file=sys.stderr)
        return 4 if isinstance(err, ModelFileError) else 2

    results = {}
    print(f"before {args.before}; after {args.after}; default operating points; {args.rounds} paired rounds")
    print(HEADER)
    for name, records in sets.items():
        print(f"compare_models: scoring {name} ({len(records)} pages)", file=sys.stderr, flush=True)
        scored = {side: score_set(model, records)[:2] for side, model in models.items()}
        figures = {side: s.metrics(keep) for side, (s, keep) in scored.items()}
        diff = paired_bootstrap(scored["before"], scored["after"], args.rounds)
        results[name] = {"before": figures["before"], "after": figures["after"], "difference": diff}
        b, a = figures["before"], figures["after"]
        print(f"| {name} | {b['word_f1']:.3f} / {a['word_f1']:.3f} | {signed(diff['word_f1']['ci'])} | "
              f"{diff['word_f1']['share_not_worse']:.0%} | "
              f"{b['content_words_lost']:.1%} / {a['content_words_lost']:.1%} | "
              f"{b['removed_at_1pct']:.3f} / {a['removed_at_1pct']:.3f} | "
              f"{signed(diff['removed_at_1pct']['ci'])} | {diff['removed_at_1pct']['share_not_worse']:.0%} |",
              flush=True)

    for side, model in models.items():
        examples = model_examples(model, args.shared)
        results.setdefault("examples", {})[side] = examples
        for name, e in examples.items():
            print(f"example {name}, {side}: {'PASS' if e['pass'] else 'FAIL'} (content dropped: lines "
                  f"{e['content_dropped'] or '-'}; boilerplate kept: lines {e['boilerplate_kept'] or '-'})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
