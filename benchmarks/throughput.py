"""Throughput of boilercut on real pages, against jusText on the same lines.

    python benchmarks/throughput.py                          # ../shared/realweb/dev-fineweb.jsonl.gz
    python benchmarks/throughput.py corpus.jsonl.gz --limit 500 --model models/other.joblib
    python benchmarks/throughput.py --profile                # + where the time goes (cProfile)
    python benchmarks/throughput.py --repeat 3               # predict and jusText: the fastest of 3
    python benchmarks/throughput.py --big-input-mb 1000      # + peak memory on a 1 GB corpus
    python benchmarks/throughput.py --no-train               # without the timed `python -m train`

Input: JSONL (.gz) records with a "text" field, or with "lines" (the realweb format).
Prints, for the same pages: lines/s and pages/s of the per-page API (score_lines,
classify_lines and filter_page, one call per page, one process), of filter_pages (all
pages in one call; its output is checked against filter_page's), of model.score on
batches, of `python -m predict --output` end to end (reading, features, model, writing)
with --jobs 1 and 2, and of jusText; the start-up of `python -m predict` on a one-line
page (wall and CPU seconds: imports, model load, one page); and the peak memory (RSS) of
each; and `python -m train` on the bundled data, as a whole command (wall and CPU seconds,
peak memory; the model goes to a temporary folder). The predict runs read the pages --copies times over (the same lines, so the same
rate) so that a run lasts several seconds: on one copy (about 1 s of work after a 1.5-2 s
start-up) the rate after start-up swung by a third between identical runs. Timings are
wall clock, with CPU seconds beside them: on a shared machine, look at the load average
printed, and at the CPU seconds, which load moves less.
"""
from __future__ import annotations

import argparse
import cProfile
import gzip
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

# One BLAS thread, as `python -m predict` sets it: the figures are per core.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = REPO.parent / "shared" / "realweb" / "dev-fineweb.jsonl.gz"
TARGET_LINES_PER_S = 20_000  # issue 5: per core, end to end, default model
TARGET_PER_PAGE_LINES_PER_S = 25_000  # issue 18: the per-page API, one call per page
TARGET_STARTUP_S = 0.8  # issue 18: python -m predict on a one-line page, wall
TARGET_CORPUS_LINES_PER_S = 60_000  # issue 18: predict --jobs 1 after its start-up
TARGET_VS_JUSTEXT = 10  # issue 18: predict --jobs 1 end to end, against jusText
TARGET_TRAIN_S = 30  # issue 18: python -m train on the bundled data, 2 cores, wall


def load_pages(path: Path, limit: int | None) -> list[dict]:
    """[{"text", "lines", "lang"}] from records with "text" or "lines"."""
    from boilercut.lines import split_lines

    opener = gzip.open if path.name.endswith(".gz") else open
    pages = []
    with opener(path, "rt", encoding="utf-8") as f:
        for raw in f:
            record = json.loads(raw)
            lines = record["lines"] if "lines" in record else split_lines(record["text"])
            pages.append({"text": "\n".join(lines), "lines": lines, "lang": record.get("lang") or "en"})
            if limit and len(pages) >= limit:
                break
    return pages


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def tree_memory_mib(pid: int, peaks: dict) -> float:
    """Record VmHWM (peak RSS) of pid and its descendants into peaks {pid: MiB}; return the
    sum of their current PSS (MiB).

    Read from /proc while they run: a child's own ru_maxrss would include the RSS of this
    (large) parent at fork time, which exec carries over on Linux. Forked workers share
    the model's pages with their parent: the sum of peak RSS counts those once per
    process, PSS (proportional set size) splits shared pages among their sharers.
    """
    pss = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = max(peaks.get(pid, 0.0), int(line.split()[1]) / 1024)
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, ValueError):
        return pss
    return pss + sum(tree_memory_mib(int(child), peaks) for child in children)


class Run(NamedTuple):
    wall: float   # seconds
    cpu: float    # user + system seconds of the process and its workers
    rss: float    # peak RSS summed over the main process and its workers (MiB); 0 when not measured
    pss: float    # peak of their summed PSS (MiB); 0 when not measured


