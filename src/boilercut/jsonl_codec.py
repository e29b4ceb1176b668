"""JSON Lines records in and out: decoding one line with a depth limit, and encoding
cleaned records with orjson where it can, the json module where it cannot.

orjson encodes cleaned records much faster than json.dumps, which was a noticeable share
of the cost of `predict --output`. It refuses
a few things json writes: text with lone surrogates (the undecodable input bytes textio
keeps), integers beyond 64 bits, keys that are not strings. Those records are written by
json instead, as before, in the same compact form (no space after ":" and ","), so that
every record reads back the same whichever library wrote it. Two things orjson writes
differently from json.dumps: NaN and infinities become null (json wrote NaN, which is not
JSON), and dates and times are ISO 8601 ("2024-05-01T12:00:00" where str() gave a space).

Decoding stays with json.loads: orjson reads integers beyond 64 bits as floats, silently
changing an id field, and the gain on reading was small. A line
nested deeper than MAX_JSON_DEPTH levels is refused, like invalid JSON.
"""
from __future__ import annotations

import json

import orjson

_COMPACT = (",", ":")  # orjson's separators
# Records nested deeper than this many levels are refused (the record itself is level 1).
# Python's json reader fails near 1,000 levels, at a depth that depends on how deep the
# caller's stack already is, and orjson writes at most 254: a fixed limit far below both
# gives the same verdict in every process and keeps every record writable by orjson.
# Corpus records nest a few levels (FineWeb's: one).
MAX_JSON_DEPTH = 100


class JSONLineError(ValueError):
    """A JSON line that cannot be used as a record; str() is the reason, one line."""


def decode_json_line(raw: bytes | bytearray | str):
    """The value of one JSON line (json.loads), or JSONLineError saying why there is none:
    not UTF-8, not JSON, or nested deeper than MAX_JSON_DEPTH."""
    try:
        value = json.loads(raw)
    except UnicodeDecodeError:
        raise JSONLineError("not valid UTF-8") from None
    except json.JSONDecodeError as err:
        # Some of json's messages end in " at" ("Invalid control character at").
        raise JSONLineError(f"not valid JSON ({err.msg.removesuffix(' at')} at column {err.colno})") from None
    except RecursionError:
        raise JSONLineError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise JSONLineError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _deeper_than(value, limit: int) -> bool:
    """True when lists and dicts nest more than limit levels; level by level, without
    recursion (a flat record costs one pass over its values)."""
    level, containers = 1, [value] if isinstance(value, (dict, list)) else []
    while containers:
        if level > limit:
            return True
        containers = [v for c in containers for v in (c.values() if isinstance(c, dict) else c)
                      if isinstance(v, (dict, list))]
        level += 1
    return False


def json_line(row: dict) -> bytes:
    """One record as a UTF-8 JSON line ending in "\\n". Values JSON has no type for
    (dates, decimals, ...) are written as their str()."""
    try:
        return orjson.dumps(row, default=str, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError is one
        # backslashreplace turns a lone surrogate into its JSON escape "\udcxx", so the
        # output stays valid UTF-8 JSON that reads back as the same string.
        return (json.dumps(row, ensure_ascii=False, default=str, separators=_COMPACT)
                + "\n").encode("utf-8", "backslashreplace")


def jsonl_bytes(rows: list[dict]) -> bytes:
    """Rows as UTF-8 JSON Lines."""
    return b"".join(map(json_line, rows))
