"""Run the three datatrove stages of site-aware cleaning and compare with predict --site-repeats.

    pip install -e .[datatrove] ray
    python benchmarks/datatrove_sites_run.py corpus/ --work /tmp/sites --executor ray --tasks 2 --shards 2

corpus/ holds JSONL files (fields text, url or --site-field). The stages run with
LocalPipelineExecutor or RayPipelineExecutor (a local Ray cluster is started by
ray.init()); then `python -m predict --site-repeats` cleans the same files on one
machine, and the script prints how many documents of each differ (text, lines removed,
lines_removed_site_repeated). Exit status 1 when any differs.
"""
from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

STATS = ("lines_removed", "lines_removed_site_repeated")


def run_stages(executor: str, corpus: Path, work: Path, model: str | None, tasks: int, shards: int,
               site_field: str | None) -> None:
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from boilercut.datatrove_sites import (
        SiteCountsMerge,
        SiteRepeatsFilter,
        SiteSignatures,
    )

    if executor == "ray":
        import ray
        from datatrove.executor import RayPipelineExecutor as Executor

        ray.init(num_cpus=tasks, include_dashboard=False)
    else:
        from datatrove.executor import LocalPipelineExecutor as Executor
    stages = [
        ([JsonlReader(str(corpus)), SiteSignatures(str(work / "sigs"), shards=shards, site_field=site_field)], tasks),
        ([SiteCountsMerge(str(work / "sigs"), str(work / "counts"), shards=shards)], shards),
        ([JsonlReader(str(corpus)),
          SiteRepeatsFilter(str(work / "counts"), shards=shards, site_field=site_field, model_path=model),
          JsonlWriter(str(work / "out"), compression=None)], tasks),
    ]
    for number, (pipeline, n) in enumerate(stages, start=1):
        start = time.perf_counter()
        Executor(pipeline=pipeline, tasks=n, logging_dir=str(work / f"logs{number}")).run()
        print(f"stage {number}: {n} tasks, {time.perf_counter() - start:.1f} s", file=sys.stderr)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, help="folder of JSONL files")
    ap.add_argument("--work", type=Path, required=True, help="folder for signatures, counts, output and logs (new)")
    ap.add_argument("--executor", choices=("local", "ray"), default="local")
    ap.add_argument("--tasks", type=int, default=2)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--model", default=None, help="model file (default models/boilercut.joblib)")
    ap.add_argument("--site-field", default=None)
    args = ap.parse_args(argv)
    files = sorted(args.corpus.glob("*.jsonl"))
    if not files:
        print(f"datatrove_sites_run: error: {args.corpus}: no .jsonl files", file=sys.stderr)
        return 2
    if args.work.exists():
        print(f"datatrove_sites_run: error: {args.work} exists; pass a new folder", file=sys.stderr)
        return 2
    run_stages(args.executor, args.corpus, args.work, args.model, args.tasks, args.shards, args.site_field)
    staged = {d["id"]: d for f in sorted((args.work / "out").glob("*.jsonl")) for d in map(json.loads, f.open())}

    single = args.work / "single.jsonl.gz"
    command = [sys.executable, "-m", "predict", *map(str, files), "--output", str(single), "--site-repeats", "--quiet"]
    command += ["--model", args.model] if args.model else []
    command += ["--site-field", args.site_field] if args.site_field else []
    start = time.perf_counter()
    subprocess.run(command, check=True)
    print(f"predict --site-repeats: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    with gzip.open(single, "rt", encoding="utf-8") as f:
        expected = {r["id"]: r for r in map(json.loads, f) if r["text"]}  # the step drops empty documents
    differ = sorted(set(staged) ^ set(expected))
    differ += [i for i in set(staged) & set(expected)
               if staged[i]["text"] != expected[i]["text"]
               or any(staged[i]["metadata"][s] != expected[i][s] for s in STATS)]
    repeated = sum(r["lines_removed_site_repeated"] for r in expected.values())
    print(f"{args.executor}: {len(staged)} documents from the stages, {len(expected)} from predict "
          f"({repeated} site-repeated lines removed); {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
