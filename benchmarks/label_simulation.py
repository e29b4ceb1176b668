"""Does labeling the uncertain pages first pay off? A simulated annotator on wcxb dev-raw.

    python benchmarks/label_simulation.py                       # sizes 10 25 50, 3 random seeds, weight 10
    python benchmarks/label_simulation.py --sizes 25 --weights 5 10 30 --seeds 5
    python benchmarks/label_simulation.py --full-check 25        # + one full `python -m train data.adapt=...`
    python benchmarks/label_simulation.py --sizes 25 --seeds 1 --ceiling   # + full training on the whole pool

The sites of ../shared/wcxb/dev-raw.jsonl.gz are dealt in two halves (data.split_by_page,
--split-seed): the annotator labels pages of the first half, the adapted models are
judged on every page of the other (word F1 of the content kept at the model's threshold,
null lines ignored), so no site is both labeled and judged. Pages are chosen as the app
chooses them (queue.order_pages: uncertain first, spread over sites) or at random
(several seeds), 10, 25 and 50 of them, and compared with the model unadapted.

The annotator: wcxb labels lines content or boilerplate, not the model's four labels. A
content line is labeled content; a boilerplate line keeps the model's own best
non-content label (nav, clickbait or footer), which is what an annotator who only
corrects keep against drop leaves in the app. Null lines stay null (context only).

Adapting: adapt.QuickAdapter refits only the classifier of the first stage, on the
bundled training lines (or a --base-share of the pages) plus the new ones (times
--weights), reusing the fitted feature transformers and the context stage: 20 s (quiet
machine) to 3 min (busy) per point on all the bundled lines, where full training takes
3-10 minutes. --full-check N trains one model the full way on the N uncertain-first pages
(train.py, data.adapt, holdout 0) to check that the quick path gives the same kind of
result. --ceiling trains one model the full way on every page of the pool (about 450
pages, 20 times the 25 of the target): what labels of this set can give at most, judged on
the same other sites. Needs ../shared (absent: the script says so and exits 2).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SET = REPO.parent / "shared" / "wcxb" / "dev-raw.jsonl.gz"


def annotate(model, pages: list[dict]) -> list[dict]:
    """The pages as the simulated annotator labels them (see the module docstring)."""
    labels = np.asarray(model.labels, dtype=object)
    drop_columns = np.asarray([i for i, x in enumerate(model.labels) if x not in model.keep_labels])
    proba = model.score([p["lines"] for p in pages]).proba
    best_drop = labels[drop_columns[proba[:, drop_columns].argmax(axis=1)]]
    out, row = [], 0
    for page in pages:
        n = len(page["lines"])
        given = [None if g is None else ("content" if g == "content" else str(best_drop[row + j]))
                 for j, g in enumerate(page["labels"])]
        out.append({"id": page["id"], "site": page.get("site"), "lines": page["lines"], "labels": given})
        row += n
    return out


def word_f1(model, pages: list[dict], gold_words) -> dict:
    """Word F1 at the model's threshold, and two figures that do not depend on a threshold
    (whether adapting ranks the lines better even when the fixed threshold hides it): the
    word F1 at the best threshold for these pages, and the boilerplate removed at 1% loss."""
    from boilercut.metrics import choose_threshold, keep_metrics, removal_at_loss

    gold, words = gold_words
    scores = model.score([p["lines"] for p in pages]).keep
    m = keep_metrics(gold, scores >= model.threshold, words)
    best = choose_threshold(gold, scores, words, 1.0, "f1")
    return {"word_f1": m["word_f1"], "content_lost": m["content_words_lost"],
            "removed": m["boilerplate_words_removed"],
            "best_f1": keep_metrics(gold, scores >= best, words)["word_f1"],
            "removed_at_1": removal_at_loss(gold, scores, words, 0.01)}


def uncertain_first(model, pool: list[dict], k: int) -> list[dict]:
    """The first k pages of the app's queue over the pool."""
    from boilercut.label.pages import Page
    from boilercut.label.queue import order_pages, score_pages

    pages = [Page(p["id"], p["lines"], {}, str(p.get("site")), p["id"]) for p in pool]
    score_pages(model, pages)
    by_id = {p["id"]: p for p in pool}
    return [by_id[p.id] for p in order_pages(pages, "uncertain")[:k]]


