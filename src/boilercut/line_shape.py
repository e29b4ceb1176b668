"""The shape of every line of a batch, computed with numpy on the batch's code points.

A Python function per line was a large share of all scoring time (five str-method passes
over up to 300 characters, plus regexes). Here the stripped lines
are joined into one array of code points; character classes come from lookup tables,
per-line counts from cumulative sums, literal patterns from shifted comparisons. Python
only handles the few lines that need a regex (counters, years, numbered items) or that
hold separators (segment lengths).

boilercut.shape_reference is the specification: it computes the same values line by line,
in plain Python, and the tests check that both agree.
"""
from __future__ import annotations

import re
from functools import cached_property, lru_cache
from typing import NamedTuple

import numpy as np

from boilercut.compiled import KERNELS
from boilercut.lines import CJK_RANGES, count_words

# The compiled per-line counts (compiled.py), or None: the numpy steps below.
_kernels = KERNELS

TERMINAL = ".!?。！？…\"'”’»"
# Separators that flattened menus and breadcrumbs put between items: a space, one of these
# characters, a space ("Home > News"); and " :: ".
SEPARATOR_MARKS = ">|»/·•›"
BULLETS = ("- ", "• ", "* ", "· ", "– ", "» ", "› ", "► ", "▶ ")
QUOTES = "\"“”«»„「"
NUMBERED = re.compile(r"\(?\d{1,3}[.)]\s")
COUNTER = re.compile(r"\(\s*[\d.,]+\s*[kKmM]?\s*\)|^\s*[\d.,]+\s*[kKmM]?\s*$|\d[\d.,]*\s*[kKmM]\b")
# COUNTER's three alternatives apart: COUNTER.search(h) finds a match exactly when one of
# them does, and apart they are faster (the first needs a "(", the second is anchored at
# the start instead of being tried at every position).
_COUNTER_PAREN = re.compile(r"\(\s*[\d.,]+\s*[kKmM]?\s*\)")
_COUNTER_ALONE = re.compile(r"\s*[\d.,]+\s*[kKmM]?\s*$")
_COUNTER_SUFFIX = re.compile(r"\d[\d.,]*\s*[kKmM]\b")
YEAR = re.compile(r"\b(19|20)\d\d\b")
# Cells of a table row ("| a | b |") and items of a flattened menu or breadcrumb.
SEGMENTS = re.compile(r"\s[>»›·•/]\s|\|")
# Lengths are capped before the log: a linear model extrapolates, and a 5,000-word table
# cell (old table layouts rendered by trafilatura) must not look stranger than a 400-word one.
MAX_CHARS, MAX_WORDS = 2000, 400
# Character ratios and marks (year, link, counter, quote, ...) look at the first HEAD_CHARS
# characters: as telling as the whole line, and bounded work for giant lines.
HEAD_CHARS = 300
# word_counts counts longer lines with str.split: for a giant line the batch's arrays would
# cost far more memory and time.
LONG_LINE_CHARS = 20_000

LINE_SHAPE_NAMES = (
    "log_chars", "log_words", "ends_terminal", "ends_colon", "ends_digit", "starts_bullet",
    "starts_numbered", "starts_upper", "digit_ratio", "upper_ratio", "punct_ratio",
    "titlecase_ratio", "has_counter", "has_year", "has_copyright",
    "has_link", "has_quote", "mean_word_len", "is_cjk",
    "separator_density", "starts_pipe", "log_longest_segment", "segments", "glued_words",
)

# Bits of the character-class table. WORD and DECIMAL are what the re module calls \w and
# \d in a str pattern (str.isalnum() or "_", and str.isdecimal()); DIGIT is str.isdigit(),
# which also holds for superscripts and circled digits.
ALPHA, DIGIT, UPPER, ALNUM, SPACE, CJK, WORD, DECIMAL = 1, 2, 4, 8, 16, 32, 64, 128


def _classes_of(codes: np.ndarray) -> np.ndarray:
    """Class bits of the given code points, one str-method call per property and code."""
    chars = list(map(chr, codes.tolist()))

    def where(test) -> np.ndarray:
        return np.fromiter(map(test, chars), dtype=bool, count=len(chars))

    alnum = where(str.isalnum)
    bits = (ALPHA * where(str.isalpha) | DIGIT * where(str.isdigit) | UPPER * where(str.isupper)
            | ALNUM * alnum | SPACE * where(str.isspace) | DECIMAL * where(str.isdecimal)
            | WORD * (alnum | (codes == ord("_"))))
    for lo, hi in CJK_RANGES:
        bits |= CJK * ((codes >= lo) & (codes <= hi))
    return bits.astype(np.uint8)


@lru_cache(maxsize=1)
def _bmp_table() -> np.ndarray:
    """Class bits of every code point below U+10000 (built once per process)."""
    return _classes_of(np.arange(0x10000))


def char_classes(codes: np.ndarray) -> np.ndarray:
    """Class bits of each code point; the rare ones above the BMP (emoji, historic
    scripts) are classified one distinct value at a time."""
    classes = np.take(_bmp_table(), codes, mode="clip")  # clip: astral codes read U+FFFF
    if len(codes) and codes.max() > 0xFFFF:
        astral = codes > 0xFFFF
        values, where = np.unique(codes[astral], return_inverse=True)
        classes[astral] = _classes_of(values)[where]
    return classes


