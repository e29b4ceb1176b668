"""How far site counts can take this model on realweb: the site stage against corrections
fitted on realweb's own labels, and against an oracle tuned on the answers.

    python benchmarks/site_stage_ceiling.py                 # models/boilercut.joblib (about 1 min)
    python benchmarks/site_stage_ceiling.py --model m.joblib --sets realweb/dev-raw

Issue 14 asks, on pages of sites with 3+ pages, for realweb dev-raw word F1 >= 0.93 with
no more content lost than the model alone, and realweb dev-fineweb removed @1% up by 5
points. This script asks whether any use of the site counts beside this model's keep score
gets there. Rows, each scored on the same lines (pages of sites with MIN_SITE_PAGES+
pages; word F1 and content lost at the model's own per-line thresholds):
- model: the keep score alone;
- site stage: the model scoring with site counts (what `--sites` runs);
- fitted, site stage's form: keep logit + w . site features + b, the site stage's
  correction (site_stage.site_features), fitted by logistic regression on the labels of the
  set's other half of sites (sites dealt in two halves by in_domain_ceiling.half_of, each
  half scored by the fit on the other): what realweb's own labels would teach that stage;
- fitted, with interactions: the same plus each feature times the keep logit, the logit
  and its magnitude, which lets the counts reweigh the model's own confidence;
- oracle: one keep threshold per bucket of (repeat count x the model's own decision), 16
  thresholds chosen on the lines being scored, for the best word F1 at a content loss no
  higher than the model's (a Lagrangian sweep over the lost/removed frontier). Tuned on
  the answers: an upper bound of such rules, not a model.
This is a diagnostic; nothing it writes goes into the project. Needs ../shared (absent:
the script says so and exits 2).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SETS = ("realweb/dev-raw", "realweb/dev-fineweb")
L2 = 1e-4  # a light penalty: the fits have 7 to 21 weights and thousands of lines
# Buckets of a line's repeat count for the oracle: 0, 1, 2, 3-4 other pages, then the
# share of the site's other pages holding it.
SHARE_EDGES = (0.25, 0.5, 0.8)


def fit_offset_logistic(offset: np.ndarray, features: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Weights (features..., bias) minimising the mean log loss of sigmoid(offset + X.w + b)."""
    from scipy.optimize import minimize

    x = np.column_stack([features, np.ones(len(features))])

    def loss(beta):
        z = offset + x @ beta
        value = np.mean(np.where(gold, np.logaddexp(0, -z), np.logaddexp(0, z))) + L2 * beta @ beta
        grad = x.T @ (1 / (1 + np.exp(-z)) - gold) / len(z) + 2 * L2 * beta
        return value, grad

    return minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x


def cross_fitted(logit, features, gold, labeled, half, signal) -> np.ndarray:
    """Keep scores of the signal lines, each half scored by the fit on the other half."""
    out = np.zeros(len(logit))
    x = np.column_stack([features, np.ones(len(features))])
    for scored_half in (0, 1):
        train = signal & labeled & (half != scored_half)
        beta = fit_offset_logistic(logit[train], features[train], gold[train])
        rows = signal & (half == scored_half)
        out[rows] = 1 / (1 + np.exp(-(logit[rows] + x[rows] @ beta)))
    return out


def oracle_keep(score, keep, other, share, gold, words, max_lost) -> np.ndarray:
    """The oracle's keep decision on labeled signal lines: per bucket,
    drop the lowest-scored lines while boilerplate words gained beat lam x content words
    lost; the lam whose decision has the best word F1 within max_lost wins."""
    bucket = np.select([other == 0, other == 1, other == 2, other <= 4] +
                       [share < edge for edge in SHARE_EDGES] + [share >= SHARE_EDGES[-1]],
                       list(range(4 + len(SHARE_EDGES) + 1))) * 2 + keep
    orders = [(m, np.argsort(score[m], kind="stable")) for m in (bucket == b for b in np.unique(bucket))]
    best_f1, best_keep = -1.0, keep
    for lam in np.concatenate([np.linspace(0.05, 1, 20), np.linspace(1, 20, 60), np.geomspace(20, 2000, 30)]):
        decision = np.ones(len(score), dtype=bool)
        for m, order in orders:
            w, g = words[m][order], gold[m][order]
            gain = np.concatenate([[0.0], np.cumsum(np.where(g, -lam * w, w))])
            decision[np.flatnonzero(m)[order[:int(np.argmax(gain))]]] = False
        kept, lost, wrong = (gold & decision) @ words, (gold & ~decision) @ words, (~gold & decision) @ words
        f1, share_lost = 2 * kept / (2 * kept + lost + wrong), lost / (kept + lost)
        if share_lost <= max_lost + 1e-12 and f1 > best_f1:
            best_f1, best_keep = f1, decision
    return best_keep


