"""Streaming corpus readers and writers: page files, directories, JSONL (.gz) and parquet.

Readers yield one `Record` per document, or a `BadRecord` naming the source and record
number (1-based: the line number in JSONL, the row number in parquet) for a record that
cannot be used; the caller decides whether to stop or skip. A source that cannot be opened
at all raises textio.InputError. Writers replace an output only on success (see
output_file.py), so an interrupted run never leaves a partial output nor destroys an
existing one.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator, NamedTuple

from isal import igzip, isal_zlib

from boilercut.jsonl_codec import jsonl_bytes
from boilercut.output_file import OutputFile
from boilercut.textio import InputError, decode_page, open_binary, read_page

FORMATS = ("txt", "jsonl", "parquet")
# Rows per parquet read and write (memory per batch, not a tuning knob for speed).
PARQUET_ROWS = 1000
# gzip is read and written with ISA-L (the isal package; the files are ordinary gzip).
# Level of .jsonl.gz outputs, on ISA-L's scale of 0 to 3. Measured on the cleaned
# dev-fineweb (8.8 MB of JSONL, CPU s): ISA-L level 1 0.025 s for 3.81 MB, zlib level 1
# 0.090 s for 3.88 MB, zlib level 6 (gzip's default) 0.46 s for 38% of the size. Compression was
# once the largest single cost of `predict --output x.jsonl.gz`. Reading: ISA-L
# decompresses a 45 MB corpus in 0.08 s, zlib in 0.22 s.
GZIP_LEVEL = 1


class Record(NamedTuple):
    source: str   # file name, or <stdin>
    number: int   # 1-based record number in the source
    data: dict    # every field of the record; data[text_field] is a str


class RawRecord(NamedTuple):
    """One JSONL line not yet parsed: read_source(..., parse=False) leaves parsing to the
    caller, so that `clean_corpus --jobs N` parses in its workers, not in the parent."""
    source: str
    number: int   # 1-based line number
    raw: bytes    # the line as read, newline included

    def parse(self, text_field: str) -> "Record | BadRecord":
        return _parse_json(self.source, self.number, self.raw, text_field)


class BadRecord(NamedTuple):
    source: str
    number: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: record {self.number}: {self.reason}"


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
                parse: bool = True):
    """Records of one source; InputError when it cannot be opened. parse False: JSONL
    records come as RawRecord, to be parsed by the caller (RawRecord.parse)."""
    if fmt == "txt":
        return _read_txt(path, text_field, id_field or "id")
    if fmt == "jsonl":
        lines = _read_jsonl_lines(path)
        return _parsed(lines, text_field) if parse else lines
    if fmt == "parquet":
        return _read_parquet(path, text_field)
    raise ValueError(f"input format must be one of {list(FORMATS)}, got {fmt!r}")


def _read_txt(path: str, text_field: str, id_field: str) -> Iterator[Record]:
    if path == "-":
        text, _ = decode_page(sys.stdin.buffer.read(), "<stdin>")
    else:
        text, _ = read_page(path)
    yield Record("<stdin>" if path == "-" else path, 1, {id_field: path, text_field: text})


def _gunzipped(f):
    """The stream decompressed when it starts with gzip's magic bytes, else itself."""
    return igzip.GzipFile(fileobj=f, mode="rb") if f.peek(2)[:2] == b"\x1f\x8b" else f


def _read_jsonl_lines(path: str) -> Iterator[RawRecord | BadRecord]:
    source = "<stdin>" if path == "-" else path
    handle = sys.stdin.buffer if path == "-" else open_binary(path)
    f = _gunzipped(handle)
    number = 0
    try:
        for number, raw in enumerate(f, 1):
            if raw.isspace():  # the same test as `not raw.strip()`, without copying the line
                continue  # a blank line is not a record
            yield RawRecord(source, number, raw)
    except (OSError, EOFError, isal_zlib.error) as err:  # truncated or corrupt gzip stream
        yield BadRecord(source, number + 1, f"cannot read past this point ({err or 'truncated'}); "
                                            "rest of the file skipped")
    finally:
        if path != "-":
            f.close()
            handle.close()


