"""The output of a labeling session: accepted pages appended to a JSON Lines file.

    store = LabelFile("labels.jsonl", ["content", "nav", "clickbait", "footer"])
    store.append({"id": ..., "lines": [...], "labels": [...], ...})

Each page is one record in the project's format (data/README.md), written as one
complete line: appended (O_APPEND), flushed and fsynced, under an exclusive lock
(fcntl.flock) that every writer takes, so two servers (or two browsers of one server)
on the same file never interleave or lose records. Before writing, a writer reads what
the others appended since it last looked. A page labeled again is appended again: the
later record wins.

A crash can still cut the last line short (power lost inside the write). Under the lock
no writer is inside a write, so a last line without its newline is torn: it is moved to
`<file>.torn` (appended there, nothing is lost) and cut from the file. Any other line
that is not a record with known labels is an error: the file is someone else's, or was
edited, and is left as it is.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

from boilercut.jsonl_codec import JSONLineError, decode_json_line, json_line
from boilercut.label.pages import lines_digest

logger = logging.getLogger(__name__)


class LabelFileError(ValueError):
    """An output file that cannot be appended to; the message names the file and line."""


class LabelFile:
    def __init__(self, path: str | Path, labels: Sequence[str]):
        self.path = Path(path)
        self.labels = list(labels)
        self.records: dict[str, dict] = {}   # id -> its latest record
        self.digests: dict[str, str] = {}    # hash of a record's lines -> its id
        self.torn: list[str] = []            # what was done about torn lines, for the caller to tell
        self._offset = 0                     # bytes read so far (whole lines only)
        self._line = 0                       # lines read so far
        self._thread_lock = threading.Lock()  # flock does not exclude threads sharing the descriptor
        if self.path.is_dir():
            raise LabelFileError(f"{self.path}: is a directory, not an output file")
        created = not self.path.exists()
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as err:
            raise LabelFileError(f"{self.path}: cannot open for appending ({err.strerror})") from None
        if created:  # the new name must survive a crash too
            _fsync_dir(self.path.parent)
        try:
            with self._locked():
                self._read_new()
        except BaseException:
            os.close(self._fd)
            raise

    def close(self) -> None:
        os.close(self._fd)

    @contextmanager
    def _locked(self):
        with self._thread_lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def refresh(self) -> None:
        """Read what other writers appended."""
        if os.fstat(self._fd).st_size != self._offset:
            with self._locked():
                self._read_new()

    def is_done(self, page_id: str, digest: str) -> bool:
        return page_id in self.records or digest in self.digests

    def latest(self, page_id: str, digest: str | None = None) -> dict | None:
        """The latest record of a page, by id or by the hash of its lines."""
        if page_id in self.records:
            return self.records[page_id]
        return self.records.get(self.digests.get(digest, ""))

    def append(self, record: dict) -> None:
        """Write one record as one line, durably; raises LabelFileError when it has
        labels outside the label set or when the write fails (the file is then left
        as it was)."""
        self._check(record, "record to write")
        data = json_line(record)
        with self._locked():
            self._read_new()
            size = os.fstat(self._fd).st_size
            try:
                written = os.write(self._fd, data)
                if written != len(data):
                    raise OSError(28, f"wrote {written} of {len(data)} bytes")
                os.fsync(self._fd)
            except OSError as err:
                os.ftruncate(self._fd, size)  # no torn line behind a failed write
                raise LabelFileError(f"{self.path}: cannot append ({err.strerror or err})") from None
            self._read_new()

    def _read_new(self) -> None:
        """Read the lines appended since the last call (the lock is held)."""
        os.lseek(self._fd, self._offset, os.SEEK_SET)
        chunks = []
        while chunk := os.read(self._fd, 1 << 20):
            chunks.append(chunk)
        data = b"".join(chunks)
        end = data.rfind(b"\n") + 1
        if end < len(data):
            data = data[:end] + self._end_tail(data[end:], self._offset + end)
            end = len(data)
        for raw in data[:end].splitlines(keepends=True):
            self._line += 1
            if raw.strip():
                self._ingest(raw)
            self._offset += len(raw)

    def _end_tail(self, tail: bytes, start: int) -> bytes:
        """A last line without its newline (the lock is held): a whole record (a file
        written by hand) gets its newline and is returned; anything else is torn, moved
        to <file>.torn and cut from the file."""
        try:
            self._check(decode_json_line(tail), "last line")
        except (JSONLineError, LabelFileError):
            self._move_torn_tail(tail, start)
            return b""
        os.write(self._fd, b"\n")
        os.fsync(self._fd)
        return tail + b"\n"

    def _move_torn_tail(self, tail: bytes, start: int) -> None:
        side = self.path.with_name(self.path.name + ".torn")
        fd = os.open(side, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, tail + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.ftruncate(self._fd, start)
        os.fsync(self._fd)
        message = (f"{self.path}: line {self._line + 1} was cut short by a crash ({len(tail)} bytes); "
                   f"moved to {side}")
        logger.warning(message)
        self.torn.append(message)

    def _ingest(self, raw: bytes) -> None:
        where = f"line {self._line}"
        try:
            record = decode_json_line(raw)
        except JSONLineError as err:
            raise LabelFileError(f"{self.path}: {where}: {err}") from None
        self._check(record, where)
        self.records.pop(record["id"], None)  # re-insert: the dict keeps the order of last labeling
        self.records[record["id"]] = record
        self.digests[lines_digest(record["lines"])] = record["id"]

    def _check(self, record, where: str) -> None:
        if not isinstance(record, dict):
            raise LabelFileError(f"{self.path}: {where}: not a JSON object")
        lines, labels = record.get("lines"), record.get("labels")
        if not isinstance(record.get("id"), str) or not isinstance(lines, list) or not isinstance(labels, list):
            raise LabelFileError(f"{self.path}: {where}: not a labeled page (needs id, lines, labels)")
        if len(lines) != len(labels):
            raise LabelFileError(f"{self.path}: {where}: {len(lines)} lines but {len(labels)} labels")
        for label in labels:
            if label is not None and label not in self.labels:
                raise LabelFileError(f"{self.path}: {where}: label {label!r} is not one of the model's "
                                     f"labels {self.labels}")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