# Mark bits, in the high byte of the classes of a _Batch built with marks=True: the
# characters that shape_matrix's patterns look for. One uint16 lookup over the batch costs
# a little more than the uint8 class lookup alone, and replaces two lookups of their own
# (quotes, separator marks) and about twenty comparisons of the uint32 codes.
LOWER_AZ, LATIN_LOWER, GLUED_UPPER, QUOTE_MARK = 1 << 8, 1 << 9, 1 << 10, 1 << 11
SEPARATOR_MARK, LITERAL_START, UNIT, NUMBER_PUNCT = 1 << 12, 1 << 13, 1 << 14, 1 << 15
# The first characters of the literal patterns (links, copyright marks, " :: "), and the
# characters _COUNTER_SUFFIX needs (a k/K/m/M unit after a digit, "." or ",").
_LITERAL_STARTS, _UNITS, _NUMBER_PUNCT = "hw@.(\u00a9:", "kKmM", ".,"
# The mark bits that only a few percent of the code points have (_Batch.marked).
_MARKED = SEPARATOR_MARK | LITERAL_START | UNIT


@lru_cache(maxsize=1)
def _bmp_marks_table() -> np.ndarray:
    """Class bits (low byte) and mark bits (high byte) of every code point below U+10000."""
    table = _bmp_table().astype(np.uint16)
    for bit, chars in ((QUOTE_MARK, QUOTES), (SEPARATOR_MARK, SEPARATOR_MARKS),
                       (LITERAL_START, _LITERAL_STARTS), (UNIT, _UNITS), (NUMBER_PUNCT, _NUMBER_PUNCT)):
        table[[ord(c) for c in chars]] |= bit
    table[0x61:0x7B] |= LOWER_AZ
    table[0xE0:0x100] |= LATIN_LOWER
    table[0x41:0x5B] |= GLUED_UPPER
    table[0xC0:0xDF] |= GLUED_UPPER
    return table


