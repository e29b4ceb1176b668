"""The 64-bit hash of a line's normalised text: what counting a site's repeated lines keys on.

normalise_line is the definition (CCNet's normalisation: lower case, digits to 0,
punctuation and spaces stripped) and reference_line_hash hashes its result one character
at a time. line_hashes gives the same numbers for a batch of lines with numpy over their
code points, which is what counting and cleaning call: normalising and hashing line by line
in Python cost 5 us a line, a third of a two-pass corpus run (benchmarks/NOTES.md).

The hash of a normalised text is splitmix64 of the sum, modulo 2^64, of code point x
weight(position) over its characters other than the spaces between words, where
weight(i) = splitmix64(i + WEIGHT_SEED): a sum can be taken over any slice of the code
points at once, and a weight is one lookup in a table of the positions. Two different
texts hash alike when the weighted sum of their code point differences is 0 modulo 2^64:
for weights that look random, odds of 2^-64 per pair of texts, and at worst 2^-44 (the
differences of code points under 2^21 hold at most 2^20 as a factor).
The number is 0 only for a line with nothing left after normalising (blank, or only
punctuation), which is never counted. LINE_HASH_VERSION names this function in files that
store hashes (site counts), so counts of another version are refused, not misread.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from boilercut.compiled import KERNELS

# The compiled loop (compiled.py), or None: the numpy steps of line_hashes.
_kernels = KERNELS

LINE_HASH_VERSION = 2  # 1: blake2b of the normalised text's UTF-8

_DIGITS = re.compile(r"\d")
_PUNCTUATION = re.compile(r"[^\w\s]|_")  # \w is Unicode-aware: letters and digits of any script
_SPACES = re.compile(r"\s+")
_SPACE = re.compile(r"\s")
_MASK = (1 << 64) - 1
WEIGHT_SEED = 0x5BD1E995  # any constant; changing it changes LINE_HASH_VERSION
_BMP = 0x10000
# str.lower() of these depends on more than the character: U+0130 lowers to two
# characters, U+03A3 to a final or a medial sigma. Lines holding them are hashed by the
# reference, one character at a time.
_CONTEXT_LOWER = (0x130, 0x3A3)


def _ascii_table() -> bytes:
    """For bytes.translate: ASCII digits to "0", every other non-letter to a space."""
    table = bytearray(range(256))
    for code in range(128):
        char = chr(code)
        table[code] = ord("0") if char.isdigit() else code if char.isalpha() else ord(" ")
    return bytes(table)


_ASCII = _ascii_table()


def normalise_line(line: str) -> str:
    """CCNet's line normalisation: "Home > News (12)" -> "home news 00".

    An ASCII line goes through bytes.translate: the same result as the regular
    expressions (tested), much faster."""
    if line.isascii():
        return " ".join(line.lower().encode("ascii").translate(_ASCII).decode("ascii").split())
    text = _PUNCTUATION.sub(" ", _DIGITS.sub("0", line.lower()))
    return _SPACES.sub(" ", text).strip()


def _mix(x: int) -> int:
    """splitmix64's finaliser on a Python int (the reference of _mix_array)."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _mix_array(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on a uint64 array, in place (uint64 products wrap, as wanted)."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@lru_cache(maxsize=1)
def _weights_upto(size: int) -> np.ndarray:
    return _mix_array(np.arange(WEIGHT_SEED, WEIGHT_SEED + size, dtype=np.uint64))


def _weights(longest: int) -> np.ndarray:
    """weight(i) for i < longest at least (the table grows by powers of two)."""
    return _weights_upto(max(1 << max(longest - 1, 0).bit_length(), 4096))


def _finish(total: int) -> int:
    return _mix(total) or 1  # 0 means "nothing left"


def text_hash_of_normalised(text: str) -> int:
    """The hash of a text that normalise_line gave (0 for the empty text)."""
    if not text:
        return 0
    total = 0
    for position, char in enumerate(text):
        if char != " ":
            total += ord(char) * _mix(position + WEIGHT_SEED)
    return _finish(total & _MASK)


def reference_line_hash(line: str) -> int:
    """A line's hash, character by character: the specification line_hashes is tested against."""
    return text_hash_of_normalised(normalise_line(line))


