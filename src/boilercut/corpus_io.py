"""Streaming corpus readers and writers: page files, directories, JSONL (.gz) and parquet.

Readers yield one `Record` per document, or a `BadRecord` naming the source and record
number (1-based: the line number in JSONL, the row number in parquet) for a record that
cannot be used, including one larger than max_record_bytes (read in bounded pieces, so
it is never held whole) or whose text has more than max_record_lines lines; the caller
decides whether to stop or skip. A `Notice` is a warning about a source that is still
read. A source that cannot be opened at all raises textio.InputError. Writers replace an
output only on success (see output_file.py), so an interrupted run never leaves a partial
output nor destroys an existing one.
"""
from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path
from typing import Iterator, NamedTuple

from isal import igzip, isal_zlib

from boilercut.jsonl_codec import JSONLineError, decode_json_line, jsonl_bytes
from boilercut.lines import line_count
from boilercut.output_file import OutputFile
from boilercut.textio import (
    MAX_PAGE_BYTES,
    MAX_PAGE_LINES,
    InputError,
    open_binary,
    read_page,
    read_stdin_page,
)

FORMATS = ("txt", "jsonl", "parquet")
# Rows per parquet read and write (memory per batch, not a tuning knob for speed).
PARQUET_ROWS = 1000
# gzip is read and written with ISA-L (the isal package; the files are ordinary gzip).
# Level of .jsonl.gz outputs, on ISA-L's scale of 0 to 3. ISA-L level 1 compresses several
# times faster than zlib at about the same size (zlib's default level 6 is much slower for
# a somewhat smaller file); compression was once the largest single cost of
# `predict --output x.jsonl.gz`. ISA-L also decompresses faster than zlib.
GZIP_LEVEL = 1
GZIP_LEVELS = range(0, 4)  # ISA-L's levels: 0 fastest, 3 smallest (`predict --compression-level`)
# The largest record read (bytes: a JSONL line without its newline, the string and binary
# columns of a parquet row, a page file). A larger one is a bad record: a record is held in
# memory several times over while it is cleaned (its text, its lines, their scores, the
# output), and a gzip file of 7 MB can hold a 1 GB line. The same as the page limit.
MAX_RECORD_BYTES = MAX_PAGE_BYTES
# The most lines a record's text may have (see textio.MAX_PAGE_LINES: memory grows with
# lines as well as bytes). A record with more is a bad record.
MAX_RECORD_LINES = MAX_PAGE_LINES
# Long JSONL lines are read this many bytes at a time, so that one over the limit is
# counted and skipped without being held whole.
_READ_PIECE = 1 << 20


class Record(NamedTuple):
    source: str   # file name, or <stdin>
    number: int   # 1-based record number in the source
    data: dict    # every field of the record; data[text_field] is a str


class RawRecord(NamedTuple):
    """One JSONL line not yet parsed: read_source(..., parse=False) leaves parsing to the
    caller, so that `clean_corpus --jobs N` parses in its workers, not in the parent."""
    source: str
    number: int   # 1-based line number
    raw: bytes | bytearray  # the line as read, newline included (bytearray when read in pieces)
    max_lines: int = MAX_RECORD_LINES  # the limit on its text's lines, checked when parsed

    def parse(self, text_field: str) -> "Record | BadRecord":
        return _parse_json(self.source, self.number, self.raw, text_field, self.max_lines)


class BadRecord(NamedTuple):
    source: str
    number: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: record {self.number}: {self.reason}"


class Notice(NamedTuple):
    """A warning about a source that is still read (a page that is not valid UTF-8)."""
    message: str


def format_of(path: str | Path) -> str:
    """The corpus format a file name implies: jsonl, parquet, or txt (a page) otherwise."""
    name = str(path).lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json.gz")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    return "txt"


def expand_input(name: str, input_format: str | None = None) -> list[tuple[str, str]]:
    """(path, format) of the sources one input names; a directory means all .txt files under it."""
    if name == "-":
        return [(name, input_format or "txt")]
    if Path(name).is_dir():
        pages = sorted(p for p in Path(name).rglob("*.txt") if p.is_file())
        if not pages:
            raise InputError(f"{name}: directory contains no .txt pages")
        return [(str(p), "txt") for p in pages]
    return [(name, input_format or format_of(name))]


