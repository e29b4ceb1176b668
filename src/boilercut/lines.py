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
# Chinese paragraph weighs about as much as its English translation does.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def split_lines(text: str) -> list[str]:
    """Split a page into lines; a trailing line break does not start an empty last line."""
    if not text:
        return []
    lines = text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def count_words(line: str) -> int:
    """Whitespace tokens, with every CJK character counted as one word."""
    cjk = len(_CJK.findall(line))
    if not cjk:
        return len(line.split())
    return len(_CJK.sub(" ", line).split()) + cjk