def _line_bounds(stripped: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(length, start) of each line in the lines joined by "\\n" (int64)."""
    lengths = np.fromiter(map(len, stripped), dtype=np.int64, count=len(stripped))
    return lengths, np.concatenate(([0], np.cumsum(lengths + 1)[:-1])).astype(np.int64)


class _Batch:
    """Code points of the stripped lines joined by "\\n", with per-line sums over them."""

    def __init__(self, stripped: list[str], marks: bool = False):
        self.lengths, self.starts = _line_bounds(stripped)
        self.ends = self.starts + self.lengths
        self.head_ends = self.starts + np.minimum(self.lengths, HEAD_CHARS)
        self.text = text = "\n".join(stripped)
        self.codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        self._bounds: dict[bool, np.ndarray] = {}
        if marks:  # class bits and mark bits (uint16)
            self.classes = np.take(_bmp_marks_table(), self.codes, mode="clip")
            if len(self.codes) and self.codes.max() > 0xFFFF:
                self.classes[self.codes > 0xFFFF] = char_classes(self.codes[self.codes > 0xFFFF])
        else:
            self.classes = char_classes(self.codes)

    def has(self, bit: int) -> np.ndarray:
        return (self.classes & bit) != 0

    def has_at(self, positions: np.ndarray, bits: int) -> np.ndarray:
        """Whether the code at each position has one of bits (False past the end)."""
        out = np.zeros(len(positions), dtype=bool)
        inside = positions < len(self.codes)
        out[inside] = (self.classes[positions[inside]] & bits) != 0
        return out

    def sums(self, mask: np.ndarray, head: bool = False) -> np.ndarray:
        """Per line, how many positions of the line (or of its head) are set in mask (one
        value per code point, or with one more, a zero: the padding below, made by the
        caller without a copy)."""
        ends = self.head_ends if head else self.ends
        if not len(self.lengths):
            return np.zeros(0, dtype=np.int32)
        # One np.add.reduceat over the (start, end) bounds of every line: faster than a
        # cumulative sum and two gathers. The padding lets
        # the last line end at the end of the codes; reduceat gives a[start] for an empty
        # segment instead of 0, hence the where.
        bounds = self.bounds(head)
        values = mask.view(np.uint8) if mask.dtype == bool else mask
        padded = values if len(values) > len(self.codes) else np.concatenate((values, np.zeros(1, dtype=values.dtype)))
        # uint64 values are counts packed in fields (_head_counts), summed field by field.
        count_type = np.uint64 if values.dtype == np.uint64 else np.int32 if len(mask) < 2 ** 31 else np.int64
        counts = np.add.reduceat(padded, bounds, dtype=count_type)[0::2]
        return np.where(ends > self.starts, counts, 0).astype(count_type, copy=False)

    def bounds(self, head: bool = False) -> np.ndarray:
        """start, end, start, end, ... of every line (or of its head), built once."""
        if head not in self._bounds:
            bounds = np.empty(2 * len(self.starts), dtype=np.intp)
            bounds[0::2], bounds[1::2] = self.starts, self.head_ends if head else self.ends
            self._bounds[head] = bounds
        return self._bounds[head]

    def count_at(self, positions: np.ndarray, head: bool = False) -> np.ndarray:
        """Per line, how many of the (sorted) positions fall inside it (or inside its
        head): two binary searches per line instead of a pass over the batch, for masks
        set at few positions."""
        if not len(positions):  # most marks are absent from a page: no searches
            return np.zeros(len(self.starts), dtype=np.intp)
        return np.diff(np.searchsorted(positions, self.bounds(head)))[0::2]

    def marked(self, bit: int) -> np.ndarray:
        """Where the code points with the given bit are (sorted), for one of the rare mark
        bits _MARKED: all of them are found in one pass over the batch, then told apart
        among the few positions found."""
        positions, bits = self._marked
        return positions[(bits & bit) != 0]

    @cached_property
    def _marked(self) -> tuple[np.ndarray, np.ndarray]:
        positions = np.flatnonzero(self.classes & _MARKED)
        return positions, self.classes[positions]

    @cached_property
    def space(self) -> np.ndarray:
        """Where the whitespace characters are (the "\\n" between lines is one)."""
        return self.has(SPACE)

    def word_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """The words of every line as lines.count_words counts them: (where the runs of
        characters that are neither space nor CJK begin, where the CJK characters are),
        both sorted. The "\\n" between lines is a space, so no run crosses a line end.
        Counted from the positions where runs begin (one word in six characters), not by
        sums over the batch."""
        cjk = self.has(CJK)
        if not cjk.any():
            inside, cjk_at = ~self.space, np.zeros(0, dtype=np.intp)
        else:
            inside, cjk_at = ~(self.space | cjk), np.flatnonzero(cjk)
        begins = np.flatnonzero(inside[1:] & ~inside[:-1]) + 1
        if len(inside) and inside[0]:
            begins = np.concatenate(([0], begins))
        return begins, cjk_at

    def count_words(self, begins: np.ndarray, cjk_at: np.ndarray) -> np.ndarray:
        """Per line, the words of word_positions' (begins, cjk_at): lines.count_words."""
        return self.count_at(begins) + self.count_at(cjk_at) if len(cjk_at) else self.count_at(begins)

    def within(self, positions: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (sorted) positions that fall inside the given lines (sorted line numbers),
        and for each the index of its line in `lines`."""
        lo = np.searchsorted(positions, self.starts[lines])
        counts = np.searchsorted(positions, self.ends[lines]) - lo
        total = int(counts.sum())
        offsets = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        return positions[np.arange(total) + offsets], np.repeat(np.arange(len(lines)), counts)

    def run_starts(self, inside: np.ndarray) -> np.ndarray:
        """Positions where a run of `inside` characters begins ("\\n" is never inside)."""
        before = np.concatenate(([False], inside[:-1]))
        return inside & ~before

    @cached_property
    def first(self) -> np.ndarray:
        """The first code of each line, a space (32) for an empty line."""
        return np.where(self.lengths > 0, self.codes[np.minimum(self.starts, len(self.codes) - 1)], 32) \
            if len(self.codes) else np.full(len(self.lengths), 32)

    @cached_property
    def last(self) -> np.ndarray:
        """The last code of each line, a space (32) for an empty line."""
        return np.where(self.lengths > 0, self.codes[np.maximum(self.ends - 1, 0)], 32) \
            if len(self.codes) else np.full(len(self.lengths), 32)


_NOWHERE = np.zeros(0, dtype=np.intp)  # the positions of a literal that does not occur
_TERMINAL_CODES = np.array([ord(c) for c in TERMINAL], dtype=np.uint32)
# Code points are below 2^21: (first << 21 | second) names a line's first two characters.
_BULLET_PAIRS = np.array([ord(b[0]) << 21 | ord(b[1]) for b in BULLETS], dtype=np.int64)


def word_counts(lines: list[str]) -> np.ndarray:
    """lines.count_words of every line (whitespace tokens, each CJK character one word),
    computed over the batch at once; shape_matrix counts the words of the clipped lines.
    Lines longer than LONG_LINE_CHARS go to count_words one by one: for them the batch's
    arrays (about 20 bytes per character) would cost more memory and time than str.split."""
    lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    counts = np.zeros(len(lines), dtype=np.int64)
    short = np.flatnonzero(lengths <= LONG_LINE_CHARS)
    if len(short):
        batch = [lines[i] for i in short] if len(short) < len(lines) else lines
        compiled = _compiled_word_counts(batch) if _kernels is not None else None
        if compiled is not None:
            counts[short] = compiled
        else:
            b = _Batch(batch)
            counts[short] = b.count_words(*b.word_positions())
    for i in np.flatnonzero(lengths > LONG_LINE_CHARS):
        # The compiled loop needs 6 bytes a character of the line alone (no join): up to
        # _COMPILED_LINE_CHARS, beyond which count_words counts in pieces, in bounded memory.
        compiled = (_compiled_word_counts([lines[i]]) if _kernels is not None and lengths[i] <= _COMPILED_LINE_CHARS
                    else None)
        counts[i] = compiled[0] if compiled is not None else count_words(lines[i])
    return counts


# The longest line word_counts gives the compiled loop on its own (6 MB of its arrays).
_COMPILED_LINE_CHARS = 1 << 20


def _compiled_word_counts(lines: list[str]) -> np.ndarray | None:
    """word_counts of lines by _kernels.word_counts (one loop over the batch, a fraction of
    the numpy steps' time), or None for a text above the BMP, which the numpy steps count."""
    lengths, starts = _line_bounds(lines)
    counts = np.zeros(len(lines), dtype=np.int64)
    if _kernels.word_counts("\n".join(lines), _bmp_marks_table(), SPACE, CJK, starts, lengths, counts) < 0:
        return None
    return counts


def _pipe_segments(b: _Batch, lines: np.ndarray, begins: np.ndarray, cjk_at: np.ndarray,
                   pipes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(words of the longest segment, non-blank segments) of the given lines, where only
    "|" splits a line (no SEGMENTS match of a mark between whitespace): what
    _segment_words gives, from the word positions of the batch. 95% of the lines with a
    separator or a "|" are table rows like that, and splitting them in Python was slow."""
    codes, classes, n = b.codes, b.classes, len(lines)
    words, word_line = b.within(begins, lines)
    keep = codes[words] != ord("|")  # a run that begins with "|" begins after it
    words, word_line = words[keep], word_line[keep]
    after, after_line = b.within(pipes, lines)  # and a run may begin right after a "|"
    after += 1
    inside = after < b.ends[lines][after_line]
    after, after_line = after[inside], after_line[inside]
    begins_after = ((classes[after] & (SPACE | CJK)) == 0) & (codes[after] != ord("|"))
    cjk_words, cjk_line = b.within(cjk_at, lines)
    positions = np.concatenate((words, after[begins_after], cjk_words))
    line_of = np.concatenate((word_line, after_line[begins_after], cjk_line))
    # Segment k of line i gets the number key(i) + k, key(i) = i + the "|"s before the
    # line: consecutive numbers for the segments of a line, and the lines in order.
    key = np.searchsorted(pipes, positions) + line_of
    first_key = np.searchsorted(pipes, b.starts[lines]) + np.arange(n)
    end_key = np.searchsorted(pipes, b.ends[lines]) + np.arange(n) + 1
    per_segment = np.bincount(key, minlength=int(end_key[-1]) + 1) if n else np.zeros(1, dtype=np.intp)
    bounds = np.empty(2 * n, dtype=np.intp)
    bounds[0::2], bounds[1::2] = first_key, end_key
    longest = np.maximum.reduceat(per_segment, bounds)[0::2]
    segments = np.add.reduceat(per_segment > 0, bounds, dtype=np.intp)[0::2]
    return longest, segments


def _segment_words(line: str) -> list[int]:
    """count_words of each non-blank segment of a menu or table row (SEGMENTS splits them)."""
    return [count_words(seg) for seg in SEGMENTS.split(line) if seg and not seg.isspace()]


def _regex_marks(stripped: list[str], digits_in_head: np.ndarray,
                 unit_in_head: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COUNTER.search, YEAR.search and NUMBERED.match of each line's head, as 0 or 1.

    Regexes run only where they can match: on lines with a digit in the head, and YEAR
    and NUMBERED only after a plain string test their match implies ("19" or "20"; a
    first character "(" or a decimal digit), which costs a tenth of a regex call.
    _COUNTER_SUFFIX runs only on lines where unit_in_head says a k/K/m/M could end a
    match (see _unit_in_head): searched in every line with a digit it was half of all the
    regex time."""
    n = len(stripped)
    rows = np.flatnonzero(digits_in_head)
    heads = [stripped[i][:HEAD_CHARS] for i in rows.tolist()]
    enough = (digits_in_head[rows] >= 4).tolist()
    units = unit_in_head[rows].tolist()
    counter, year, numbered = np.zeros(n), np.zeros(n), np.zeros(n)
    counter[rows] = [_COUNTER_ALONE.match(h) is not None or ("(" in h and _COUNTER_PAREN.search(h) is not None)
                     or (u and _COUNTER_SUFFIX.search(h) is not None) for h, u in zip(heads, units)]
    year[rows] = [e and ("19" in h or "20" in h) and YEAR.search(h) is not None for h, e in zip(heads, enough)]
    numbered[rows] = [(h[0] == "(" or h[0].isdecimal()) and NUMBERED.match(h) is not None for h in heads]
    return counter, year, numbered


class _Words(NamedTuple):
    """The words and str.split() tokens of every line of a _Batch."""
    n_words: np.ndarray       # per line, lines.count_words
    n_tokens: np.ndarray      # per line, len(line.split())
    token_starts: np.ndarray  # mask: where a str.split() token begins
    begins: np.ndarray        # where the runs of characters that are neither space nor CJK begin
    cjk_at: np.ndarray        # where the CJK characters are


class _HeadCounts(NamedTuple):
    """Per line, how many characters of its head (HEAD_CHARS) are of each kind."""
    letters: np.ndarray      # str.isalpha, at least 1 (a divisor)
    alnum_space: np.ndarray  # str.isalnum or str.isspace
    digits: np.ndarray       # str.isdigit
    upper: np.ndarray        # str.isupper
    quotes: np.ndarray       # one of QUOTES
    glued: np.ndarray        # where a glued word starts (_glued_starts)


class _Separators(NamedTuple):
    """The separators of menus, breadcrumbs and table rows in a _Batch."""
    per_line: np.ndarray      # per line, how many " X " (X one of SEPARATOR_MARKS) and " :: "
    pipes: np.ndarray         # where the "|"s are (sorted)
    spaced_marks: np.ndarray  # where a mark other than "|" stands between whitespace (sorted)


# A batch of at most this many code points (a page) asks str's own search first whether a
# literal occurs at all; in a larger one most literals occur, and an absent one costs str's
# search more than the positions of its first characters do.
_STR_SEARCH_MAX_CODES = 1 << 15


class _Literals:
    """Finds literal patterns (links, copyright marks, " :: ") among the positions of their
    first characters, 8% of the batch: one pass over the batch for all of them instead of
    one or more per literal. The positions of each prefix are kept, so literals that begin
    alike ("http://", "https://"; ".com", ".org") narrow them down once."""

    def __init__(self, b: _Batch):
        self.b = b
        self.candidates = b.marked(LITERAL_START)
        self.first_codes = b.codes[self.candidates]
        self._prefixes: dict[str, np.ndarray] = {}

    def starting_with(self, code: int) -> np.ndarray:
        """The positions of the given character, when it is one of _LITERAL_STARTS."""
        return self._starting(chr(code))

    def _starting(self, prefix: str) -> np.ndarray:
        """Where prefix starts (its first character one of _LITERAL_STARTS), sorted."""
        where = self._prefixes.get(prefix)
        if where is None:
            if len(prefix) == 1:
                where = self.candidates[self.first_codes == ord(prefix)]
            else:
                k, codes = len(prefix) - 1, self.b.codes
                where = self._starting(prefix[:-1])
                where = where[where < len(codes) - k]
                where = where[codes[where + k] == ord(prefix[-1])]
            self._prefixes[prefix] = where
        return where

    def at(self, literal: str) -> np.ndarray:
        """Where literal starts, sorted. In a page, str's own search tells first whether it
        occurs at all (most are absent from a page; a dozen numpy calls each otherwise)."""
        if len(self.b.codes) <= _STR_SEARCH_MAX_CODES and literal not in self.b.text:
            return _NOWHERE
        return self._starting(literal)

    def followed_by_word(self, literal: str) -> np.ndarray:
        found = self.at(literal)
        return found[self.b.has_at(found + len(literal), WORD)] if len(found) else found

    def not_followed_by_word(self, literal: str) -> np.ndarray:
        found = self.at(literal)
        return found[~self.b.has_at(found + len(literal), WORD)] if len(found) else found


def shape_matrix(texts: list[str], stripped: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(features of each line in LINE_SHAPE_NAMES order, word count of each line).

    What is computed over the whole batch once (words, the counts over the heads, the
    literal marks, the separators, the regex marks) is shared; then one step per group of
    features gives its columns, in the order of LINE_SHAPE_NAMES. boilercut.shape_reference
    says what each feature is, one line at a time. stripped: each text stripped, when the
    caller has them (page_lines.shape_features strips them once for its page marks too)."""
    n = len(texts)
    if n == 0:
        return np.zeros((0, len(LINE_SHAPE_NAMES))), np.zeros(0)
    stripped = list(map(str.strip, texts)) if stripped is None else stripped
    if _kernels is not None:
        return _compiled_shape_matrix(stripped)
    b = _Batch(stripped, marks=True)
    words = _words(b)
    upper = b.has(UPPER)
    heads = _head_counts(b)
    literals = _Literals(b)
    separators = _separators(b, literals)
    counter, year, numbered = _regex_marks(stripped, heads.digits, _unit_in_head(b))
    # Marks say much about a short line and little about a 300-word paragraph that
    # happens to contain one.
    short = np.minimum(1.0, 30.0 / np.maximum(words.n_words, 1))

    features = np.column_stack([
        *_lengths(b, words),                           # log_chars, log_words
        *_line_edges(b, stripped, numbered),           # ends_terminal ... starts_upper
        *_ratios(b, words, heads, upper),              # digit_ratio ... titlecase_ratio
        *_marks(b, literals, heads, short, counter, year),  # has_counter ... has_quote
        *_word_form(b, words),                         # mean_word_len, is_cjk
        *_segments(b, stripped, words, separators),    # separator_density ... segments
        _glued_words(heads),                           # glued_words
    ]).astype(np.float64)
    return features, words.n_words.astype(np.float64)


def _words(b: _Batch) -> _Words:
    """Words as lines.count_words counts them (whitespace tokens, each CJK character one
    word), and str.split() tokens."""
    begins, cjk_at = b.word_positions()
    n_words = b.count_words(begins, cjk_at)
    token_starts = b.run_starts(~b.space)
    # Without CJK characters in the batch every str.split() token is one word.
    n_tokens = b.sums(token_starts) if len(cjk_at) else n_words
    return _Words(n_words, n_tokens, token_starts, begins, cjk_at)


def _head_counts(b: _Batch) -> _HeadCounts:
    """Every per-line count over the heads but the glued words, in one pass: each code
    point's class bits looked up as a 1 in the field of each count it adds to (_HEAD_FIELDS),
    the fields summed together by one reduceat over the heads (one per mask took 2.5 times
    as long on 2,000-line batches); glued words are rare, and counted from their positions."""
    packed = np.empty(len(b.codes) + 1, dtype=np.uint64)  # and a zero past the end (_Batch.sums)
    packed[-1] = 0
    _head_fields_table().take(b.classes, out=packed[:-1], mode="clip")  # (no index is out of range)
    sums = b.sums(packed, head=True)
    letters, alnum_space, digits, upper, quotes = (
        ((sums >> np.uint64(k * _HEAD_FIELD_BITS)) & np.uint64(_HEAD_FIELD_MASK)).astype(np.int64)
        for k in range(len(_HEAD_FIELDS)))
    glued = b.count_at(np.flatnonzero(_glued_starts(b)), head=True)
    return _HeadCounts(np.maximum(letters, 1), alnum_space, digits, upper, quotes, glued)


# The counts of _head_counts, in fields of _HEAD_FIELD_BITS bits of a uint64 in this order:
# a head holds at most HEAD_CHARS characters, fewer than 2^10, so no field overflows.
_HEAD_FIELDS = (ALPHA, ALNUM | SPACE, DIGIT, UPPER, QUOTE_MARK)
_HEAD_FIELD_BITS = 10
_HEAD_FIELD_MASK = (1 << _HEAD_FIELD_BITS) - 1
assert HEAD_CHARS <= _HEAD_FIELD_MASK and len(_HEAD_FIELDS) * _HEAD_FIELD_BITS <= 64


@lru_cache(maxsize=1)
def _head_fields_table() -> np.ndarray:
    """For every uint16 of class and mark bits (_Batch.classes), a 1 in the field of each of
    _HEAD_FIELDS it has."""
    bits = np.arange(1 << 16)
    table = np.zeros(1 << 16, dtype=np.uint64)
    for k, field_bits in enumerate(_HEAD_FIELDS):
        table |= ((bits & field_bits) != 0).astype(np.uint64) << np.uint64(k * _HEAD_FIELD_BITS)
    return table


def _glued_starts(b: _Batch) -> np.ndarray:
    """Where a glued word ("FinanceBlinken") starts: a lower-case letter, an upper-case
    one, a lower-case one."""
    classes, n_codes = b.classes, len(b.codes)
    glued = np.zeros(n_codes, dtype=bool)
    k = max(n_codes - 2, 0)
    glued[:k] = (((classes[0:k] & (LOWER_AZ | LATIN_LOWER)) != 0) & ((classes[1:k + 1] & GLUED_UPPER) != 0)
                 & ((classes[2:k + 2] & LOWER_AZ) != 0))
    return glued


def _separators(b: _Batch, literals: _Literals) -> _Separators:
    """" X " with X one of SEPARATOR_MARKS, found from the positions of X; " :: ", from
    its first colon; the "|"s; the marks between whitespace."""
    codes, classes, n_codes = b.codes, b.classes, len(b.codes)
    marks = b.marked(SEPARATOR_MARK)
    inner = marks[(marks >= 1) & (marks < n_codes - 1)]
    spaced = inner[(codes[inner - 1] == 32) & (codes[inner + 1] == 32)] - 1
    colons = literals.starting_with(ord(":"))
    colons = colons[(colons >= 1) & (colons < n_codes - 2)]
    colons = colons[(codes[colons - 1] == 32) & (codes[colons + 1] == ord(":")) & (codes[colons + 2] == 32)] - 1
    per_line = b.count_at(np.sort(np.concatenate((spaced, colons))))
    pipes = marks[codes[marks] == ord("|")]
    spaced_marks = inner[(codes[inner] != ord("|")) & ((classes[inner - 1] & classes[inner + 1] & SPACE) != 0)]
    return _Separators(per_line, pipes, spaced_marks)


def _unit_in_head(b: _Batch) -> np.ndarray:
    r"""Per line, whether _COUNTER_SUFFIX (\d[\d.,]*\s*[kKmM]\b) could match its head: only
    at a k/K/m/M that follows a decimal digit, "." "," or whitespace and ends a word (or
    the head)."""
    units = b.marked(UNIT)
    units = units[units >= 1]
    units = units[(b.classes[units - 1] & (DECIMAL | SPACE | NUMBER_PUNCT)) != 0]
    line_of = np.searchsorted(b.starts, units, side="right") - 1
    units = units[~b.has_at(units + 1, WORD) | (units + 1 == b.head_ends[line_of])]
    return b.count_at(units, head=True) > 0


def _lengths(b: _Batch, words: _Words) -> list[np.ndarray]:
    """log_chars, log_words: the capped lengths, on a log scale."""
    return [np.log1p(np.minimum(b.lengths, MAX_CHARS)), np.log1p(np.minimum(words.n_words, MAX_WORDS))]


# A batch of at most this many lines (a page) reads its lines' first and last characters
# in Python: a few str tests per line cost less than numpy's calls over a page.
_PYTHON_EDGES_MAX_LINES = 128
_TERMINAL_CHARS = frozenset(TERMINAL)
_BULLET_STARTS = frozenset(BULLETS)


def _line_edges(b: _Batch, stripped: list[str], numbered: np.ndarray) -> list:
    """_line_ends and _line_starts: the same values (str.isdigit and str.isupper are what
    the class bits DIGIT and UPPER hold; an empty line has no first or last character)."""
    if len(stripped) > _PYTHON_EDGES_MAX_LINES:
        return [*_line_ends(b), *_line_starts(b, numbered)]
    lasts, firsts = [line[-1:] for line in stripped], [line[:1] for line in stripped]
    return [[c in _TERMINAL_CHARS for c in lasts], [c == ":" for c in lasts], list(map(str.isdigit, lasts)),
            [line[:2] in _BULLET_STARTS for line in stripped], numbered, list(map(str.isupper, firsts))]


def _line_ends(b: _Batch) -> list[np.ndarray]:
    """ends_terminal, ends_colon, ends_digit: the last character."""
    last = b.last
    last_classes = char_classes(last.astype(np.uint32))
    return [(last[:, None] == _TERMINAL_CODES).any(axis=1), last == ord(":"), (last_classes & DIGIT) != 0]


def _line_starts(b: _Batch, numbered: np.ndarray) -> list[np.ndarray]:
    """starts_bullet, starts_numbered (NUMBERED, from _regex_marks), starts_upper."""
    codes, first = b.codes, b.first
    second = np.where(b.lengths > 1, codes[np.minimum(b.starts + 1, max(len(codes) - 1, 0))], 0) if len(codes) else first
    # The first two characters of each line as one number, compared with every bullet's.
    starts_bullet = ((first.astype(np.int64) << 21 | second)[:, None] == _BULLET_PAIRS).any(axis=1)
    first_classes = char_classes(first.astype(np.uint32))
    return [starts_bullet, numbered, ((first_classes & UPPER) != 0) & (b.lengths > 0)]


def _ratios(b: _Batch, words: _Words, heads: _HeadCounts, upper: np.ndarray) -> list[np.ndarray]:
    """digit_ratio, upper_ratio, punct_ratio (over the head), titlecase_ratio (of the
    str.split() tokens)."""
    n_head = np.minimum(b.lengths, HEAD_CHARS)
    head_div = np.maximum(n_head, 1)
    return [
        heads.digits / head_div,
        heads.upper / heads.letters,
        (n_head - heads.alnum_space) / head_div,
        b.sums(words.token_starts & upper) / np.maximum(words.n_tokens, 1),
    ]


def _marks(b: _Batch, literals: _Literals, heads: _HeadCounts, short: np.ndarray,
           counter: np.ndarray, year: np.ndarray) -> list[np.ndarray]:
    """has_counter, has_year (from _regex_marks), has_copyright, has_link, has_quote: in
    the head, weighted by `short`."""
    links = [literals.at("http://"), literals.at("https://"), literals.at("www."), literals.followed_by_word("@")]
    links += [literals.not_followed_by_word(tld) for tld in (".com", ".org", ".net")]
    copyright_marks = [literals.starting_with(0xA9), literals.at("(c)"), literals.at("(C)")]
    return [short * counter, short * year, short * _head_has(b, copyright_marks),
            short * _head_has(b, links), short * (heads.quotes > 0)]


def _head_has(b: _Batch, positions: list[np.ndarray]) -> np.ndarray:
    """Per line, whether any of the positions falls inside its head."""
    if not any(map(len, positions)):
        return np.zeros(len(b.lengths), dtype=bool)
    return b.count_at(np.sort(np.concatenate(positions)), head=True) > 0


def _word_form(b: _Batch, words: _Words) -> list[np.ndarray]:
    """mean_word_len (characters per str.split() token), is_cjk (more words than tokens)."""
    return [np.minimum(b.lengths / np.maximum(words.n_tokens, 1), 20) / 20.0, words.n_words > words.n_tokens]


# Up to this many lines with separators are all split in Python (_segment_words, the
# definition): for a few lines that costs less than _pipe_segments' numpy calls.
_PYTHON_SEGMENT_ROWS = 24


def _segments(b: _Batch, stripped: list[str], words: _Words, separators: _Separators) -> list[np.ndarray]:
    """separator_density, starts_pipe, log_longest_segment, segments.

    Segments of menus and table rows: only lines with a separator or a "|". Lines where
    SEGMENTS could match a mark between whitespace (" / ", "\t>\t") are split in Python."""
    n_words = words.n_words
    longest = n_words.astype(np.float64)
    n_segments = np.ones(len(stripped))
    rows = (separators.per_line > 0) | (b.count_at(separators.pipes) > 0)
    if rows.sum() <= _PYTHON_SEGMENT_ROWS:  # a page's few rows: all split in Python
        in_python = rows
    else:
        in_python = rows & (b.count_at(separators.spaced_marks) > 0)
    pipe_rows = np.flatnonzero(rows & ~in_python)
    if len(pipe_rows):
        longest[pipe_rows], n_segments[pipe_rows] = _pipe_segments(b, pipe_rows, words.begins, words.cjk_at,
                                                                   separators.pipes)
    in_python = np.flatnonzero(in_python)
    segment_words = [_segment_words(stripped[i]) for i in in_python.tolist()]
    longest[in_python] = [max(counts, default=0) for counts in segment_words]
    n_segments[in_python] = [len(counts) for counts in segment_words]
    return [np.minimum(separators.per_line / (n_words + 1), 2.0), b.first == ord("|"),
            np.log1p(np.minimum(longest, MAX_WORDS)), np.minimum(n_segments, 20) / 20.0]


def _glued_words(heads: _HeadCounts) -> np.ndarray:
    """glued_words: glued words in the head, up to 3."""
    return np.minimum(heads.glued, 3) / 3.0


# The counts _kernels.line_stats gives per line, in the order of its columns.
_STAT_NAMES = (
    "n_words", "n_tokens", "titlecase", "letters", "alnum_space", "digits", "upper", "quotes", "glued",
    "has_link", "has_copyright", "separators", "pipes", "spaced_marks", "unit_in_head", "longest_segment",
    "segments", "ends_terminal", "ends_colon", "ends_digit", "starts_bullet", "starts_upper", "starts_pipe",
)
# The class and mark bits, in the order _kernels.c reads them.
_KERNEL_BITS = (ALPHA, DIGIT, UPPER, ALNUM, SPACE, CJK, WORD, DECIMAL, LATIN_LOWER, LOWER_AZ, GLUED_UPPER,
                QUOTE_MARK, SEPARATOR_MARK, LITERAL_START, UNIT, NUMBER_PUNCT)
# The marks _marks looks for, as (literal, what must follow: 1 a \w character, -1 none, 0
# anything), for the kernel; _marks finds the same ones with _Literals.
_LINK_LITERALS = [("http://", 0), ("https://", 0), ("www.", 0), ("@", 1), (".com", -1), (".org", -1), (".net", -1)]
_COPYRIGHT_LITERALS = [("\u00a9", 0), ("(c)", 0), ("(C)", 0)]


def _compiled_shape_matrix(stripped: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """shape_matrix of the stripped lines from _kernels.line_stats' counts per line (one
    loop over the batch instead of a hundred numpy calls), the features computed from
    them by the same numpy expressions as the steps of shape_matrix, so the same numbers.
    Lines whose separator marks stand between whitespace are split by _segment_words,
    as shape_matrix's steps split them."""
    lengths, starts = _line_bounds(stripped)
    stats = np.zeros((len(stripped), len(_STAT_NAMES)), dtype=np.int64)
    rest = (starts, lengths, HEAD_CHARS, _KERNEL_BITS, _TERMINAL_CODES, _BULLET_PAIRS, _LINK_LITERALS,
            _COPYRIGHT_LITERALS, stats)
    # A text of the BMP is read in place, classified by table inside the loop; any other
    # (-1) by the arrays of a _Batch.
    if _kernels.line_stats("\n".join(stripped), (_bmp_marks_table(),), *rest) < 0:
        b = _Batch(stripped, marks=True)
        _kernels.line_stats(b.codes, b.classes, *rest)
    (n_words, n_tokens, titlecase, letters, alnum_space, digits, upper, quotes, glued, has_link, has_copyright,
     separators, pipes, spaced_marks, unit_in_head, longest, n_segments, ends_terminal, ends_colon, ends_digit,
     starts_bullet, starts_upper, starts_pipe) = stats.T
    counter, year, numbered = _regex_marks(stripped, digits, unit_in_head > 0)
    longest, n_segments = longest.astype(np.float64), n_segments.astype(np.float64)
    # Only rows with segments (a " X " separator or a "|"), as in _segments: a mark
    # between other whitespace ("0 >\t0") alone makes no segments.
    in_python = np.flatnonzero((spaced_marks > 0) & ((separators > 0) | (pipes > 0)))
    segment_words = [_segment_words(stripped[i]) for i in in_python.tolist()]
    longest[in_python] = [max(counts, default=0) for counts in segment_words]
    n_segments[in_python] = [len(counts) for counts in segment_words]
    short = np.minimum(1.0, 30.0 / np.maximum(n_words, 1))
    n_head = np.minimum(lengths, HEAD_CHARS)
    head_div = np.maximum(n_head, 1)
    columns = (
        np.log1p(np.minimum(lengths, MAX_CHARS)), np.log1p(np.minimum(n_words, MAX_WORDS)),
        ends_terminal, ends_colon, ends_digit, starts_bullet, numbered, starts_upper,
        digits / head_div, upper / np.maximum(letters, 1), (n_head - alnum_space) / head_div,
        titlecase / np.maximum(n_tokens, 1),
        short * counter, short * year, short * (has_copyright > 0), short * (has_link > 0), short * (quotes > 0),
        np.minimum(lengths / np.maximum(n_tokens, 1), 20) / 20.0, n_words > n_tokens,
        np.minimum(separators / (n_words + 1), 2.0), starts_pipe,
        np.log1p(np.minimum(longest, MAX_WORDS)), np.minimum(n_segments, 20) / 20.0,
        np.minimum(glued, 3) / 3.0,
    )
    # Each column stored as float64, as column_stack then astype(np.float64) stores it,
    # without column_stack's reshaping of every column (a share of a page's time).
    features = np.empty((len(stripped), len(columns)))
    for k, column in enumerate(columns):
        features[:, k] = column
    return features, n_words.astype(np.float64)