def read_source(path: str, fmt: str, text_field: str = "text", id_field: str | None = None,
                parse: bool = True, max_record_bytes: int = MAX_RECORD_BYTES,
                max_record_lines: int = MAX_RECORD_LINES, opened=None):
    """Records of one source; InputError when it cannot be opened. parse False: JSONL
    records come as RawRecord, to be parsed by the caller (RawRecord.parse). A record
    over max_record_bytes, or whose text has more than max_record_lines lines, is a
    BadRecord (a page file over either, an InputError). opened: called with a JSONL
    file's raw handle once it is open (its tell() is how far the file has been read)."""
    for name, value in (("max_record_bytes", max_record_bytes), ("max_record_lines", max_record_lines)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if fmt == "txt":
        return _read_txt(path, text_field, id_field or "id", max_record_bytes, max_record_lines)
    if fmt == "jsonl":
        lines = _read_jsonl_lines(path, max_record_bytes, max_record_lines, opened)
        return _parsed(lines, text_field) if parse else lines
    if fmt == "parquet":
        return _read_parquet(path, text_field, max_record_bytes, max_record_lines)
    raise ValueError(f"input format must be one of {list(FORMATS)}, got {fmt!r}")


def _read_txt(path: str, text_field: str, id_field: str, max_bytes: int,
              max_lines: int) -> Iterator[Record | Notice]:
    name = "<stdin>" if path == "-" else path
    text, lossless = (read_stdin_page(max_bytes, max_lines) if path == "-"
                      else read_page(path, max_bytes, max_lines))
    if not lossless:  # the warning page mode gives, with what becomes of the bytes in a corpus
        yield Notice(f"{name}: not valid UTF-8; undecodable bytes are kept "
                     "(as \\udcXX escapes in JSON, U+FFFD in parquet)")
    yield Record(name, 1, {id_field: path, text_field: text})


def _gunzipped(f):
    """The stream decompressed when it starts with gzip's magic bytes, else itself."""
    return igzip.GzipFile(fileobj=f, mode="rb") if f.peek(2)[:2] == b"\x1f\x8b" else f


def _read_jsonl_lines(path: str, max_bytes: int, max_lines: int, opened=None) -> Iterator[RawRecord | BadRecord]:
    source = "<stdin>" if path == "-" else path
    handle = sys.stdin.buffer if path == "-" else open_binary(path)
    if opened is not None and path != "-":
        opened(handle)
    f = _gunzipped(handle)
    number = 0
    try:
        lines = _bounded_lines(f, max_bytes)
        # No enumerate and no loop variable: both would hold the last line while this
        # generator waits, and a record of 100 MB would stay in memory as it is cleaned.
        while (line := next(lines, None)) is not None:
            number += 1
            if isinstance(line, int):
                yield BadRecord(source, number, f"{line:,} bytes, over the record limit of {max_bytes:,} bytes "
                                                "(--max-record-bytes)")
            elif not line.isspace():  # the same test as `not line.strip()`, without copying the line
                box, line = [line], None
                yield RawRecord(source, number, box.pop(), max_lines)  # (a blank line is not a record)
    except (OSError, EOFError, isal_zlib.error) as err:  # truncated or corrupt gzip stream
        yield BadRecord(source, number + 1, f"cannot read past this point ({err or 'truncated'}); "
                                            "rest of the file skipped")
    finally:
        if path != "-":
            f.close()
            handle.close()


def _bounded_lines(f, max_bytes: int) -> Iterator[bytes | bytearray | int]:
    """The lines of a binary stream (newline included), except that a line longer than
    max_bytes (without its newline) comes as its length, an int: it is read and counted
    in pieces of _READ_PIECE bytes, never held whole. Memory: at most max_bytes plus a
    piece, whatever the line. A line is yielded out of a list emptied as it goes, so
    that this generator holds no reference to it while it waits."""
    while True:
        line = f.readline(_READ_PIECE)
        if not line:
            return
        size = len(line)
        if line.endswith(b"\n") or size < _READ_PIECE:  # a whole line (the last may lack its newline)
            content = size - line.endswith(b"\n")
            box, line = [line if content <= max_bytes else content], None
            yield box.pop()
            continue
        # A long line: gather it in a bytearray (grown in place, without copies of the
        # whole) while it fits the limit, then only count the rest.
        buffer = bytearray(line) if size <= max_bytes else None
        while not line.endswith(b"\n"):
            line = f.readline(_READ_PIECE)
            if not line:
                break
            size += len(line)
            if buffer is not None and size - line.endswith(b"\n") > max_bytes:
                buffer = None
            elif buffer is not None:
                buffer += line
        box, buffer = [buffer if buffer is not None else size - line.endswith(b"\n")], None
        yield box.pop()


def _parsed(lines: Iterator[RawRecord | BadRecord], text_field: str) -> Iterator[Record | BadRecord]:
    for line in lines:
        yield line.parse(text_field) if isinstance(line, RawRecord) else line


def _parse_json(source: str, number: int, raw: bytes | bytearray, text_field: str,
                max_lines: int = MAX_RECORD_LINES) -> Record | BadRecord:
    try:
        data = decode_json_line(raw)
    except JSONLineError as err:
        return BadRecord(source, number, str(err))
    if not isinstance(data, dict):
        return BadRecord(source, number, f"a JSON {type(data).__name__}, not an object")
    return _checked(source, number, data, text_field, max_lines)


def _checked(source: str, number: int, data: dict, text_field: str, max_lines: int) -> Record | BadRecord:
    if text_field not in data:
        return BadRecord(source, number, f"no {text_field!r} field (see --text-field)")
    text = data[text_field]
    if not isinstance(text, str):
        return BadRecord(source, number, f"field {text_field!r} is {type(text).__name__}, not text")
    if len(text) > max_lines and (lines := line_count(text)) > max_lines:  # fewer characters, fewer lines
        return BadRecord(source, number, f"{lines:,} lines, over the record limit of {max_lines:,} lines "
                                         "(--max-record-lines)")
    return Record(source, number, data)


def _read_parquet(path: str, text_field: str, max_bytes: int, max_lines: int) -> Iterator[Record | BadRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path == "-":
        raise InputError("<stdin>: parquet cannot be read from standard input; pass a file")
    try:
        f = pq.ParquetFile(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"{path}: not a readable parquet file ({err})") from None
    number = 0
    try:
        for batch in f.iter_batches(batch_size=PARQUET_ROWS):
            sizes = _row_bytes(batch)
            if sizes.max(initial=0) <= max_bytes:
                rows = batch.to_pylist()
            else:  # Python objects only for the rows within the limit
                rows = [size if size > max_bytes else batch.slice(i, 1).to_pylist()[0]
                        for i, size in enumerate(sizes.tolist())]
            for row in rows:
                number += 1
                if isinstance(row, int):
                    yield BadRecord(path, number, f"{row:,} bytes, over the record limit of {max_bytes:,} "
                                                  "bytes (--max-record-bytes)")
                else:
                    yield _checked(path, number, row, text_field, max_lines)
    except (pa.ArrowException, OSError) as err:
        yield BadRecord(path, number + 1, f"cannot decode rows from here on ({err}); rest of the file skipped")


def _row_bytes(batch):
    """Bytes of the string and binary columns of each row of a record batch (numpy)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    sizes = np.zeros(batch.num_rows, dtype=np.int64)
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or \
                pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            sizes += pc.binary_length(column).fill_null(0).to_numpy(zero_copy_only=False)
    return sizes


def parquet_schema(path: str):
    """The schema of a parquet input, so that a parquet output keeps its column types."""
    import pyarrow.parquet as pq
    return pq.read_schema(path)


def jsonl_gzip_member(rows: list[dict], level: int = GZIP_LEVEL) -> bytes:
    """Rows as JSON Lines in one complete gzip member (mtime 0, so equal rows give equal bytes).

    A .jsonl.gz output is these members one after the other: a multi-member gzip file,
    which gzip, zcat and Python's gzip module (so pandas and HF datasets) read as one
    stream. Each member is compressed where its rows are encoded, in the --jobs workers:
    gzip in the parent took about half of its CPU."""
    return igzip.compress(jsonl_bytes(rows), compresslevel=level, mtime=0)


class CorpusWriter:
    """Write records as JSONL (gzipped when the name ends in .gz) or parquet, atomically.

    Use as a context manager: the output appears under its name only when the block ends
    without an exception and discard() was not called. path "-" writes JSONL to standard
    output, and a device or FIFO is written in place (neither is atomic; output_file.py).
    A .gz output is a series of gzip members, one per write (see jsonl_gzip_member).
    """

    def __init__(self, path: str, fmt: str, schema=None, compression_level: int | None = None):
        if fmt not in ("jsonl", "parquet"):
            raise ValueError(f"output format must be jsonl or parquet, got {fmt!r}")
        if path == "-" and fmt != "jsonl":
            raise ValueError("only jsonl can be written to standard output")
        self.path, self.fmt, self.schema = path, fmt, schema
        self.gzip = fmt == "jsonl" and path != "-" and str(path).endswith(".gz")
        if compression_level is not None and not self.gzip:
            raise ValueError(f"a compression level applies to a .jsonl.gz output, not {path}")
        if compression_level is not None and compression_level not in GZIP_LEVELS:
            raise ValueError(f"compression level must be 0..3 (ISA-L's levels), got {compression_level}")
        self.level = GZIP_LEVEL if compression_level is None else compression_level
        self._out = self._f = self._parquet = None
        self._empty = True  # nothing written yet
        self._discarded = False

    def __enter__(self) -> "CorpusWriter":
        if self.path == "-":
            self._f = sys.stdout.buffer
            return self
        self._out = OutputFile(self.path)
        self._f = self._out.open()
        return self

    def discard(self) -> None:
        """Leave an existing output as it was: nothing of this run replaces it."""
        self._discarded = True

    @property
    def encode(self):
        """The function rows -> bytes that write_encoded expects (JSONL, gzipped for a .gz
        output), or None (parquet takes rows): callers can encode in worker processes and
        only write here."""
        if self.fmt != "jsonl":
            return None
        if not self.gzip:
            return jsonl_bytes
        return jsonl_gzip_member if self.level == GZIP_LEVEL else partial(jsonl_gzip_member, level=self.level)

    def write(self, rows: list[dict]) -> None:
        if self.fmt == "jsonl":
            self.write_encoded(self.encode(rows))
        elif rows:
            self._write_parquet(rows)

    def write_encoded(self, data: bytes) -> None:
        """Write rows already encoded by self.encode."""
        self._f.write(data)
        self._empty = False

    def _write_parquet(self, rows: list[dict]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.schema is not None:
            extra = set().union(*rows) - set(self.schema.names)
            if extra:
                raise ValueError(f"{self.path}: fields {sorted(extra)} are not in the parquet schema "
                                 f"{self.schema.names}; write jsonl instead")
        if self._parquet is None:
            try:
                if self.schema is None:
                    # from_pylist alone takes the fields of the first row and silently
                    # drops any field that only later rows have: take every row's fields.
                    names = list(dict.fromkeys(name for row in rows for name in row))
                    table = pa.Table.from_pydict({n: [row.get(n) for row in rows] for n in names})
                else:
                    table = pa.Table.from_pylist(rows, schema=self.schema)
                self.schema = table.schema
                self._parquet = pq.ParquetWriter(self._f, self.schema)
            except (pa.ArrowException, TypeError) as err:
                raise ValueError(f"{self.path}: these records cannot be written as parquet ({err}); "
                                 f"write jsonl instead") from None
        else:
            try:
                table = pa.Table.from_pylist(rows, schema=self.schema)
            except (pa.ArrowException, TypeError) as err:
                raise ValueError(f"{self.path}: records do not fit the parquet schema of the first "
                                 f"batch ({err}); write jsonl instead") from None
        self._parquet.write_table(table)

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.path == "-":
            self._f.flush()
            return
        commit = exc_type is None and not self._discarded
        try:
            if self.fmt == "parquet" and self._parquet is None and commit:
                self._write_empty_parquet()
            if self.gzip and self._empty and commit:
                self.write([])  # an empty file is no gzip file; one empty member is
            if self._parquet is not None:
                self._parquet.close()
        except BaseException:
            self._out.close(commit=False)
            raise
        self._out.close(commit)

    def _write_empty_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = self.schema if self.schema is not None else pa.schema([])
        pq.write_table(schema.empty_table(), self._f)


def same_file(a: str, b: str) -> bool:
    """True when two names point at the same file (or would, once b is created)."""
    if a == "-" or b == "-":
        return False
    pa_, pb = Path(a), Path(b)
    try:
        if pa_.exists() and pb.exists():
            return os.path.samefile(pa_, pb)
    except OSError:
        pass
    return pa_.resolve() == pb.resolve()


__all__ = ["Record", "RawRecord", "BadRecord", "Notice", "CorpusWriter", "FORMATS", "MAX_RECORD_BYTES",
           "MAX_RECORD_LINES", "format_of", "expand_input",
           "jsonl_bytes", "jsonl_gzip_member", "read_source", "parquet_schema", "same_file"]
