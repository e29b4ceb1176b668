"""Reading page files: how bytes become text, and what is refused.

Policy (documented in docs/errors.md):
- A UTF-8, UTF-16 or UTF-32 byte-order mark selects that encoding; a UTF-8 BOM is dropped.
- Without a BOM the bytes are read as UTF-8. Bytes that are not valid UTF-8 (Latin-1 text,
  say) are carried through unchanged as surrogate escapes, so kept lines are written back
  byte for byte; `decode_page` reports that it happened so the caller can warn.
- NUL bytes without a UTF-16/32 BOM mean a binary file: refused with InputError.
- A page larger than the page limit (MAX_PAGE_BYTES unless the caller sets another) is
  refused with InputError before it is read; so is one with more than MAX_PAGE_LINES lines
  (memory grows with lines too: a few hundred bytes each while a page is scored).
"""
from __future__ import annotations

import codecs
import os
import sys
from pathlib import Path

from boilercut.lines import line_count

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Pages larger than this are refused rather than read whole into memory (bytes). The
# same limit is the default for one corpus record (corpus_io.MAX_RECORD_BYTES).
MAX_PAGE_BYTES = 256 * 1024 * 1024
# Pages with more lines than this are refused: scoring costs about 230 bytes per line on
# top of the text (the lines as strings, their scores and counts), so 256 MiB of two-byte
# lines would take 20 GB. Measured with the default model: 1,666,666 lines of "ab" (6.7 MB)
# peaked at 715 MiB, 330 MiB of it the model. The same default limit for a corpus record.
MAX_PAGE_LINES = 1_000_000


class InputError(ValueError):
    """An input that cannot be read as a page; the message names it."""


def decode_page(data: bytes, name: str = "<input>") -> tuple[str, bool]:
    """Return (text, lossless_utf8): lossless_utf8 is False when undecodable bytes were escaped."""
    for bom, encoding in BOMS:  # UTF-32-LE's BOM starts with UTF-16-LE's: test it first
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding), True
            except UnicodeDecodeError as err:
                raise InputError(f"{name}: starts with a {encoding} byte-order mark but is not "
                                 f"valid {encoding} at byte {err.start + len(bom)}") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(f"{name}: contains a NUL byte at byte {nul}: a binary file, not text")
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", "surrogateescape"), False


def open_binary(path: str | Path):
    """open(path, "rb"), with every OS error turned into a one-line InputError naming the file."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror})") from None


def _too_large(name: str, size: str, max_bytes: int) -> InputError:
    return InputError(f"{name}: {size} bytes, over the page limit of {max_bytes:,} bytes (--max-record-bytes); "
                      "split it or raise the limit")


def check_page_lines(name: str, text: str, max_lines: int = MAX_PAGE_LINES) -> None:
    """InputError when the page has more than max_lines lines."""
    if len(text) > max_lines and (lines := line_count(text)) > max_lines:  # fewer characters, fewer lines
        raise InputError(f"{name}: {lines:,} lines, over the page limit of {max_lines:,} lines "
                         "(--max-record-lines); split it or raise the limit")


def read_page(path: str | Path, max_bytes: int = MAX_PAGE_BYTES,
              max_lines: int = MAX_PAGE_LINES) -> tuple[str, bool]:
    """Read and decode one page file; InputError for anything that is not a readable text
    file, that is larger than max_bytes (checked before reading) or has more than
    max_lines lines."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory")
    with open_binary(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise _too_large(str(path), f"{size:,}", max_bytes)
        try:
            data = f.read(max_bytes + 1)  # a file that grows while read is still bounded
        except OSError as err:
            raise InputError(f"{path}: cannot be read ({err.strerror})") from None
    if len(data) > max_bytes:
        raise _too_large(str(path), f"more than {max_bytes:,}", max_bytes)
    text, lossless = decode_page(data, str(path))
    check_page_lines(str(path), text, max_lines)
    return text, lossless


def read_stdin_page(max_bytes: int = MAX_PAGE_BYTES, max_lines: int = MAX_PAGE_LINES) -> tuple[str, bool]:
    """decode_page of standard input, read up to max_bytes; InputError beyond, or beyond
    max_lines lines."""
    data = sys.stdin.buffer.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large("<stdin>", f"more than {max_bytes:,}", max_bytes)
    text, lossless = decode_page(data, "<stdin>")
    check_page_lines("<stdin>", text, max_lines)
    return text, lossless


def encode_line(line: str) -> bytes:
    """Inverse of decode_page for output: escaped bytes go back out as they came in."""
    return line.encode("utf-8", "surrogateescape")
