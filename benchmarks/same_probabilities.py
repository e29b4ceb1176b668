"""Class probabilities of a model on the test split and the four real sets, to compare two
versions of the code or two files of one model, to the last bit.

    PYTHONPATH=<old checkout>/src python benchmarks/same_probabilities.py --model OLD.joblib --out old.npz
    PYTHONPATH=src python benchmarks/same_probabilities.py --model NEW.joblib --out new.npz
    python benchmarks/same_probabilities.py --compare old.npz new.npz   # max |difference| per set

Each set is scored with `model.score(pages).proba` (batches of 2,000 lines, as predict
scores a corpus) and page by page (`model.score([page])`, as the line API scores). Uses
only what every boilercut version has (load_model, LineModel.score, data.test_split_of),
so the same script runs on the code before a change.
"""
from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL_SETS = {
    "realweb-raw": SHARED / "realweb" / "dev-raw.jsonl.gz",
    "realweb-fineweb": SHARED / "realweb" / "dev-fineweb.jsonl.gz",
    "wcxb-raw": SHARED / "wcxb" / "dev-raw.jsonl.gz",
    "wcxb-fineweb": SHARED / "wcxb" / "dev-fineweb.jsonl.gz",
}


def read_pages(path: Path) -> list[list[str]]:
    """The lines of every record ("lines", or "text" split as predict splits it)."""
    from boilercut.lines import split_lines

    with gzip.open(path, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r["lines"] if "lines" in r else split_lines(r["text"]) for r in records]


def page_sets(model) -> dict[str, list[list[str]]]:
    from boilercut.data import test_split_of

    test, _ = test_split_of(model.metadata.get("config"))
    sets = {"test-split": [r["lines"] for r in test]}
    sets.update((name, read_pages(path)) for name, path in REAL_SETS.items())
    return sets


def probabilities(model_path: str) -> dict[str, np.ndarray]:
    from boilercut import load_model

    model = load_model(model_path)
    found = {}
    for name, pages in page_sets(model).items():
        found[f"{name}/batched"] = model.score(pages).proba
        found[f"{name}/per-page"] = np.concatenate([model.score([page]).proba for page in pages])
        print(f"{name}: {len(pages):,} pages, {len(found[name + '/batched']):,} lines", flush=True)
    return found


def compare(a_path: str, b_path: str) -> float:
    a, b = np.load(a_path), np.load(b_path)
    worst = 0.0
    for key in sorted(set(a.files) | set(b.files)):
        if key not in a.files or key not in b.files or a[key].shape != b[key].shape:
            print(f"{key}: not in both, or of other shapes")
            worst = float("inf")
            continue
        difference = float(np.abs(a[key] - b[key]).max()) if a[key].size else 0.0
        worst = max(worst, difference)
        print(f"{key}: {a[key].shape[0]:,} lines, max |difference| {difference}")
    print(f"max |difference| over all sets: {worst}")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model file to score with")
    parser.add_argument("--out", help="where to write the probabilities (.npz)")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="two .npz files to compare")
    args = parser.parse_args()
    if args.compare:
        raise SystemExit(0 if compare(*args.compare) == 0.0 else 1)
    if not (args.model and args.out):
        parser.error("--model and --out, or --compare A B")
    np.savez(args.out, **probabilities(args.model))


if __name__ == "__main__":
    main()