def _parsed(lines: Iterator[RawRecord | BadRecord], text_field: str) -> Iterator[Record | BadRecord]:
    for line in lines:
        yield line.parse(text_field) if isinstance(line, RawRecord) else line


def _parse_json(source: str, number: int, raw: bytes, text_field: str) -> Record | BadRecord:
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        return BadRecord(source, number, "not valid UTF-8")
    except json.JSONDecodeError as err:
        # Some of json's messages end in "at" already ("Invalid control character at").
        return BadRecord(source, number, f"not valid JSON ({err.msg.removesuffix(' at')} at column {err.colno})")
    if not isinstance(data, dict):
        return BadRecord(source, number, f"a JSON {type(data).__name__}, not an object")
    return _checked(source, number, data, text_field)


def _checked(source: str, number: int, data: dict, text_field: str) -> Record | BadRecord:
    if text_field not in data:
        return BadRecord(source, number, f"no {text_field!r} field (see --text-field)")
    if not isinstance(data[text_field], str):
        return BadRecord(source, number, f"field {text_field!r} is {type(data[text_field]).__name__}, not text")
    return Record(source, number, data)


def _read_parquet(path: str, text_field: str) -> Iterator[Record | BadRecord]:
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
            for row in batch.to_pylist():
                number += 1
                yield _checked(path, number, row, text_field)
    except (pa.ArrowException, OSError) as err:
        yield BadRecord(path, number + 1, f"cannot decode rows from here on ({err}); rest of the file skipped")


def parquet_schema(path: str):
    """The schema of a parquet input, so that a parquet output keeps its column types."""
    import pyarrow.parquet as pq
    return pq.read_schema(path)


def jsonl_gzip_member(rows: list[dict]) -> bytes:
    """Rows as JSON Lines in one complete gzip member (mtime 0, so equal rows give equal bytes).

    A .jsonl.gz output is these members one after the other: a multi-member gzip file,
    which gzip, zcat and Python's gzip module (so pandas and HF datasets) read as one
    stream. Each member is compressed where its rows are encoded, in the --jobs workers:
    gzip in the parent took 0.45 s of its 0.83 s of CPU on 194,605 lines (--jobs 2)."""
    return igzip.compress(jsonl_bytes(rows), compresslevel=GZIP_LEVEL, mtime=0)


class CorpusWriter:
    """Write records as JSONL (gzipped when the name ends in .gz) or parquet, atomically.

    Use as a context manager: the output appears under its name only when the block ends
    without an exception and discard() was not called. path "-" writes JSONL to standard
    output, and a device or FIFO is written in place (neither is atomic; output_file.py).
    A .gz output is a series of gzip members, one per write (see jsonl_gzip_member).
    """

    def __init__(self, path: str, fmt: str, schema=None):
        if fmt not in ("jsonl", "parquet"):
            raise ValueError(f"output format must be jsonl or parquet, got {fmt!r}")
        if path == "-" and fmt != "jsonl":
            raise ValueError("only jsonl can be written to standard output")
        self.path, self.fmt, self.schema = path, fmt, schema
        self.gzip = fmt == "jsonl" and path != "-" and str(path).endswith(".gz")
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
        return jsonl_gzip_member if self.gzip else jsonl_bytes

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
            table = pa.Table.from_pylist(rows, schema=self.schema)
            self.schema = table.schema
            self._parquet = pq.ParquetWriter(self._f, self.schema)
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


__all__ = ["Record", "RawRecord", "BadRecord", "CorpusWriter", "FORMATS", "format_of", "expand_input",
           "jsonl_bytes", "jsonl_gzip_member", "read_source", "parquet_schema", "same_file"]