def measure(model, path: Path) -> dict[str, dict]:
    from boilercut.metrics import keep_metrics
    from boilercut.scoreboard import ScoredSet, read_jsonl
    from boilercut.site_repeats import records_repeats, repeat_features
    from boilercut.site_stage import site_features
    from boilercut.page_rows import PageRows
    from in_domain_ceiling import half_of

    records = read_jsonl(path)
    pages = [r["lines"] for r in records]
    sizes = [len(p) for p in pages]
    repeats = records_repeats(records, site_of=lambda r: r.get("site") or None)
    signal = np.repeat([rep is not None for rep in repeats], sizes)
    half = np.repeat([half_of(r.get("site") or "", 0) for r in records], sizes)
    counts = np.vstack([repeat_features(rep) if rep is not None else np.zeros((n, 4))
                        for rep, n in zip(repeats, sizes)])
    features = site_features(counts, PageRows(np.repeat(np.arange(len(pages)), sizes)))
    other = np.concatenate([rep.other if rep is not None else np.zeros(n, dtype=np.int64)
                            for rep, n in zip(repeats, sizes)])

    scored = model.score(pages)
    thresholds = model.line_thresholds(pages, scored)
    with_sites = model.score(pages, repeats=repeats)
    scored_set = ScoredSet(records, scored.keep, model.keep_labels)
    gold, labeled = scored_set.gold == 1, scored_set.gold >= 0
    p = np.clip(scored.keep, 1e-9, 1 - 1e-9)
    logit = np.log(p) - np.log1p(-p)
    interactions = np.column_stack([features, features * logit[:, None], logit, np.abs(logit)])

    rows = {"model": (scored.keep, thresholds)}
    if getattr(model, "site_stage", None) is not None:
        rows["site stage"] = (with_sites.keep, model.line_thresholds(pages, with_sites))
    rows["fitted, site stage's form"] = (
        np.where(signal, cross_fitted(logit, features, gold, labeled, half, signal), scored.keep), thresholds)
    rows["fitted, with interactions"] = (
        np.where(signal, cross_fitted(logit, interactions, gold, labeled, half, signal), scored.keep), thresholds)

    results = {}
    for name, (score, line_thresholds) in rows.items():
        scored_set.score = np.asarray(score, dtype=np.float64)
        results[name] = scored_set.metrics(score >= line_thresholds, signal)
    base = results["model"]
    judged = signal & labeled
    share = counts[:, 0]
    decision = oracle_keep(scored.keep[judged], (scored.keep >= thresholds)[judged], other[judged],
                                 share[judged], gold[judged], scored_set.words[judged], base["content_words_lost"])
    results["oracle (tuned on the answers)"] = keep_metrics(gold[judged].tolist(), decision, scored_set.words[judged])
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="model file (default models/boilercut.joblib)")
    ap.add_argument("--sets", nargs="+", default=list(SETS), help=f"sets under ../shared (default {' '.join(SETS)})")
    args = ap.parse_args(argv)
    missing = [name for name in args.sets if not (SHARED / f"{name}.jsonl.gz").is_file()]
    if missing:
        print(f"site_stage_ceiling: {SHARED / missing[0]}.jsonl.gz is absent (it lives in ../shared); "
              "nothing to measure", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO / "benchmarks"))
    from boilercut.persist import ModelFileError, load_model
    try:
        model = load_model(args.model)
    except ModelFileError as err:
        print(f"site_stage_ceiling: error: {err}", file=sys.stderr)
        return 2
    print("| set (sites with 3+ pages) | row | word F1 | content lost | removed @1% | best F1, one threshold |\n"
          "|---|---|---|---|---|---|")
    for name in args.sets:
        print(f"site_stage_ceiling: scoring {name}", file=sys.stderr, flush=True)
        for row, m in measure(model, SHARED / f"{name}.jsonl.gz").items():
            extra = (f"{m['removed_at_1pct']:.3f} | {m['best_f1']:.3f}" if "removed_at_1pct" in m
                     else "n/a | n/a")
            print(f"| {name} | {row} | {m['word_f1']:.3f} | {100 * m['content_words_lost']:.1f}% | {extra} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
