"""The specification of the line shape features: each computed one line at a time, in
plain Python.

This is what the features mean. boilercut.line_shape.shape_matrix computes the same
values over a whole batch with numpy, which is fast and hard to read; `differences` (run
by the tests on tricky and on random text) checks that it agrees with `line_shape` here,
feature by feature. A change to a feature is made here first, then in the fast code, and
changes every saved model's input: such a change needs a retrained model.

Nothing in scoring or training calls this module.
"""
from __future__ import annotations

import math
import re

from boilercut.line_shape import (BULLETS, COUNTER, HEAD_CHARS, LINE_SHAPE_NAMES, MAX_CHARS, MAX_WORDS, NUMBERED,
                                  QUOTES, SEGMENTS, TERMINAL, YEAR, shape_matrix)
from boilercut.lines import count_words

_LINK = re.compile(r"(?=https?://|www\.|@\w|\.(com|org|net)\b)")
_GLUED = re.compile(r"(?=[a-z\u00e0-\u00ff][A-Z\u00c0-\u00de][a-z])")
_SEPARATOR = re.compile(r"(?= [>|»/·•›] | :: )")


def line_shape(line: str) -> tuple[list[float], int]:
    """(the features of one line in LINE_SHAPE_NAMES order, its word count)."""
    stripped = line.strip()
    n_chars = len(stripped)
    words = stripped.split()
    n_words = count_words(stripped)
    head = stripped[:HEAD_CHARS]
    n_head = len(head) or 1
    letters = sum(map(str.isalpha, head)) or 1
    last = stripped[-1:] or " "
    sep = len(_SEPARATOR.findall(stripped))
    short = min(1.0, 30.0 / (n_words or 1))
    if sep or "|" in stripped:
        segments = [seg for seg in SEGMENTS.split(stripped) if seg.strip()]
    else:
        segments = [stripped]
    longest = max((count_words(seg) for seg in segments), default=0)
    glued = sum(1 for m in _GLUED.finditer(stripped) if m.start() < HEAD_CHARS)
    link = any(m.start() < HEAD_CHARS for m in _LINK.finditer(stripped))
    copyright_mark = any(0 <= stripped.find(m) < HEAD_CHARS for m in ("©", "(c)", "(C)"))
    has_digit = any(map(str.isdigit, head))  # counters and years need one
    return [
        math.log1p(min(n_chars, MAX_CHARS)), math.log1p(min(n_words, MAX_WORDS)),
        float(last in TERMINAL), float(last == ":"), float(last.isdigit()),
        float(stripped.startswith(BULLETS)), float(NUMBERED.match(head) is not None),
        float(stripped[:1].isupper()),
        sum(map(str.isdigit, head)) / n_head,
        sum(map(str.isupper, head)) / letters,
        (len(head) - sum(map(str.isalnum, head)) - sum(map(str.isspace, head))) / n_head,
        sum(w[:1].isupper() for w in words) / (len(words) or 1),
        short * (has_digit and COUNTER.search(head) is not None),
        short * (YEAR.search(head) is not None), short * copyright_mark, short * link,
        short * any(q in head for q in QUOTES),
        min(n_chars / (len(words) or 1), 20) / 20.0,
        float(n_words > len(words)),
        min(sep / (n_words + 1), 2.0), float(stripped.startswith("|")),
        math.log1p(min(longest, MAX_WORDS)), min(len(segments), 20) / 20.0,
        min(glued, 3) / 3.0,
    ], n_words


def contains_neighbour(texts: list[str], pages: list[int]) -> list[float]:
    """page_lines._contains_neighbour (the contains_neighbour feature), one line and one
    neighbour at a time; pages: the page number of each line."""
    out = [0.0] * len(texts)
    for i, text in enumerate(texts):
        for j in (i - 1, i + 1):
            if 0 <= j < len(texts) and pages[j] == pages[i]:
                other = texts[j].strip()
                if (len(other) >= 20 and len(text) > len(other) + 3 and 5 * len(other) >= 2 * len(text)
                        and other in text):
                    out[i] = 1.0
    return out


def differences(lines: list[str], tolerance: float = 1e-12) -> list[str]:
    """Where shape_matrix(lines) disagrees with line_shape: a word count that differs, or a
    feature more than `tolerance` away; one description per disagreement, naming the
    feature and the line (an empty list when they agree)."""
    features, words = shape_matrix(lines)
    found = []
    for i, line in enumerate(lines):
        expected, n_words = line_shape(line)
        if words[i] != n_words:
            found.append(f"word count {words[i]} != {n_words}: {line!r}")
        for j, name in enumerate(LINE_SHAPE_NAMES):
            if not abs(features[i, j] - expected[j]) <= tolerance:
                found.append(f"{name} {features[i, j]!r} != {expected[j]!r}: {line!r}")
    return found
