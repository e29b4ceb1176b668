"""What lines a site repeats are worth: the model, the blunt rule, and the site stage, on
pages of sites with 3+ pages and on the others.

    python benchmarks/site_repeats.py                          # models/boilercut.joblib
    python benchmarks/site_repeats.py --model m.joblib --ks 1,2,3 --json out.json

For each real development set (../shared/realweb and ../shared/wcxb, raw and fineweb;
absent sets are skipped) the whole set is the corpus: pages are grouped by their `site`
field and every line gets the number of other pages of its site holding it
(boilercut.site_repeats). Pages are split into those of sites with at least
MIN_SITE_PAGES pages (the ones that get a signal) and the others. Rows:
- model: the model at its default operating point, without site counts;
- rule k: the same, then every kept line that k or more other pages of the site hold is
  dropped (C4's and CCNet's blunt dedup, per site); for "removed @1%" such lines rank
  below every other line;
- site stage: the model scoring with the site counts (only for a model that has one).
Columns: word F1, content words lost, boilerplate words removed at the operating point,
and boilerplate removed at a content loss of at most 1% (scoreboard.ScoredSet.metrics).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"
HEADER = ("| set | pages | rows | word F1 | content lost | boilerplate removed | removed @1% loss |\n"
          "|---|---|---|---|---|---|---|")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="model file (default models/boilercut.joblib)")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder holding realweb/ and wcxb/")
    ap.add_argument("--ks", default="1,2,3", help="the blunt rule's k values, comma-separated")
    ap.add_argument("--json", type=Path, default=None, help="write every figure to this JSON file")
    args = ap.parse_args(argv)

    from boilercut.persist import ModelFileError, load_model
    from boilercut.scoreboard import REAL_SETS, ScoredSet, read_jsonl
    from boilercut.site_repeats import records_repeats

    try:
        model = load_model(args.model)
        ks = [int(k) for k in args.ks.split(",")]
        if any(k < 1 for k in ks):
            raise ValueError(f"--ks: every k must be at least 1, got {args.ks}")
    except (ModelFileError, ValueError) as err:
        print(f"site_repeats: error: {err}", file=sys.stderr)
        return 2
    has_stage = getattr(model, "site_stage", None) is not None
    results = {}
    print(HEADER)
    for name in REAL_SETS:
        path = args.shared / f"{name}.jsonl.gz"
        if not path.is_file():
            print(f"site_repeats: {path} is absent: skipped", file=sys.stderr)
            continue
        records = read_jsonl(path)
        print(f"site_repeats: scoring {name} ({len(records)} pages)", file=sys.stderr, flush=True)
        pages = [r["lines"] for r in records]
        repeats = records_repeats(records, site_of=lambda r: r.get("site") or None)
        other = np.concatenate([rep.other if rep is not None else np.zeros(len(p), dtype=np.int64)
                                for rep, p in zip(repeats, pages)]) if pages else np.zeros(0)
        signal = np.repeat([rep is not None for rep in repeats], [len(p) for p in pages])
        scored = model.score(pages)
        score = scored.keep
        keep = score >= model.line_thresholds(pages, scored)
        variants = {"model": (score, keep)}
        for k in ks:
            repeated = signal & (other >= k)
            variants[f"rule k={k}"] = (np.where(repeated, score - 2, score), keep & ~repeated)
        if has_stage:
            site_scored = model.score(pages, repeats=repeats)
            site_score = site_scored.keep
            variants["site stage"] = (site_score, site_score >= model.line_thresholds(pages, site_scored))
        scored = ScoredSet(records, score, model.keep_labels)  # counts words once for all rows
        groups = {"sites 3+": signal, "others": ~signal}
        results[name] = {}
        for group, mask in groups.items():
            n_pages = sum(1 for rep in repeats if (rep is not None) == (group == "sites 3+"))
            for variant, (s, k) in variants.items():
                if not mask.any():
                    continue
                scored.score = np.asarray(s, dtype=np.float64)
                m = scored.metrics(k, mask)
                results[name][f"{group} / {variant}"] = {"pages": n_pages, **m}
                print(f"| {name} {group} | {n_pages} | {variant} | {m['word_f1']:.3f} | "
                      f"{100 * m['content_words_lost']:.1f}% | {100 * m['boilerplate_words_removed']:.1f}% | "
                      f"{m['removed_at_1pct']:.3f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
