"""Peak memory of `python -m predict` on single huge records (issue 17, item 6).

    python benchmarks/hostile_memory.py                         # the default model
    python benchmarks/hostile_memory.py --model models/other.joblib --record-mb 50 100

Writes, in a temporary folder, one-record corpora and prints the peak RSS of
`predict CORPUS --output out.jsonl.gz --skip-bad-records --quiet` on each, with the
default limits (--max-record-bytes 256 MiB, --max-record-lines 1,000,000):
- a one-line corpus of a few bytes: the model and libraries at rest;
- the gzip bomb: a .jsonl.gz of about 7 MB holding one record of --bomb-mb (1000) MB of
  text, far over the limit: it must be skipped with memory under 1 GB;
- one record of 50 MB of text on a single line (no line breaks);
- one record of each --record-mb size of ordinary text lines (71 characters each);
- one record of 1,000,000 lines of two characters: the line limit, with short lines;
- one record at both limits: 1,000,000 lines that fill 256 MiB (266 characters each).
The peak is the process's own ru_maxrss (os.wait4), so no short peak is missed. Not a
test: it takes about 5 minutes on one core (the last record takes 2).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from isal import igzip

# One BLAS thread, as `python -m predict` sets it.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

REPO = Path(__file__).resolve().parents[1]
MB = 1_000_000
# A line of ordinary text, as it stands inside a JSON string (with its "\n" escape).
TEXT_LINE = b"The council met on Tuesday to discuss the new bus routes through town.\\n"
HEAD, TAIL = b'{"id": "huge", "text": "', b'"}\n'


def write_record(path: Path, piece: bytes, count: int) -> int:
    """One JSONL record {"id": ..., "text": piece * count} (piece as it stands in JSON),
    gzipped at level 1 when the name ends in .gz; returns the bytes of its line."""
    opener = igzip.open if path.name.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(HEAD)
        block = max(1, MB // max(len(piece), 1))  # write about 1 MB at a time
        for start in range(0, count, block):
            f.write(piece * min(block, count - start))
        f.write(TAIL)
    return len(HEAD) + len(piece) * count + len(TAIL) - 1


def at_both_limits(max_bytes: int = 256 * 2 ** 20, max_lines: int = 1_000_000) -> bytes:
    """A text line such that max_lines of them make a record of at most max_bytes."""
    per_line = (max_bytes - len(HEAD) - len(TAIL)) // max_lines - 2  # 2: the "\n" escape
    return (b"word " * per_line)[:per_line] + b"\\n"


def peak_of_predict(corpus: Path, out: Path, model: str | None) -> tuple[float, float, int, str]:
    """(peak RSS in MiB, seconds, exit code, last line of stderr) of one predict run."""
    cmd = [sys.executable, "-m", "predict", str(corpus), "--output", str(out), "--skip-bad-records", "--quiet",
           *(["--model", model] if model else [])]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO / "src", stderr=subprocess.PIPE)
    err = proc.stderr.read().decode(errors="replace").strip()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    seconds = time.perf_counter() - start
    out.unlink(missing_ok=True)
    return usage.ru_maxrss / 1024, seconds, proc.returncode, (err.splitlines() or [""])[-1][:100]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="model file (default: predict's, models/boilercut.joblib)")
    ap.add_argument("--bomb-mb", type=int, default=1000, help="text in the gzip bomb's one record (MB)")
    ap.add_argument("--record-mb", type=int, nargs="*", default=[100], help="sizes of ordinary records (MB)")
    args = ap.parse_args(argv)

    one_line = b"the council met on tuesday to discuss bus routes "  # no line break
    cases = [("one small record", "small.jsonl", TEXT_LINE, 1),
             (f"gzip bomb: {args.bomb_mb:,} MB of text", "bomb.jsonl.gz", TEXT_LINE,
              args.bomb_mb * MB // len(TEXT_LINE)),
             ("50 MB of text on one line", "line.jsonl", one_line, 50 * MB // len(one_line))]
    cases += [(f"{mb:,} MB of text lines", f"r{mb}.jsonl", TEXT_LINE, mb * MB // len(TEXT_LINE))
              for mb in args.record_mb]
    cases += [("1,000,000 lines of 2 characters", "short.jsonl", b"ab\\n", 1_000_000),
              ("1,000,000 lines in 256 MiB (both limits)", "limits.jsonl", at_both_limits(), 1_000_000)]
    print("| one record | record bytes | file bytes | exit | peak RSS MiB | seconds | stderr |")
    print("|---|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory(prefix="boilercut-hostile-") as tmp:
        for name, file, piece, count in cases:
            corpus = Path(tmp) / file
            record_bytes = write_record(corpus, piece, count)
            peak, seconds, code, err = peak_of_predict(corpus, Path(tmp) / "out.jsonl.gz", args.model)
            print(f"| {name} | {record_bytes:,} | {corpus.stat().st_size:,} | {code} | {peak:,.0f} | {seconds:.1f} "
                  f"| {err.replace(tmp + '/', '')} |", flush=True)
            corpus.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
