"""A progress bar over the bytes of a corpus's input files: with a total, so with an ETA.

    progress = ReadProgress(sources, disable=quiet)
    totals = clean_corpus(sources, write, progress=progress, reading=progress)
    progress.close()

Counting documents gives no total before the end (a record's size is unknown until it is
read), but the input files' sizes are known: the bar shows the bytes read of their sum
(compressed bytes for a .gz input, as the file holds them), with documents and lines
beside it. A JSONL source moves the bar as it is read (its file position); a parquet or
page source when it is done. Standard input has no known size: the bar then counts
documents, as before. tqdm draws on stderr, and only when stderr is a terminal.
"""
from __future__ import annotations

import os
import sys


def input_size(sources) -> int | None:
    """Bytes of all (path, format) sources, or None when one has no known size (stdin)."""
    total = 0
    for path, _ in sources:
        if path == "-":
            return None
        try:
            total += os.path.getsize(path)
        except OSError:
            continue  # unreadable: reported where it is read, adds nothing
    return total


class ReadProgress:
    """tqdm-like (update, set_postfix, close) for clean_corpus, told by the readers where
    they are (start, opened, finish)."""

    def __init__(self, sources, disable: bool = False, file=None):
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: --jobs workers are forked (corpus.py)
        self.total = input_size(sources)
        file = sys.stderr if file is None else file
        if self.total is None:
            self.bar = tqdm(unit=" docs", file=file, disable=disable)
        else:
            self.bar = tqdm(total=self.total, unit="B", unit_scale=True, unit_divisor=1024, file=file,
                            disable=disable)
        self.documents = 0
        self._finished = 0      # bytes of the sources read to their end
        self._handle = None     # the raw file of the source being read (JSONL)

    def start(self, path: str) -> None:
        self._handle = None

    def opened(self, handle) -> None:
        """The raw (possibly compressed) file of the source being read."""
        self._handle = handle

    def finish(self, path: str) -> None:
        self._handle = None
        if path != "-":
            try:
                self._finished += os.path.getsize(path)
            except OSError:
                pass

    @property
    def bytes_read(self) -> int:
        position = 0
        if self._handle is not None:
            try:
                position = self._handle.tell()
            except (OSError, ValueError):  # closed meanwhile: finish() counts it
                position = 0
        return self._finished + position

    def update(self, documents: int) -> None:
        self.documents += documents
        if self.total is None:
            self.bar.update(documents)
            return
        self.bar.update(min(self.bytes_read, self.total) - self.bar.n)

    def set_postfix(self, refresh: bool = True, **values) -> None:
        if self.total is not None:
            values = {"docs": self.documents, **values}
        self.bar.set_postfix(refresh=refresh, **values)

    def close(self) -> None:
        self.bar.close()
