"""How far labels of today's web itself take this model: train with half of wcxb dev's
sites, judge on the other half.

    python benchmarks/in_domain_ceiling.py                  # weight 1, split seed 0 (about 20 min)
    python benchmarks/in_domain_ceiling.py --weights 1 4 --work /tmp/ceiling

The sites of ../shared/wcxb/dev-{raw,fineweb}.jsonl.gz are dealt in two halves by a hash
of the site name (the same site falls in the same half in both views). Every page of the
first half, both views, is added to the bundled training data with `python -m train
data.adapt=...` (labels as label_simulation.annotate gives them: content stays content,
a boilerplate line takes the model's own best non-content label), and the scoreboard
(benchmarks/accuracy.py) scores the default model and each adapted one on the second
half, beside the full realweb sets and the test split of data/. This is a diagnostic,
not a model to ship: it answers whether the wcxb targets of issue 13 are a matter of
more authored pages (then pages of the benchmark's own kind and labels would reach them)
or beyond the model. Nothing it writes goes into the project. Needs ../shared (absent:
the script says so and exits 2).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def half_of(site: str, seed: int) -> int:
    """0 or 1: seed 0 hashes the site name alone, another seed hashes "seed:site"."""
    key = site if seed == 0 else f"{seed}:{site}"
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2


def write_halves(model, work: Path, seed: int) -> Path:
    """The adapt file (first half, annotated) and a shared-like folder whose wcxb sets hold
    only the second half; returns the adapt file."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from label_simulation import annotate

    from boilercut.scoreboard import read_jsonl

    judged = work / "judged"
    (judged / "wcxb").mkdir(parents=True, exist_ok=True)
    for name in ("realweb", "examples"):
        if not (judged / name).exists():
            os.symlink(SHARED / name, judged / name)
    adapt = work / "adapt.jsonl"
    with adapt.open("w", encoding="utf-8") as out:
        for view in ("raw", "fineweb"):
            records = read_jsonl(SHARED / "wcxb" / f"dev-{view}.jsonl.gz")
            first = [r for r in records if half_of(r["site"], seed) == 0]
            for record in annotate(model, first):
                out.write(json.dumps(dict(record, id=f"{record['id']}/{view}")) + "\n")
            with gzip.open(judged / "wcxb" / f"dev-{view}.jsonl.gz", "wt", encoding="utf-8") as f:
                for record in records:
                    if half_of(record["site"], seed) == 1:
                        f.write(json.dumps(record) + "\n")
            print(f"{view}: {len(first)} pages trained on, {len(records) - len(first)} judged", file=sys.stderr)
    return adapt


def scoreboard(model_path: Path | None, judged: Path) -> str:
    command = [sys.executable, str(REPO / "benchmarks" / "accuracy.py"), "--shared", str(judged),
               "--rounds", "0", "--no-breakdown"] + (["--model", str(model_path)] if model_path else [])
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPO).stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=float, nargs="+", default=[1.0], help="data.adapt_weight of each training")
    ap.add_argument("--seed", type=int, default=0, help="seed of the site halves")
    ap.add_argument("--work", type=Path, default=Path("/tmp/boilercut-ceiling"), help="scratch folder")
    args = ap.parse_args(argv)
    if not (SHARED / "wcxb" / "dev-raw.jsonl.gz").is_file():
        print(f"in_domain_ceiling: {SHARED / 'wcxb'} is absent (it lives in ../shared); nothing to measure",
              file=sys.stderr)
        return 2
    from boilercut import load_model

    args.work.mkdir(parents=True, exist_ok=True)
    adapt = write_halves(load_model(), args.work, args.seed)
    print("## default model\n" + scoreboard(None, args.work / "judged"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    for weight in args.weights:
        model_path = args.work / f"adapted-w{weight:g}.joblib"
        subprocess.run([sys.executable, "-m", "train", f"data.adapt={adapt}", f"data.adapt_weight={weight}",
                        "data.adapt_holdout=0", f"output.model_path={model_path}", "output.report=false",
                        f"hydra.run.dir={args.work}/run-w{weight:g}"], check=True, env=env, cwd=REPO)
        print(f"## trained with the first half's pages, weight {weight:g}\n" + scoreboard(model_path, args.work / "judged"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
