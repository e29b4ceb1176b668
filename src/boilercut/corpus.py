"""Clean a whole corpus as a stream: read records, clean them in batches, write them in order.

    from boilercut.corpus import clean_corpus
    with CorpusWriter("clean.jsonl.gz", "jsonl") as out:
        totals = clean_corpus([("crawl.jsonl.gz", "jsonl")], out.write, model_path=None, jobs=4)

Memory stays flat: at most 2 * jobs batches of about batch.BATCH_LINES lines are in
flight. With jobs > 1 every worker process loads the model once (pool initializer) and
results are written in input order, so the output does not depend on jobs.
"""
from __future__ import annotations

import logging
import multiprocessing
import signal
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from boilercut.batch import BATCH_LINES, STATS_FIELDS, batch_texts, clean_texts
from boilercut.corpus_io import BadRecord, Record, read_source
from boilercut.model import LineModel
from boilercut.persist import load_model
from boilercut.textio import InputError

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


def iter_records(sources: Iterable[tuple[str, str]], text_field: str, id_field: str | None,
                 skip_bad: bool, totals: Totals, warn: Callable[[str], None]) -> Iterator[Record]:
    """Good records of every source; bad ones raise BadRecordError, or are skipped and warned."""
    for path, fmt in sources:
        try:
            for item in read_source(path, fmt, text_field, id_field):
                if isinstance(item, BadRecord):
                    if not skip_bad:
                        raise BadRecordError(f"{item} (pass --skip-bad-records to skip such records)")
                    totals.skipped += 1
                    warn(f"skipped {item}")
                    continue
                yield item
        except InputError as err:
            totals.unreadable += 1
            warn(str(err))


_worker_model: LineModel | None = None


def _init_worker(model_path) -> None:
    global _worker_model
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _worker_model = load_model(model_path)


def _clean_in_worker(texts, threshold, mode, max_removed_share):
    return clean_texts(_worker_model, texts, threshold, mode, max_removed_share)


def map_batches(batches: Iterable[list[Record]], text_field: str, options: dict, jobs: int,
                model: LineModel | None, model_path) -> Iterator[tuple[list[Record], list]]:
    """(batch, cleaned results) in input order; jobs > 1 runs batches in worker processes."""
    if jobs <= 1:
        model = model if model is not None else load_model(model_path)
        for batch in batches:
            yield batch, clean_texts(model, [r.data[text_field] for r in batch], **options)
        return
    # spawn, not fork: forking a process that runs reader threads (pyarrow, tqdm) can deadlock
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                             initargs=(model_path,)) as pool:
        pending: deque = deque()
        try:
            for batch in batches:
                texts = [r.data[text_field] for r in batch]
                pending.append((batch, pool.submit(_clean_in_worker, texts, **options)))
                if len(pending) >= 2 * jobs:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def clean_corpus(sources: Iterable[tuple[str, str]], write: Callable[[list[dict]], None], *,
                 model: LineModel | None = None, model_path=None, text_field: str = "text",
                 id_field: str | None = None, threshold: float | None = None, mode: str = "lines",
                 max_removed_share: float | None = None, jobs: int = 1, skip_bad: bool = False,
                 batch_lines: int = BATCH_LINES, progress=None,
                 warn: Callable[[str], None] = logger.warning) -> Totals:
    """Clean every record of the sources and pass the cleaned rows, in order, to write.

    Each row keeps all fields of its record; text_field is replaced by the kept text and
    the STATS_FIELDS are added. progress: an optional tqdm-like object (update, set_postfix).
    """
    totals = Totals()
    options = {"threshold": threshold, "mode": mode, "max_removed_share": max_removed_share}
    records = iter_records(sources, text_field, id_field, skip_bad, totals, warn)
    batches = batch_texts(records, lambda r: r.data[text_field], batch_lines)
    for batch, results in map_batches(batches, text_field, options, jobs, model, model_path):
        rows = []
        for record, cleaned in zip(batch, results):
            totals.documents += 1
            totals.lines += cleaned.lines_kept + cleaned.lines_removed
            totals.lines_removed += cleaned.lines_removed
            if cleaned.dropped:
                totals.dropped += 1
                continue
            rows.append({**record.data, text_field: cleaned.text, **cleaned.stats()})
        write(rows)
        totals.written += len(rows)
        if progress is not None:
            progress.update(len(batch))
            progress.set_postfix(lines=totals.lines, refresh=False)
    return totals


def output_schema(input_schema):
    """A parquet input's schema plus the statistics columns, so an output keeps the types."""
    import pyarrow as pa

    types = {"lines_kept": pa.int64(), "lines_removed": pa.int64(), "words_removed_share": pa.float64()}
    schema = input_schema
    for name in STATS_FIELDS:
        if schema.get_field_index(name) < 0:
            schema = schema.append(pa.field(name, types[name]))
    return schema