def run_cli(corpus: Path, out: Path, model: str | None, jobs: int, *extra: str, memory: bool = False) -> Run:
    """One `python -m predict` run, timed; with memory, also its memory, read from /proc
    every 50 ms. That reading costs the measured processes time (smaps_rollup walks their
    memory maps), so timed runs do not measure memory."""
    cmd = [sys.executable, "-m", "predict", str(corpus), "--output", str(out), "--quiet", "--jobs", str(jobs), *extra]
    if model:
        cmd += ["--model", model]
    peaks: dict = {}
    peak_pss = 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO / "src", stderr=subprocess.PIPE)
    while memory and proc.poll() is None:
        peak_pss = max(peak_pss, tree_memory_mib(proc.pid, peaks))
        time.sleep(0.05)
    _, err = proc.communicate()  # reads stderr while waiting: a full pipe cannot block the run
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # includes the workers it waited for
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"throughput: predict failed: {err.decode()}")
    return Run(wall, cpu, sum(peaks.values()), peak_pss)


def compile_bytecode() -> None:
    """Compile boilercut's modules to bytecode (__pycache__, not in git), as installing the
    package does: the runs then time the start-up its users meet. Where
    PYTHONDONTWRITEBYTECODE is set (this sandbox sets it), every run would otherwise compile
    the sources again, about 0.05 s of each start-up."""
    import compileall

    compileall.compile_dir(str(REPO / "src" / "boilercut"), quiet=1)


