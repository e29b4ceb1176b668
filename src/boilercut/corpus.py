"""Clean a whole corpus as a stream: read records, clean them in batches, write them in order.

    from boilercut.corpus import clean_corpus
    with CorpusWriter("clean.jsonl.gz", "jsonl") as out:
        totals = clean_corpus([("crawl.jsonl.gz", "jsonl")], out.write, model_path=None, jobs=4)

Memory stays flat: at most 2 * jobs batches of about batch.BATCH_LINES lines are in
flight. With jobs > 1 the workers are forked with the parent's loaded model (spawned, each
loading it once, where fork does not exist); they parse the JSONL lines the parent read,
clean and encode the rows (and gzip them for a .gz output), and results are written in
input order, so the output does not depend on jobs. Malformed records (including those
over max_record_bytes or max_record_lines, or nested too deeply) are found where they are
read or parsed and reported by the parent in input order, as results come back, with
warnings about records that are still written (undecodable bytes).
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
import sys
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, NamedTuple

from boilercut.audit import audit_row
from boilercut.batch import BATCH_LINES, SITE_STATS_FIELD, STATS_FIELDS, batch_by_lines, clean_batch
from boilercut.corpus_io import (
    MAX_RECORD_BYTES,
    MAX_RECORD_LINES,
    BadRecord,
    Notice,
    RawRecord,
    Record,
    read_source,
)
from boilercut.model import LineModel
from boilercut.persist import load_model
from boilercut.site_repeats import SiteCounts, record_site
from boilercut.textio import InputError
from boilercut.utf8_text import has_lone_surrogates, replace_lone_surrogates
from boilercut.worker_process import die_with_parent

logger = logging.getLogger(__name__)


class BadRecordError(ValueError):
    """A malformed record met while stopping on bad records; str() names source and record."""


@dataclass
class Totals:
    documents: int = 0       # documents read and cleaned (including dropped ones)
    written: int = 0         # documents written
    dropped: int = 0         # removed whole by the document guard
    skipped: int = 0         # malformed records skipped (with skip_bad)
    unreadable: int = 0      # sources that could not be opened
    lines: int = 0
    lines_removed: int = 0

    def add(self, counts: "_Counts") -> None:
        """Add what one cleaned batch counted (its fields are a subset of ours)."""
        for name, value in counts._asdict().items():
            setattr(self, name, getattr(self, name) + value)


class Unreadable(NamedTuple):
    """A source that could not be opened (the InputError's message). It travels in the
    stream of records so that it is warned about in input order with the bad records."""
    message: str


Item = Record | RawRecord | BadRecord | Notice | Unreadable
Problem = BadRecord | Notice | Unreadable


def iter_items(sources: Iterable[tuple[str, str]], text_field: str, id_field: str | None,
               max_record_bytes: int = MAX_RECORD_BYTES, max_record_lines: int = MAX_RECORD_LINES,
               reading=None) -> Iterator[Item]:
    """Everything the sources hold, in order: JSONL records as RawRecord (unparsed: they
    are parsed where they are cleaned), other records as Record, records that cannot be
    used as BadRecord, warnings about a source as Notice, and sources that cannot be
    opened as Unreadable. reading: a read_progress.ReadProgress told where reading is."""
    for path, fmt in sources:
        if reading is not None:
            reading.start(path)
        try:
            yield from read_source(path, fmt, text_field, id_field, parse=False, max_record_bytes=max_record_bytes,
                                   max_record_lines=max_record_lines,
                                   opened=reading.opened if reading is not None else None)
        except InputError as err:
            yield Unreadable(str(err))
        if reading is not None:
            reading.finish(path)


# A "\n" escape in a JSON line. (Counted by regex: bytes.count of this two-byte needle took
# 2.3 times as long, about 9 µs a record of dev-fineweb, 2% of `predict --jobs 1`.)
_NEWLINE_ESCAPE = re.compile(rb"\\n")


def _lines_of(item: Item, text_field: str) -> int:
    """Lines of an item's text, to size batches. An unparsed JSONL line has as many as it
    has "\\n" escapes, plus one (a backslash before an n in the text counts too: an
    estimate is enough to size a batch, and the output does not depend on batches)."""
    if isinstance(item, RawRecord):
        return len(_NEWLINE_ESCAPE.findall(item.raw)) + 1
    if isinstance(item, Record):
        return item.data[text_field].count("\n") + 1
    return 1


def batch_items(items: Iterable[Item], text_field: str, max_lines: int = BATCH_LINES) -> Iterator[list[Item]]:
    """Group items into lists of about max_lines lines of text (unparsed JSONL lines are
    counted in their bytes)."""
    return batch_by_lines(items, lambda item: _lines_of(item, text_field), max_lines)


class _Counts(NamedTuple):
    """What one cleaned batch adds to the Totals."""
    documents: int
    written: int
    dropped: int
    lines: int
    lines_removed: int


def clean_rows(model: LineModel, records: list[Record], text_field: str, options: dict,
               utf8_only: bool = False, audit_id_field: str | None = None, audit: bool = False,
               site_counts: SiteCounts | None = None,
               ) -> tuple[list[dict], _Counts, list[tuple[int, Notice]], list[dict]]:
    """(the cleaned rows of a batch of records, their _Counts, notices about them, and with
    audit their audit.audit_row lines, else []).

    Every row keeps all fields of its record; documents dropped by the guard give no row.
    utf8_only (a parquet output): lone surrogates in a row become U+FFFD (utf8_text), and
    each such record gets a Notice, paired with its index in records. site_counts: the
    corpus's site counts, each record's site being site_repeats.record_site of options'
    "site_field"."""
    options = dict(options)
    site_field = options.pop("site_field", None)
    if site_counts is not None:
        options.update(site_counts=site_counts, sites=[record_site(r.data, site_field) for r in records])
    results = clean_batch(model, [r.data[text_field] for r in records], **options, audit=audit)
    audited = [row for r, c in zip(records, results) if (row := audit_row(r, c, audit_id_field))] if audit else []
    rows, notices = [], []
    for i, (record, cleaned) in enumerate(zip(records, results)):
        if cleaned.dropped:
            continue
        row = {**record.data, text_field: cleaned.text, **cleaned.stats()}
        if utf8_only and has_lone_surrogates(row):
            row = replace_lone_surrogates(row)
            notices.append((i, Notice(f"{record.source}: record {record.number}: undecodable bytes written as "
                                      "U+FFFD (parquet text must be valid UTF-8)")))
        rows.append(row)
    lines = sum(c.lines_kept + c.lines_removed for c in results)
    counts = _Counts(len(records), len(rows), len(records) - len(rows), lines, sum(c.lines_removed for c in results))
    return rows, counts, notices, audited


def clean_items(model: LineModel, items: list[Item], text_field: str, options: dict, encode=None,
                site_counts: SiteCounts | None = None):
    """(clean_rows of a batch's records, or encode(rows), their _Counts, the batch's
    problems in input order: BadRecord, Notice and Unreadable items, and notices about
    records clean_rows wrote, and the batch's audit lines encoded by options["audit_encode"],
    or None without it). options: clean_batch's keyword arguments, plus "utf8_only",
    "audit_encode" and "id_field" for clean_rows. items is emptied once read.

    Unparsed JSONL lines are parsed here, so in the workers with jobs > 1: the parent then
    neither parses JSON nor pickles str, which takes most of the parent's CPU off it."""
    options = dict(options)
    utf8_only = options.pop("utf8_only", False)
    audit_encode, id_field = options.pop("audit_encode", None), options.pop("id_field", None)
    records, positions, problems = [], [], []
    for position, item in enumerate(items):
        if isinstance(item, RawRecord):
            item = item.parse(text_field)
        if isinstance(item, Record):
            records.append(item)
            positions.append(position)
        else:
            problems.append((position, item))
    # Let the raw JSONL lines go before cleaning: the caller is done with the batch, and a
    # record of 100 MB was otherwise held once more while it was cleaned.
    items.clear()
    rows, counts, notices, audited = clean_rows(model, records, text_field, options, utf8_only, id_field,
                                                audit=audit_encode is not None, site_counts=site_counts)
    problems += [(positions[i], notice) for i, notice in notices]
    problems.sort(key=lambda pair: pair[0])  # stable: a record's problems stay in order
    return ((rows if encode is None else encode(rows)), counts, [problem for _, problem in problems],
            audit_encode(audited) if audit_encode is not None else None)


def _report(problem: Problem, skip_bad: bool, totals: Totals, warn: Callable[[str], None]) -> None:
    """Warn about an unreadable source or a notice; stop at a bad record (BadRecordError),
    or skip it."""
    if isinstance(problem, Notice):
        warn(problem.message)
    elif isinstance(problem, Unreadable):
        totals.unreadable += 1
        warn(problem.message)
    elif not skip_bad:
        raise BadRecordError(f"{problem} (pass --skip-bad-records to skip such records)")
    else:
        totals.skipped += 1
        warn(f"skipped {problem}")


_worker_model: LineModel | None = None
_worker_site_counts: SiteCounts | None = None


def _init_worker(model_path, parent_pid: int, site_counts: SiteCounts | None = None,
                 trust_model_file: bool = False) -> None:
    """Pool initializer: die with the parent; ignore Ctrl-C (the parent's to handle) and
    die at SIGTERM (a forked worker inherits the parent's handler, which would raise); a
    spawned worker loads the model (trusting the file as the caller did), a forked one
    (model_path None) already has it."""
    global _worker_model, _worker_site_counts
    _worker_site_counts = site_counts  # forked: inherited, not pickled
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if model_path is not None or _worker_model is None:
        _worker_model = load_model(model_path, trust_model_file=trust_model_file)


def _clean_in_worker(items, text_field, options, encode):
    return clean_items(_worker_model, items, text_field, options, encode, _worker_site_counts)


def _start_pool(jobs: int, model: LineModel | None, model_path,
                site_counts: SiteCounts | None = None, trust_model_file: bool = False) -> ProcessPoolExecutor:
    """jobs worker processes, all started before this returns.

    Where fork exists (Linux) and the model is loaded, the workers are forked: they
    inherit the model instead of importing scikit-learn and loading the model again
    (a start-up per worker, on top of the parent's own). They are
    started here, before any input is opened or output written, so that no reader thread
    (pyarrow, tqdm) and no unwritten output buffer is copied into them. Elsewhere, or
    without a loaded model, workers are spawned and each loads the model."""
    global _worker_model
    if model is not None and "fork" in multiprocessing.get_all_start_methods():
        _worker_model = model
        context, path = multiprocessing.get_context("fork"), None
    else:
        context, path = multiprocessing.get_context("spawn"), model_path
    for stream in (sys.stdout, sys.stderr):  # a forked worker flushes its copy when it exits
        if stream is not None:
            stream.flush()
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                               initargs=(path, os.getpid(), site_counts, trust_model_file))
    # A forking pool starts all its workers at the first submit; a spawning one one per
    # submit while fewer than jobs are idle. Either way: all of them, now.
    for future in [pool.submit(int) for _ in range(jobs)]:
        future.result()
    return pool