def full_check(pages: list[dict], weight: float, eval_pages, gold_words) -> dict:
    """Train the full way with data.adapt (a subprocess of `python -m train`), then score."""
    from boilercut import load_model

    with tempfile.TemporaryDirectory(prefix="boilercut-adapt-") as scratch:
        labels = Path(scratch) / "labels.jsonl"
        labels.write_text("".join(json.dumps(p) + "\n" for p in pages), encoding="utf-8")
        model_path = Path(scratch) / "adapted.joblib"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "train", f"data.adapt={labels}", f"data.adapt_weight={weight}",
                        "data.adapt_holdout=0", f"output.model_path={model_path}", "output.report=false",
                        f"hydra.run.dir={scratch}/run"], check=True, env=env, cwd=scratch)
        seconds = time.perf_counter() - started
        return dict(word_f1(load_model(model_path), eval_pages, gold_words), seconds=round(seconds, 1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_SET, help="labeled set (content/boilerplate, with site)")
    ap.add_argument("--model", type=Path, default=None, help="model file (default models/boilercut.joblib)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 25, 50], help="pages labeled")
    ap.add_argument("--seeds", type=int, default=3, help="random choices per size")
    ap.add_argument("--weights", type=float, nargs="+", default=[10.0], help="adapt weights to try")
    ap.add_argument("--base-share", type=float, default=1.0,
                    help="share of the bundled training pages refitted with (seeded sample; < 1 is faster)")
    ap.add_argument("--split-seed", type=int, default=0, help="seed of the site halves")
    ap.add_argument("--full-check", type=int, default=0, metavar="N",
                    help="also train fully on the N uncertain-first pages (minutes)")
    ap.add_argument("--ceiling", action="store_true",
                    help="also train fully on every pool page, at the first weight (15-25 minutes)")
    ap.add_argument("--json", type=Path, default=None, help="write every figure here")
    args = ap.parse_args(argv)
    if not args.data.is_file():
        print(f"label_simulation: {args.data} is absent (it lives in ../shared); nothing to measure",
              file=sys.stderr)
        return 2

    from tqdm import tqdm

    from boilercut import load_model
    from boilercut.adapt import QuickAdapter
    from boilercut.data import load_records, split_by_page
    from boilercut.lines import count_words

    started = time.perf_counter()
    model = load_model(args.model)
    records = load_records([args.data])
    pool, held = split_by_page(records, [0.5, 0.5], args.split_seed)
    gold_words = ([None if g is None else g == "content" for p in held for g in p["labels"]],
                  [count_words(line) for p in held for line in p["lines"]])
    print(f"pool: {len(pool)} pages of {len({p['site'] for p in pool})} sites; judged on {len(held)} pages of "
          f"{len({p['site'] for p in held})} other sites ({len(gold_words[0]):,} lines)", file=sys.stderr)
    cfg = model.metadata["config"]
    base = split_by_page(load_records(cfg["data"]["files"]), cfg["data"]["split"], cfg["data"]["seed"])[0]
    if args.base_share < 1:  # the refit's cost grows with its rows: ~25 s per Newton step on all of them
        base = random.Random(args.split_seed).sample(base, max(1, round(args.base_share * len(base))))
    adapter = QuickAdapter(model, base, cfg["fit"]["line_weight"])
    results = {"unadapted": word_f1(model, held, gold_words), "points": []}
    print(f"unadapted: word F1 {results['unadapted']['word_f1']:.3f}", file=sys.stderr)
    ranked = uncertain_first(model, pool, max(args.sizes))
    choices = [("uncertain", None, ranked[:k], k) for k in args.sizes]
    choices += [("random", seed, random.Random(seed).sample(pool, k), k)
                for k in args.sizes for seed in range(args.seeds)]
    runs = [(c, w) for c in choices for w in args.weights]
    for (how, seed, chosen, k), weight in tqdm(runs, desc="adapting", file=sys.stderr):
        t = time.perf_counter()
        adapted = adapter.adapt(annotate(model, chosen), weight)
        point = dict(how=how, seed=seed, pages=k, weight=weight, lines=sum(len(p["lines"]) for p in chosen),
                     **word_f1(adapted, held, gold_words), seconds=round(time.perf_counter() - t, 1))
        results["points"].append(point)
    if args.full_check:
        chosen = annotate(model, ranked[:args.full_check])
        results["full_check"] = dict(pages=args.full_check, weight=args.weights[0],
                                     quick=next(p for p in results["points"] if p["how"] == "uncertain"
                                                and p["pages"] == args.full_check and p["weight"] == args.weights[0]),
                                     full=full_check(chosen, args.weights[0], held, gold_words))
    if args.ceiling:
        results["ceiling"] = {"pages": len(pool), "weight": args.weights[0],
                              "full": full_check(annotate(model, pool), args.weights[0], held, gold_words)}
    results["seconds"] = round(time.perf_counter() - started, 1)
    print_table(results, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


def print_table(results: dict, args) -> None:
    base = results["unadapted"]["word_f1"]
    print(f"unadapted model: word F1 {base:.3f} (at the best threshold for the judged pages "
          f"{results['unadapted']['best_f1']:.3f}, removed @1% loss {results['unadapted']['removed_at_1']:.3f})\n")
    print("| pages | weight | uncertain-first F1 (gain) | random F1, mean [min, max] (gain) | lines labeled (uncertain / random mean) "
          "| uncertain-first: best-threshold F1 / removed @1% | random: the same, means |")
    print("|---|---|---|---|---|---|---|")
    for k in args.sizes:
        for w in args.weights:
            points = [p for p in results["points"] if p["pages"] == k and p["weight"] == w]
            unc = next(p for p in points if p["how"] == "uncertain")
            rnd = [p["word_f1"] for p in points if p["how"] == "random"]
            rnd_lines = np.mean([p["lines"] for p in points if p["how"] == "random"]) if rnd else 0
            random_cell = (f"{np.mean(rnd):.3f} [{min(rnd):.3f}, {max(rnd):.3f}] ({np.mean(rnd) - base:+.3f})"
                           if rnd else "")
            rnd_rank = ([p for p in points if p["how"] == "random"])
            rank_cell = (f"{np.mean([p['best_f1'] for p in rnd_rank]):.3f} / "
                         f"{np.mean([p['removed_at_1'] for p in rnd_rank]):.3f}" if rnd_rank else "")
            print(f"| {k} | {w:g} | {unc['word_f1']:.3f} ({unc['word_f1'] - base:+.3f}) | {random_cell} | "
                  f"{unc['lines']} / {rnd_lines:.0f} | {unc['best_f1']:.3f} / {unc['removed_at_1']:.3f} | {rank_cell} |")
    if "full_check" in results:
        fc = results["full_check"]
        print(f"\nfull training on the {fc['pages']} uncertain-first pages (weight {fc['weight']:g}): word F1 "
              f"{fc['full']['word_f1']:.3f} in {fc['full']['seconds']} s; quick path {fc['quick']['word_f1']:.3f} "
              f"in {fc['quick']['seconds']} s")
    if "ceiling" in results:
        c = results["ceiling"]
        print(f"\nfull training on every pool page ({c['pages']}, weight {c['weight']:g}): word F1 "
              f"{c['full']['word_f1']:.3f} ({c['full']['word_f1'] - base:+.3f}), best-threshold F1 "
              f"{c['full']['best_f1']:.3f}, removed @1% {c['full']['removed_at_1']:.3f}, in {c['full']['seconds']} s")
    print(f"\n({results['seconds']} s in all)")


if __name__ == "__main__":
    sys.exit(main())