def _normalised_code(code: int) -> int:
    """What normalise_line makes of one character alone: its code point lower-cased, "0"
    for a decimal digit, 0 for a character it turns into a space."""
    low = chr(code).lower()
    if len(low) != 1:
        return 0  # U+0130 alone; lines holding it take the reference path
    char = _DIGITS.sub("0", low)
    return 0 if _PUNCTUATION.match(char) or char.isspace() else ord(char)


@lru_cache(maxsize=1)
def _bmp_table() -> np.ndarray:
    """_normalised_code of every code point of the BMP, built on first use from one string
    of all of them (about 20 ms; one _normalised_code call per code point took 150-300 ms of every
    corpus run). Only U+0130 lowers to two characters and only U+03A3 lowers by context:
    both are set as they are alone (their lines take the reference path anyway)."""
    everything = "".join(map(chr, range(_BMP))).replace("\u0130", "\0")
    # Each substitution maps one character to one, so position k stays code point k.
    text = _SPACE.sub(" ", _PUNCTUATION.sub(" ", _DIGITS.sub("0", everything.lower())))
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).copy()
    codes[codes == ord(" ")] = 0
    codes[0x130], codes[0x3A3] = _normalised_code(0x130), _normalised_code(0x3A3)
    return codes


def _normalised_codes(codes: np.ndarray) -> np.ndarray:
    table = _bmp_table()
    if not len(codes) or int(codes.max()) < _BMP:
        return table[codes]
    astral = codes >= _BMP
    out = table[np.where(astral, 0, codes)]
    distinct, inverse = np.unique(codes[astral], return_inverse=True)
    out[astral] = np.fromiter(map(_normalised_code, distinct.tolist()), dtype=np.uint32,
                              count=len(distinct))[inverse]
    return out


def line_hashes(lines: Sequence[str]) -> np.ndarray:
    """reference_line_hash of each line, for the whole batch at once."""
    n = len(lines)
    out = np.zeros(n, dtype=np.uint64)
    if not n:
        return out
    if _kernels is not None:  # the same loop compiled, for a batch of the BMP (-1: any other)
        special = np.zeros(n, dtype=np.uint8)
        lengths = np.fromiter(map(len, lines), dtype=np.int64, count=n)
        if _kernels.line_hashes("\n".join(lines), lengths, _bmp_table(), WEIGHT_SEED, special, out) == 0:
            for i in np.flatnonzero(special).tolist():
                out[i] = reference_line_hash(lines[i])
            return out
    lengths = np.fromiter(map(len, lines), dtype=np.int64, count=n) + 1  # each line and a "\n"
    text = "\n".join(lines) + "\n"
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    norm = _normalised_codes(codes)
    at = np.flatnonzero(norm)  # the word characters, in text order
    # A word character's position in its normalised line: the word characters before it
    # on the line, plus one space before each word of the line but the first. Every line
    # ends in a "\n", so a line's first word character always starts a word.
    starts_word = np.ones(len(at), dtype=bool)
    starts_word[1:] = np.diff(at) != 1
    words_before = np.cumsum(starts_word) - 1  # words of the batch before this one's
    line_at = np.cumsum(lengths) - lengths  # where each line begins in codes
    first_char = np.searchsorted(at, line_at)  # index in `at` of each line's first word character
    chars_per_line = np.diff(np.append(first_char, len(at)))
    first_word = words_before[np.minimum(first_char, max(len(at) - 1, 0))] if len(at) else first_char
    position = np.arange(len(at)) + words_before - np.repeat(first_char + first_word, chars_per_line)
    terms = _weights(int(lengths.max())).take(position) * norm[at].astype(np.uint64)
    filled = np.flatnonzero(chars_per_line)
    if len(filled):
        hashed = _mix_array(np.add.reduceat(terms, first_char[filled]))
        hashed[hashed == 0] = 1
        out[filled] = hashed
    special = np.flatnonzero((codes == _CONTEXT_LOWER[0]) | (codes == _CONTEXT_LOWER[1]))
    if len(special):
        for i in np.unique(np.searchsorted(line_at, special, side="right") - 1).tolist():
            out[i] = reference_line_hash(lines[i])
    return out