def map_batches(batches: Iterable[list[Item]], text_field: str, options: dict, jobs: int,
                model: LineModel | None, model_path, encode=None,
                site_counts: SiteCounts | None = None, trust_model_file: bool = False) -> Iterator[tuple]:
    """clean_items of each batch, in input order; jobs > 1 cleans batches in worker
    processes, which also parse and encode the rows, so that the parent only reads and writes."""
    if jobs <= 1:
        model = model if model is not None else load_model(model_path, trust_model_file=trust_model_file)
        for batch in batches:
            yield clean_items(model, batch, text_field, options, encode, site_counts)
        return
    with _start_pool(jobs, model, model_path, site_counts, trust_model_file) as pool:
        pending: deque = deque()
        try:
            for batch in batches:
                pending.append(pool.submit(_clean_in_worker, batch, text_field, options, encode))
                if len(pending) >= 2 * jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except BaseException:
            _stop_workers(pool)
            raise


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now rather than after their current batch, whose result nobody
    will read: Ctrl-C or SIGTERM then ends the run in well under a second."""
    if hasattr(pool, "terminate_workers"):  # Python 3.14
        pool.terminate_workers()
        return
    # Before it, only the private table of processes has them.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def clean_corpus(sources: Iterable[tuple[str, str]], write: Callable[[list[dict]], None], *,
                 model: LineModel | None = None, model_path=None, text_field: str = "text",
                 id_field: str | None = None, threshold: float | None = None, keep: str | None = None,
                 mode: str = "lines",
                 max_removed_share: float | None = None, jobs: int = 1, skip_bad: bool = False,
                 batch_lines: int = BATCH_LINES, progress=None, encode=None,
                 max_record_bytes: int = MAX_RECORD_BYTES, max_record_lines: int = MAX_RECORD_LINES,
                 utf8_only: bool = False, reading=None, audit=None, site_counts: SiteCounts | None = None,
                 site_field: str | None = None, trust_model_file: bool = False,
                 warn: Callable[[str], None] = logger.warning) -> Totals:
    """Clean every record of the sources and pass the cleaned rows, in order, to write.

    Each row keeps all fields of its record; text_field is replaced by the kept text and
    the STATS_FIELDS are added. encode: an optional picklable function rows -> bytes
    (CorpusWriter.encode); write then gets its bytes, encoded in the worker processes.
    Bad records (including those over max_record_bytes or max_record_lines) stop the run with
    BadRecordError, or with skip_bad are skipped and warned about; unreadable sources and
    notices are warned about; all in input order. utf8_only: the output holds only valid
    UTF-8 (parquet): lone surrogates are written as U+FFFD, with a warning per record.
    progress: an optional tqdm-like object (update, set_postfix); reading: an optional
    read_progress.ReadProgress that the readers tell how far they are. audit: an optional
    CorpusWriter that gets every batch's audit lines (audit.py), encoded where cleaned.
    site_counts: the counts of a first pass over the same sources (site_pass.count_sites),
    each record's site being its site_field or its url's host; rows then get
    SITE_STATS_FIELD too. trust_model_file: workers that load model_path themselves (spawned,
    where fork does not exist) load it as persist.load_model(trust_model_file=...) would.
    """
    totals = Totals()
    options = {"threshold": threshold, "keep": keep, "mode": mode, "max_removed_share": max_removed_share,
               "utf8_only": utf8_only, "site_field": site_field}
    if audit is not None:
        options.update(audit_encode=audit.encode, id_field=id_field)
    batches = batch_items(iter_items(sources, text_field, id_field, max_record_bytes, max_record_lines, reading),
                          text_field, batch_lines)
    for rows, counts, problems, audited in map_batches(batches, text_field, options, jobs, model, model_path, encode,
                                                       site_counts, trust_model_file):
        for problem in problems:
            _report(problem, skip_bad, totals, warn)
        write(rows)
        if audit is not None:
            audit.write_encoded(audited)
        totals.add(counts)
        if progress is not None:
            progress.update(counts.documents)
            progress.set_postfix(lines=totals.lines, refresh=False)
    return totals


def output_schema(input_schema, site_stats: bool = False):
    """A parquet input's schema plus the statistics columns, so an output keeps the types."""
    import pyarrow as pa

    types = {"lines_kept": pa.int64(), "lines_removed": pa.int64(), "words_removed_share": pa.float64(),
             SITE_STATS_FIELD: pa.int64()}
    schema = input_schema
    for name in STATS_FIELDS + ((SITE_STATS_FIELD,) if site_stats else ()):
        if schema.get_field_index(name) < 0:
            schema = schema.append(pa.field(name, types[name]))
    return schema
