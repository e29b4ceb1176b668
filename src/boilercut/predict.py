"""Print pages with their boilerplate lines removed, or clean a whole corpus.

    boilercut predict page.txt [more.txt ...]    # kept lines, byte for byte, in order
    cat page.txt | boilercut predict -            # "-" reads standard input
    boilercut predict --labels page.txt           # every line with its label and content score
    boilercut predict --json page.txt             # one JSON record per page
    boilercut predict --threshold 0.3 --model models/other.joblib page.txt
    boilercut predict --mode trim page.txt        # cut boilerplate only at the start and end

Corpora (JSONL, .jsonl.gz, parquet; a directory means all .txt pages under it):
    boilercut predict crawl.jsonl.gz --output clean.jsonl.gz --jobs 4
    boilercut predict shard.parquet --output clean.parquet --max-removed-share 0.5
    boilercut predict pages/ --output pages.jsonl          # one record per page: id, text
    boilercut predict crawl.jsonl.gz --output clean.jsonl.gz --site-repeats   # count per site, then clean
    boilercut predict crawl.jsonl.gz --output clean.jsonl.gz --audit removed.jsonl.gz  # + each removed line
    zcat crawl.jsonl.gz | boilercut predict --input-format jsonl - > clean.jsonl

`python -m predict` and `python -m boilercut.predict` run the same command. Without
--model the default model is used (boilercut/locations.py says where it is), trained
from the bundled pages on the first call when it does not exist yet.

Every output record keeps all fields of its input record; --text-field (default "text")
holds the kept lines joined by "\n", and lines_kept, lines_removed, words_removed_share
are added. --max-removed-share S drops a whole document when more than S of its words
would be removed (off by default). A corpus without --output is written as JSONL to
stdout. Outputs are written to a temporary file and renamed when complete (a device, a
FIFO or /dev/stdout is written in place; a symlink's target is replaced, the link kept).
A document (record or page) is at most --max-record-bytes (256M) and --max-record-lines
(1,000,000 lines): memory grows with the largest one. Undecodable bytes are written as
\\udcXX escapes in JSONL and as U+FFFD in parquet, with a warning.

Kept lines go to stdout, diagnostics to stderr. Exit codes:
    0    ok (records skipped with --skip-bad-records are named on stderr and counted)
    2    bad usage, including an --output that is one of the inputs
    3    an input could not be read, or a page is over a --max-record-* limit (the others
         are still processed)
    4    model missing or refused
    5    a malformed corpus record (named by file and record number; also one over a
         --max-record-* limit or nested deeper than 100 levels): nothing was written;
         pass --skip-bad-records to skip such records instead
    6    the output could not be written (no partial output is left behind)
    130  interrupted (no partial output is left behind)
    143  terminated by SIGTERM (as 130)
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys

# One BLAS thread per process, set before numpy loads: the model's small dense products
# gain nothing from a second thread, whose spinning nearly doubled the CPU time of a run,
# and with --jobs N the workers would fight over the cores.
# Parallelism is --jobs. An explicit setting in the environment wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
# No garbage collection while the libraries import and the model loads: both only build
# objects that live as long as the process (hundreds of thousands of them, which the
# collector would scan again and again); main() turns it back on once they are frozen.
# Only when run as a command: importing this module must not change the importer's gc
# (the console script and the `python -m predict` shim turn it off before importing it).
if __name__ == "__main__":
    gc.disable()

from boilercut.audit import check_audit_path, open_audit
from boilercut.batch import BATCH_LINES, MODES, SITE_STATS_FIELD, check_options, keep_decisions, summarise
from boilercut.commands import handle_sigterm, stopped
from boilercut.corpus import BadRecordError, clean_corpus, output_schema
from boilercut.corpus_io import (FORMATS, GZIP_LEVELS, MAX_RECORD_BYTES, MAX_RECORD_LINES, CorpusWriter, expand_input, format_of,
                                 parquet_schema, same_file)
from boilercut.lines import split_lines
from boilercut.persist import ModelFileError, load_model
from boilercut.read_progress import ReadProgress
from boilercut.site_pass import check_rereadable
from boilercut.site_repeats import MIN_SITE_PAGES
from boilercut.textio import InputError, encode_line, read_page, read_stdin_page
from boilercut.worker_process import usable_cpus

EXIT_USAGE, EXIT_INPUT, EXIT_MODEL, EXIT_BAD_RECORD, EXIT_OUTPUT = 2, 3, 4, 5, 6


class UsageError(ValueError):
    pass


_SIZE_UNITS = {"": 1, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30}


def byte_size(text: str) -> int:
    """A --max-record-bytes value: bytes, or with a K, M or G suffix (KiB, MiB, GiB)."""
    number, unit = (text[:-1], text[-1].upper()) if text[-1:].upper() in ("K", "M", "G") else (text, "")
    if not number.isdecimal() or int(number) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of bytes >= 1, optionally with K, M or G "
                                         f"(as in 256M), got {text!r}")
    return int(number) * _SIZE_UNITS[unit]


def parse_args(argv=None, prog: str = "boilercut predict") -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog=prog, description="Remove boilerplate lines from pages.")
    ap.add_argument("inputs", nargs="+", help="page text files, directories of .txt pages, JSONL (.gz) or "
                                              "parquet corpora, or - for standard input")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--labels", action="store_true", help="show every line with its label and content score")
    mode.add_argument("--json", action="store_true", help="one JSON record per page with per-line labels and scores")
    ap.add_argument("--threshold", type=float, default=None,
                    help="keep lines whose content score is at least this, on every page (0..1; default: the threshold of --keep)")
    ap.add_argument("--keep", default=None, metavar="POINT",
                    help="operating point: conservative, balanced, aggressive, or auto (each page by its "
                         "style: raw scraper text or extractor output); default: the model's, auto")
    ap.add_argument("--model", default=None,
                    help="model file (default: $BOILERCUT_MODEL, else models/boilercut.joblib in a source "
                         "checkout, else the user cache; trained on the first call if absent)")
    ap.add_argument("--trust-model-file", action="store_true",
                    help="load a .joblib model with plain joblib.load, which runs any code the file holds "
                         "(default: only what a boilercut model holds is built)")
    ap.add_argument("--mode", choices=MODES, default="lines",
                    help="lines: remove every boilerplate line; trim: only before the first and after "
                         "the last kept line")
    ap.add_argument("--max-removed-share", type=float, default=None, metavar="S",
                    help="drop a whole document when more than this share (0..1) of its words is removed "
                         "(default: never)")
    corpus = ap.add_argument_group("corpora")
    corpus.add_argument("--output", default=None, help="write the cleaned corpus here (- for stdout)")
    corpus.add_argument("--output-format", choices=("jsonl", "parquet"), default=None,
                        help="default: from the --output name, else the input's format")
    corpus.add_argument("--input-format", choices=FORMATS, default=None,
                        help="default: from each input's name (.jsonl, .jsonl.gz, .parquet; else a page)")
    corpus.add_argument("--text-field", default="text", help="field holding the document text (default: text)")
    corpus.add_argument("--id-field", default=None,
                        help="field naming a document; for page inputs the field that gets the file name "
                             "(default: id)")
    corpus.add_argument("--audit", default=None, metavar="PATH",
                        help="also write, per document, every removed line with its number, label and "
                             "score, as JSON Lines (.jsonl or .jsonl.gz)")
    corpus.add_argument("--compression-level", type=int, default=None, metavar="L",
                        help="gzip level of a .jsonl.gz output, 0 (fastest) to 3 (smallest), ISA-L's scale "
                             "(default: 1)")
    corpus.add_argument("--jobs", type=int, default=1, help="worker processes (default: 1)")
    corpus.add_argument("--batch-lines", type=int, default=BATCH_LINES,
                        help=f"lines scored per model call (default: {BATCH_LINES}; memory grows with it)")
    corpus.add_argument("--max-record-bytes", type=byte_size, default=MAX_RECORD_BYTES, metavar="N",
                        help="the largest document read: a corpus record (its JSONL line) or a page file, "
                             f"in bytes or with K, M, G (default: {MAX_RECORD_BYTES // 2 ** 20}M); a larger "
                             "record is a malformed one, a larger page an unreadable input")
    corpus.add_argument("--max-record-lines", type=int, default=MAX_RECORD_LINES, metavar="N",
                        help=f"the most lines a document may have (default: {MAX_RECORD_LINES:,}); as for "
                             "--max-record-bytes")
    corpus.add_argument("--skip-bad-records", action="store_true",
                        help="skip malformed records (each is named on stderr) instead of stopping")
    corpus.add_argument("--site-repeats", action="store_true",
                        help="two passes: count the lines each site repeats across its pages, then clean with "
                             f"the counts (the model's site stage reads them; rows get {SITE_STATS_FIELD}); "
                             "the inputs must be files")
    corpus.add_argument("--site-field", default=None, metavar="NAME",
                        help="with --site-repeats: the field naming a record's site (default: the host of its url)")
    corpus.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    return ap.parse_args(argv)


def warn(message: str) -> None:
    print(f"predict: warning: {message}", file=sys.stderr)


def read_input(name: str, max_bytes: int, max_lines: int) -> str:
    text, lossless = read_stdin_page(max_bytes, max_lines) if name == "-" else read_page(name, max_bytes, max_lines)
    if not lossless:
        warn(f"{name}: not valid UTF-8; undecodable bytes are passed through unchanged")
    return text


def render(name: str, lines: list[str], labels: list[str], scores, keep, threshold: float, args) -> bytes:
    if args.json:
        record = {"input": name, "threshold": threshold, "lines": lines, "labels": labels,
                  "scores": [round(float(s), 4) for s in scores], "keep": keep}
        return json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogateescape") + b"\n"
    if args.labels:
        width = max((len(lab) for lab in labels), default=0)
        return b"".join(encode_line(f"{'+' if k else '-'} {lab:<{width}} {s:.2f} | {line}\n")
                        for line, lab, s, k in zip(lines, labels, scores, keep))
    return b"".join(encode_line(line) + b"\n" for line, k in zip(lines, keep) if k)


def print_pages(args, names: list[str], model) -> int:
    """The page mode: kept lines (or labels, or JSON) of each page on stdout."""
    status = 0
    out = sys.stdout.buffer
    headers = len(names) > 1 and not args.json
    for i, name in enumerate(names):
        try:
            lines = split_lines(read_input(name, args.max_record_bytes, args.max_record_lines))
        except InputError as err:
            print(f"predict: error: {err}", file=sys.stderr)
            status = EXIT_INPUT
            continue
        # One model pass gives both; plain output ignores the labels.
        scored = model.score([lines])
        scores, labels = scored.keep, list(scored.labels)
        threshold = float(model.page_thresholds([lines], [scores], args.keep, args.threshold, [scored.words])[0])
        keep = keep_decisions(scores, threshold, args.mode)
        if args.max_removed_share is not None and summarise(lines, keep, args.max_removed_share, scored.words).dropped:
            warn(f"{name}: more than {args.max_removed_share} of its words are boilerplate; page dropped")
            keep = [False] * len(lines)
        header = encode_line(f"{'' if i == 0 else chr(10)}==> {name} <==\n") if headers else b""
        try:
            out.write(header + render(name, lines, labels, scores, keep, threshold, args))
            out.flush()
        except BrokenPipeError:
            raise  # the reader is gone (`| head`): not an error, see __main__
        except OSError as err:  # a full disk, say
            print(f"predict: error: cannot write stdout: {err}", file=sys.stderr)
            discard_stdout()
            return EXIT_OUTPUT
    return status


def discard_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush of what is still buffered when it
    exits does not fail again and print a second report."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def expand_sources(args) -> tuple[list[tuple[str, str]], int]:
    """(path, format) of every input with directories expanded, and the exit status so far."""
    sources, status = [], 0
    for name in args.inputs:
        try:
            sources += expand_input(name, args.input_format)
        except InputError as err:
            print(f"predict: error: {err}", file=sys.stderr)
            status = EXIT_INPUT
    for path, _ in sources:
        if args.output and same_file(path, args.output):
            raise UsageError(f"--output {args.output} is also an input; write to another file")
        if args.audit and same_file(path, args.audit):
            raise UsageError(f"--audit {args.audit} is also an input; write to another file")
    return sources, status


def output_format(args, sources) -> str:
    if args.output_format:
        return args.output_format
    if args.output and format_of(args.output) != "txt":
        return format_of(args.output)
    return next((fmt for _, fmt in sources if fmt != "txt"), "jsonl")


def clean_to_output(args, sources, model) -> int:
    """The corpus mode: cleaned records, every field kept, to --output or stdout."""
    target = args.output or "-"
    fmt = output_format(args, sources)
    if target == "-" and fmt != "jsonl":
        raise UsageError("parquet cannot be written to standard output; pass --output FILE.parquet")
    parquet_in = [p for p, f in sources if f == "parquet"]
    schema = (output_schema(parquet_schema(parquet_in[0]), args.site_repeats)
              if fmt == "parquet" and len(parquet_in) == len(sources) else None)
    site_counts = count_site_repeats(args, sources, model) if args.site_repeats else None
    bar = ReadProgress(sources, disable=args.quiet or not sys.stderr.isatty())
    try:
        with CorpusWriter(target, fmt, schema, args.compression_level) as out, \
                open_audit(args.audit, args.compression_level) as audit:
            # JSONL is encoded where it is cleaned (in the --jobs workers), so that the
            # parent only reads, compresses and writes.
            write = out.write if out.encode is None else out.write_encoded
            totals = clean_corpus(sources, write, model=model, encode=out.encode,
                                  model_path=args.model, text_field=args.text_field, id_field=args.id_field,
                                  threshold=args.threshold, keep=args.keep, mode=args.mode, max_removed_share=args.max_removed_share,
                                  jobs=args.jobs, skip_bad=args.skip_bad_records, batch_lines=args.batch_lines,
                                  max_record_bytes=args.max_record_bytes, max_record_lines=args.max_record_lines,
                                  utf8_only=fmt == "parquet", site_counts=site_counts, site_field=args.site_field,
                                  progress=bar, reading=bar, audit=audit, warn=warn,
                                  trust_model_file=args.trust_model_file)
            nothing_read = totals.unreadable and not (totals.documents or totals.skipped)
            if nothing_read:
                out.discard()  # the previous output is better than an empty one
                if audit is not None:
                    audit.discard()
    finally:
        bar.close()
    if nothing_read:
        kept = "nothing was written" if target == "-" else f"{target} left as it was"
        print(f"predict: error: no input could be read; {kept}", file=sys.stderr)
        return EXIT_INPUT
    if not args.quiet:
        share = totals.lines_removed / totals.lines if totals.lines else 0.0
        print(f"predict: {totals.documents} documents, {totals.written} written to {target}, "
              f"{totals.dropped} dropped by --max-removed-share, {totals.skipped} malformed skipped; "
              f"{totals.lines} lines, {share:.1%} removed", file=sys.stderr)
    return EXIT_INPUT if totals.unreadable else 0


def count_site_repeats(args, sources, model):
    """The first pass of --site-repeats: the corpus's site counts (site_pass.py)."""
    from tqdm import tqdm

    from boilercut.site_pass import count_sites

    if model.site_stage is None:
        warn("the model has no site stage: --site-repeats only counts the removed lines sites repeat")
    min_pages = model.site_stage.min_site_pages if model.site_stage is not None else MIN_SITE_PAGES
    with tqdm(unit=" docs", desc="counting", file=sys.stderr, disable=args.quiet or not sys.stderr.isatty()) as bar:
        return count_sites(sources, args.text_field, args.site_field, args.id_field, min_pages,
                           args.max_record_bytes, args.max_record_lines, progress=bar)


