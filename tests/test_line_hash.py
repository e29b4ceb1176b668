"""The batched line hash gives the reference's numbers, line by line, for every kind of text."""
from __future__ import annotations

import numpy as np
import pytest

from boilercut import line_hash
from boilercut.line_hash import line_hashes, normalise_line, reference_line_hash
from boilercut.site_repeats import LINE_HASH_VERSION, SiteCounts

TRICKY = [
    "Home > News (12)",
    "HOME > NEWS (34)",                     # the same normalised text as the line above
    "İstanbul'da İyi Günler",               # U+0130 lowers to two characters
    "ΟΔΟΣ ΣΟΦΟΣ και σοφός Σ",               # final and medial sigma
    "ÜBER_UNS -- über uns",
    "١٢٣ ٤٥ digits ²³ ⅷ",                   # Arabic-Indic decimals, superscripts, a roman numeral
    "emoji 😀 between 𝟘𝟙 mathematical digits 𠀀",  # code points beyond the BMP
    "lone \udcff surrogate of an undecodable byte",
    "日本語の行、句読点。",
    "",
    "   \t ",
    "--- * ---",
    "a",
    "word " * 1500,                         # longer than the first weight table
    "tab\tand\u00a0no-break\u2003spaces",
]


def test_every_line_hashes_as_the_reference_does_alone_and_in_any_batch():
    expected = [reference_line_hash(line) for line in TRICKY]
    assert line_hashes(TRICKY).tolist() == expected
    assert [int(line_hashes([line])[0]) for line in TRICKY] == expected
    assert line_hashes(TRICKY[::-1]).tolist() == expected[::-1]


def test_equal_normalised_texts_hash_alike_and_different_ones_apart():
    hashes = line_hashes(TRICKY).tolist()
    by_text = {}
    for line, value in zip(TRICKY, hashes):
        by_text.setdefault(normalise_line(line), set()).add(value)
    assert all(len(values) == 1 for values in by_text.values())
    assert len({values.pop() for values in by_text.values()}) == len(by_text)
    assert hashes[0] == hashes[1]
    assert line_hashes(["", "  ", "***"]).tolist() == [0, 0, 0]


def test_word_order_and_word_breaks_change_the_hash():
    a, b, c, d = line_hashes(["news sport", "sport news", "newssport", "news sport weather"]).tolist()
    assert len({a, b, c, d}) == 4


def test_the_code_point_table_normalises_each_character_as_normalise_line_does():
    table = line_hash._bmp_table()
    for code in range(0x10000):
        if code == 0x130:  # two characters once lowered: such lines take the reference path
            continue
        alone = normalise_line(chr(code))
        assert (chr(table[code]) if table[code] else "") == alone, hex(code)


def test_counts_of_another_line_hash_are_refused():
    counts = SiteCounts()
    for page in range(3):
        counts.add_page("a.com", ["menu", f"story {page}"])
    arrays = counts.to_arrays()
    assert int(arrays["line_hash_version"]) == LINE_HASH_VERSION
    assert SiteCounts.from_arrays(arrays).page_repeats("a.com", ["menu"]).other.tolist() == [2]
    old = {k: v for k, v in arrays.items() if k != "line_hash_version"}
    with pytest.raises(ValueError, match="line hash version 1"):
        SiteCounts.from_arrays(old)
    assert np.array_equal(SiteCounts.from_arrays(arrays).keys, counts.keys)
