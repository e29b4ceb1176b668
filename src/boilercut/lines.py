"""What a line is, and how many words it has.

A page is split on "\\n", "\\r\\n" and "\\r" only. Other Unicode separators (U+2028,
U+2029, U+0085, form feed, vertical tab) stay inside their line: str.splitlines would
split on them, which would make kept lines differ from the input. Each kept line is
returned exactly as it stood in the page, without its line terminator.
"""
from __future__ import annotations

import re

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# CJK scripts have no spaces: each Han/Kana/Hangul character counts as one word, so a
# Chinese paragraph weighs about as much as its English translation does. The code point
# ranges (inclusive) of those characters, defined here only: line_shape's batch word
# counts and html_pages' alignment tokens read them too.
KANA = (0x3040, 0x30FF)
CJK_EXTENSION_A = (0x3400, 0x4DBF)
CJK_UNIFIED_IDEOGRAPHS = (0x4E00, 0x9FFF)
HANGUL_SYLLABLES = (0xAC00, 0xD7AF)
CJK_COMPATIBILITY_IDEOGRAPHS = (0xF900, 0xFAFF)
CJK_RANGES = (KANA, CJK_EXTENSION_A, CJK_UNIFIED_IDEOGRAPHS, HANGUL_SYLLABLES, CJK_COMPATIBILITY_IDEOGRAPHS)


def character_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """The inside of a regex character class ("[...]") holding the given code point ranges."""
    return "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in ranges)


_CJK = re.compile("[" + character_class(CJK_RANGES) + "]")
# A line longer than this (characters) is counted in pieces this long, about 5 MB of word
# strings at a time: str.split of a 50 MB line built its 8 million words as strings
# (about 0.5 GB) only to count them.
_COUNT_PIECE = 1 << 18


def split_lines(text: str) -> list[str]:
    """Split a page into lines; a trailing line break does not start an empty last line."""
    if not text:
        return []
    lines = text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def line_count(text: str) -> int:
    """len(split_lines(text)), without splitting."""
    if not text:
        return 0
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    return breaks + (not text.endswith(("\n", "\r")))


def count_words(line: str) -> int:
    """Whitespace tokens, with every CJK character counted as one word.

    The definition of a line's word count: line_shape.word_counts (and the shape features)
    compute the same counts over a batch with numpy, and tests check that they agree."""
    if len(line) > _COUNT_PIECE:
        return _count_words_in_pieces(line, _COUNT_PIECE)
    if line.isascii():  # no CJK character: no regex needed
        return len(line.split())
    cjk = len(_CJK.findall(line))
    if not cjk:
        return len(line.split())
    return len(_CJK.sub(" ", line).split()) + cjk


def _count_words_in_pieces(line: str, piece: int) -> int:
    """count_words of a line cut into pieces of `piece` characters: memory for one piece."""
    total = 0
    for start in range(0, len(line), piece):
        total += count_words(line[start:start + piece])
        if start and _in_word(line[start - 1]) and _in_word(line[start]):
            total -= 1  # a word runs across the cut: both pieces counted it
    return total


def _in_word(char: str) -> bool:
    """A character that belongs to a whitespace token (CJK characters are words alone)."""
    return not char.isspace() and _CJK.match(char) is None