def main(argv=None, prog: str = "boilercut predict") -> int:
    args = parse_args(argv, prog)
    try:
        check_options(args.threshold, args.mode, args.max_removed_share)
        if args.jobs < 1:
            raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
        if args.batch_lines < 1:
            raise ValueError(f"--batch-lines must be at least 1, got {args.batch_lines}")
        if args.max_record_lines < 1:
            raise ValueError(f"--max-record-lines must be at least 1, got {args.max_record_lines}")
        if args.compression_level is not None and args.compression_level not in GZIP_LEVELS:
            raise ValueError(f"--compression-level must be 0..3 (ISA-L's levels), got {args.compression_level}")
        if args.audit is not None:
            check_audit_path(args.audit)
            if args.output is not None and same_file(args.audit, args.output):
                raise ValueError(f"--audit and --output are the same file, {args.audit}")
        if args.compression_level is not None and not str(args.output or "").endswith(".gz"):
            raise ValueError(f"--compression-level applies to a .jsonl.gz --output, not {args.output or 'stdout'}")
        cpus = usable_cpus()
        if args.jobs > cpus:
            # More workers than CPUs only add start-up time and memory.
            warn(f"--jobs {args.jobs} is more than the {cpus} CPUs this process may use; using {cpus}")
            args.jobs = cpus
        sources, status = expand_sources(args)
        if args.site_repeats:
            check_rereadable(sources)
        elif args.site_field is not None:
            raise ValueError("--site-field needs --site-repeats")
    except ValueError as err:
        print(f"predict: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if not sources:
        return status
    corpus_mode = args.output is not None or any(fmt != "txt" for _, fmt in sources)
    if args.site_repeats and not corpus_mode:
        print("predict: error: --site-repeats cleans corpora: pass --output (pages have no site)", file=sys.stderr)
        return EXIT_USAGE
    if corpus_mode and (args.labels or args.json):
        print("predict: error: --labels and --json show pages; they do not apply to corpora or --output",
              file=sys.stderr)
        return EXIT_USAGE
    if args.audit is not None and not corpus_mode:
        print("predict: error: --audit records a corpus run; pass --output", file=sys.stderr)
        return EXIT_USAGE
    try:
        model = load_model(args.model, trust_model_file=args.trust_model_file)
    except ModelFileError as err:
        print(f"predict: error: {err}", file=sys.stderr)
        return EXIT_MODEL
    finally:
        # The model's objects live as long as the process: keep them out of all later
        # collections, which would scan them again and again.
        gc.freeze()
        gc.enable()
    try:
        model.check_point(args.keep)  # an unknown --keep fails before any work
    except ValueError as err:
        print(f"predict: error: --keep: {err}", file=sys.stderr)
        return EXIT_USAGE
    if not corpus_mode:
        return print_pages(args, [path for path, _ in sources], model) or status
    try:
        return clean_to_output(args, sources, model) or status
    except UsageError as err:
        print(f"predict: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BadRecordError as err:
        print(f"predict: error: {err}; nothing was written", file=sys.stderr)
        return EXIT_BAD_RECORD
    except (OSError, ValueError) as err:
        print(f"predict: error: cannot write {args.output or 'stdout'}: {err}", file=sys.stderr)
        return EXIT_OUTPUT


def command(prog: str) -> None:
    """Run `predict` as a program with the arguments in sys.argv; prog: how it was called."""
    handle_sigterm()
    try:
        sys.exit(main(prog=prog))
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM (commands.Terminated)
        sys.exit(stopped("predict", err))
    except BrokenPipeError:  # e.g. `boilercut predict page.txt | head`
        sys.exit(0)


if __name__ == "__main__":
    command("python -m boilercut.predict")
