"""Values for outputs that hold only valid UTF-8 text (parquet).

Undecodable input bytes travel as lone surrogates: textio decodes a page that is not valid
UTF-8 with surrogateescape (0xE9 becomes "\\udce9"), and a JSON line can spell one
("\\udce9" is valid JSON). JSON Lines output keeps them as "\\udcXX" escapes (jsonl_codec),
which Python reads back as the same string. A parquet string must be valid UTF-8 and has
no such escape, so there each lone surrogate becomes U+FFFD, the replacement character
that a UTF-8 decoder shows for bytes it cannot read; the caller warns about the record.
"""
from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogates(value) -> bool:
    """True when a string in value (a str, or lists and dicts of them, keys included) holds
    a lone surrogate. ASCII strings are passed over without a scan."""
    if isinstance(value, str):
        return not value.isascii() and _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(has_lone_surrogates(k) or has_lone_surrogates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(has_lone_surrogates, value))
    return False


def replace_lone_surrogates(value):
    """value with every lone surrogate in its strings (and keys) replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {replace_lone_surrogates(k): replace_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_lone_surrogates(v) for v in value]
    return value