def timed_command(cmd: list[str], what: str) -> Run:
    """Run cmd from src/ to its end, output captured: wall and CPU seconds (the process and
    the workers it waited for) and the largest child's peak RSS so far (MiB); exits with
    its stderr's end when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO / "src", capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"throughput: {what} failed: {proc.stderr.decode()[-2000:]}")
    return Run(wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
               after.ru_maxrss / 1024, 0.0)


def run_startup(page: Path, model: str | None) -> Run:
    """`python -m predict page` (a page of one line, kept lines to a pipe), timed: what a
    user waits for before the first page, imports and model load included."""
    cmd = [sys.executable, "-m", "predict", str(page)]
    if model:
        cmd += ["--model", model]
    return timed_command(cmd, "predict")._replace(rss=0.0)


def run_train(folder: Path) -> Run:
    """`python -m train` with the default config on the bundled data, the model and the
    run's outputs written into `folder`: wall, CPU (process and workers) and peak RSS of
    the largest process (ru_maxrss of children: the largest child's so far, so it is run
    after the predict runs, which are smaller)."""
    return timed_command([sys.executable, "-m", "train", f"output.model_path={folder / 'model.joblib'}",
                          "output.report=false", f"hydra.run.dir={folder / 'run'}"], "train")


def write_big_corpus(pages: list[dict], path: Path, megabytes: int) -> int:
    """A JSONL corpus of about `megabytes` MB: the pages repeated, each copy with its own id
    (records of text, like FineWeb's). Returns the number of lines."""
    limit, size, lines, copy = megabytes * 1_000_000, 0, 0, 0
    with path.open("w", encoding="utf-8") as f:
        while size < limit:
            for i, page in enumerate(pages):
                record = json.dumps({"id": f"{copy}-{i}", "text": page["text"]}, ensure_ascii=False) + "\n"
                f.write(record)
                size += len(record.encode("utf-8"))
                lines += len(page["lines"])
                if size >= limit:
                    break
            copy += 1
    return lines


def big_input(pages: list[dict], megabytes: int, model: str | None, tmp: str) -> None:
    """Wall time and peak memory of predict --jobs 1 and 2 on a corpus of `megabytes` MB."""
    corpus = Path(tmp) / "big.jsonl"
    n_lines = write_big_corpus(pages, corpus, megabytes)
    size = corpus.stat().st_size / 2 ** 20
    print(f"\n## {size:,.0f} MiB input ({n_lines:,} lines), predict --output big.jsonl.gz\n")
    print("(one run each, memory read from /proc every 50 ms, which slows the runs a little)\n")
    print("| --jobs | seconds | lines/s | peak RSS MiB (sum of processes' peaks) | peak PSS MiB (all processes) |")
    print("|---:|---:|---:|---:|---:|")
    for jobs in (1, 2):
        out = Path(tmp) / "big_out.jsonl.gz"
        run = run_cli(corpus, out, model, jobs, memory=True)
        out.unlink()
        print(f"| {jobs} | {run.wall:.1f} | {n_lines / run.wall:,.0f} | {run.rss:,.0f} | {run.pss:,.0f} |")
    corpus.unlink()


def profile_batch(corpus: Path, model, top: int) -> None:
    """cProfile of the in-process end-to-end path (read, clean, write), by own time."""
    from boilercut.corpus import clean_corpus
    from boilercut.corpus_io import CorpusWriter

    with tempfile.TemporaryDirectory() as tmp:
        profiler = cProfile.Profile()
        with CorpusWriter(str(Path(tmp) / "p.jsonl.gz"), "jsonl") as out:
            profiler.runcall(clean_corpus, [(str(corpus), "jsonl")], out.write, model=model)
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    print(f"\n## profile: end to end in one process, {total:.1f} s under cProfile (slower than unprofiled)")
    print("\nby own time (tottime):")
    stats.sort_stats("tottime").print_stats(top)
    print("by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", nargs="?", default=None, help=f"JSONL (.gz) corpus (default: {DEFAULT_INPUT})")
    ap.add_argument("--model", default=None, help="model file (default: models/boilercut.joblib)")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N pages")
    ap.add_argument("--no-justext", action="store_true", help="skip the jusText reference")
    ap.add_argument("--profile", action="store_true", help="also profile the end-to-end path")
    ap.add_argument("--top", type=int, default=15, help="functions shown per profile table")
    ap.add_argument("--big-input-mb", type=int, default=0, metavar="MB",
                    help="also run predict --jobs 1 and 2 on a corpus of about MB megabytes (the pages "
                         "repeated) and print wall time and peak memory; written to and deleted from a "
                         "temporary folder (TMPDIR), which needs about 1.5 x MB free")
    ap.add_argument("--copies", type=int, default=5,
                    help="predict runs read the pages this many times over, so that a run's work "
                         "outweighs its start-up and the noise of timing it (default 5)")
    ap.add_argument("--no-train", action="store_true", help="skip timing `python -m train`")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each predict command and jusText N times, in turns, and keep the fastest "
                         "(load on a shared machine only ever slows a run down)")
    args = ap.parse_args(argv)
    path = Path(args.input) if args.input else DEFAULT_INPUT
    if not path.is_file():
        print(f"throughput: {path} not found; pass a JSONL corpus (skipping the benchmark)")
        return 0

    compile_bytecode()
    from boilercut.baselines import justext_available, justext_rule
    from boilercut.batch import BATCH_LINES
    from boilercut import filter_pages
    from boilercut.filter import classify_lines, filter_page, score_lines
    from boilercut.persist import load_model

    pages = load_pages(path, args.limit)
    n_pages, n_lines = len(pages), sum(len(p["lines"]) for p in pages)
    n_chars = sum(len(p["text"]) for p in pages)
    print(f"# throughput on {path.name}: {n_pages} pages, {n_lines} lines, {n_chars / n_lines:.0f} chars/line")
    print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    model = load_model(args.model)
    rows = []

    def row(name, seconds, rss, copies=1, cpu=None):
        lines, n = n_lines * copies, n_pages * copies
        rows.append((name, lines / seconds, n / seconds, seconds, cpu, rss))

    def timed_cpu(fn) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - wall, time.process_time() - cpu

    # The per-page API: what a Python user looping over documents gets. Each function runs
    # over all pages --repeat times, in turns, and keeps its fastest pass.
    # filter_pages, the batched API, runs in the same turns: its output must be filter_page's.
    texts = [p["text"] for p in pages]
    outputs = {}
    per_page = {"score_lines": lambda: [score_lines(p["lines"], model) for p in pages],
                "classify_lines": lambda: [classify_lines(p["lines"], model) for p in pages],
                "filter_page": lambda: outputs.__setitem__("filter_page", [filter_page(t, model) for t in texts]),
                "filter_pages": lambda: outputs.__setitem__("filter_pages", filter_pages(texts, model))}
    passes = {name: [] for name in per_page}
    for _ in range(args.repeat):
        for name, run_pages in per_page.items():
            passes[name].append(timed_cpu(run_pages))
    for name in per_page:
        wall, cpu = min(passes[name])
        row(f"{name}, all pages in one call" if name == "filter_pages" else f"{name}, one call per page",
            wall, peak_rss_mib(), cpu=cpu)
    same_output = outputs["filter_pages"] == outputs["filter_page"]

    def batched():
        batch, size = [], 0
        for p in pages:
            batch.append(p["lines"])
            size += len(p["lines"])
            if size >= BATCH_LINES:
                model.score(batch)
                batch, size = [], 0
        if batch:
            model.score(batch)
    row(f"model.score, batches of {BATCH_LINES} lines", timed(batched), peak_rss_mib())

    copies = args.copies
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        with corpus.open("w", encoding="utf-8") as f:
            for _ in range(copies):
                f.writelines(json.dumps({"text": p["text"]}, ensure_ascii=False) + "\n" for p in pages)
        # Start-up (imports, model load) is paid once per run, whatever the corpus size:
        # timed on a tiny corpus and shown apart, so that the steady rate is visible. The
        # tiny corpus has one page per worker, each its own batch, so that every worker
        # starts (a pool starts workers as batches arrive).
        tiny = {}
        for jobs in (1, 2):
            tiny[jobs] = Path(tmp) / f"tiny{jobs}.jsonl"
            tiny[jobs].write_text(jobs * (json.dumps({"text": pages[0]["text"]}, ensure_ascii=False) + "\n"),
                                  encoding="utf-8")
        one_line = Path(tmp) / "one-line.txt"
        one_line.write_text(pages[0]["lines"][0] + "\n", encoding="utf-8")
        with_justext = not args.no_justext and justext_available()
        starts, runs, justext_times, startups = {1: [], 2: []}, {1: [], 2: []}, [], []
        # Every configuration once per round, rounds repeated: a slow spell of a shared
        # machine (CPU seconds of the same run varied by 10% on this VM) then hits all of
        # them alike instead of all repeats of one.
        for _ in range(args.repeat):
            startups.append(run_startup(one_line, args.model))
            for jobs in (1, 2):
                starts[jobs].append(run_cli(tiny[jobs], Path(tmp) / f"tiny{jobs}.jsonl.gz", args.model, jobs,
                                            "--batch-lines", "1"))
                runs[jobs].append(run_cli(corpus, Path(tmp) / f"out{jobs}.jsonl.gz", args.model, jobs))
            if with_justext:
                justext_times.append(timed(lambda: [justext_rule(p["lines"], p["lang"]) for p in pages]))
        for jobs in (1, 2):
            start = min(starts[jobs], key=lambda r: r.wall)
            run = min(runs[jobs], key=lambda r: r.wall)
            rss = run_cli(corpus, Path(tmp) / f"out{jobs}.jsonl.gz", args.model, jobs, memory=True).rss
            row(f"predict --output, --jobs {jobs}, end to end", run.wall, rss, copies, run.cpu)
            row(f"predict --output, --jobs {jobs}, after its {start.wall:.1f} s start-up",
                run.wall - start.wall, rss, copies, run.cpu - start.cpu)
        if justext_times:
            row("jusText on the same lines", min(justext_times), peak_rss_mib())
        startup = min(startups, key=lambda r: r.wall)
        rows.append(("start-up: `python -m predict page.txt`, a one-line page", None, None, startup.wall,
                     startup.cpu, None))
        if args.profile:
            profile_batch(corpus, model, args.top)
        if args.big_input_mb:
            big_input(pages, args.big_input_mb, args.model, tmp)
        # Last: its peak RSS is the largest child's so far, and the predict runs are smaller.
        training = None if args.no_train else run_train(Path(tmp) / "train")

    print(f"\npredict runs read the pages {copies} times over ({n_lines * copies:,} lines); "
          "CPU s: user + system of the process and its workers")
    print("\n| what | lines/s | pages/s | seconds | CPU s | peak RSS MiB |\n|---|---:|---:|---:|---:|---:|")
    for name, lps, pps, secs, cpu, rss in rows:
        rates = "| | |" if lps is None else f"| {lps:,.0f} | {pps:,.1f} |"
        digits = 2 if lps is None else 1  # a start-up is a fraction of a second
        cpu_text = "" if cpu is None else f"{cpu:.{digits}f}"
        rss_text = "" if rss is None else f"{rss:,.0f}"
        print(f"| {name} {rates} {secs:.{digits}f} | {cpu_text} | {rss_text} |")
    by_name = {r[0]: r for r in rows}
    whole1 = by_name["predict --output, --jobs 1, end to end"][1]
    after1 = next(r for k, r in by_name.items() if "--jobs 1, after" in k)
    after2 = next(r for k, r in by_name.items() if "--jobs 2, after" in k)
    cli1, cli2 = after1[1], after2[1]
    print(f"\nend to end after start-up, one process: {cli1:,.0f} lines/s (target {TARGET_LINES_PER_S:,}: "
          f"{'met' if cli1 >= TARGET_LINES_PER_S else 'NOT met'}); 2 processes: {cli2 / cli1:.2f}x of 1, "
          f"using {after2[4] / after1[4]:.2f}x its CPU time")
    justext = next((r[1] for k, r in by_name.items() if k.startswith("jusText")), None)
    print(f"end to end with start-up, one process: {whole1:,.0f} lines/s")
    print(f"predict --jobs 1 after start-up: {cli1:,.0f} lines/s (issue 18's target {TARGET_CORPUS_LINES_PER_S:,}: "
          f"{'met' if cli1 >= TARGET_CORPUS_LINES_PER_S else 'NOT met'})")
    if justext:
        print(f"vs jusText: {cli1 / justext:.1f}x after start-up, {whole1 / justext:.1f}x with it (target "
              f"{TARGET_VS_JUSTEXT}x end to end: {'met' if whole1 >= TARGET_VS_JUSTEXT * justext else 'NOT met'})")
    slowest = min((r for k, r in by_name.items() if k.endswith("one call per page")), key=lambda r: r[1])
    print(f"per-page API, one call per page: {slowest[1]:,.0f} lines/s for the slowest of score_lines, "
          f"classify_lines and filter_page ({slowest[0].split(',')[0]}; target {TARGET_PER_PAGE_LINES_PER_S:,}: "
          f"{'met' if slowest[1] >= TARGET_PER_PAGE_LINES_PER_S else 'NOT met'}), "
          f"{slowest[3] / n_pages * 1000:.2f} ms a page of {n_lines / n_pages:.0f} lines")
    batched_api, one_by_one = by_name["filter_pages, all pages in one call"], by_name["filter_page, one call per page"]
    print(f"filter_pages: {batched_api[1]:,.0f} lines/s, {batched_api[1] / one_by_one[1]:.1f}x filter_page per page "
          f"(target 5x), output {'identical' if same_output else 'DIFFERENT'}")
    startup = next(r for k, r in by_name.items() if k.startswith("start-up"))
    print(f"start-up of python -m predict on a one-line page: {startup[3]:.2f} s wall, {startup[4]:.2f} s CPU "
          f"(target {TARGET_STARTUP_S} s wall: {'met' if startup[3] <= TARGET_STARTUP_S else 'NOT met'})")
    if training is not None:
        print(f"python -m train on the bundled data: {training.wall:.1f} s wall, {training.cpu:.1f} s CPU "
              f"(process and workers), peak RSS {training.rss:,.0f} MiB (target {TARGET_TRAIN_S} s wall: "
              f"{'met' if training.wall <= TARGET_TRAIN_S else 'NOT met'})")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
