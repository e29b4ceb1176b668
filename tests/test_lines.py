from boilercut import split_lines
from boilercut.lines import count_words


def test_split_on_lf_crlf_and_cr():
    assert split_lines("a\nb\r\nc\rd") == ["a", "b", "c", "d"]


def test_trailing_newline_does_not_add_a_line():
    assert split_lines("a\nb\n") == ["a", "b"]
    assert split_lines("") == []


def test_unicode_separators_stay_inside_the_line():
    text = "one\u2028two\x85three\x0cfour\nnext"
    assert split_lines(text) == ["one\u2028two\x85three\x0cfour", "next"]


def test_empty_lines_are_kept_as_lines():
    assert split_lines("a\n\nb") == ["a", "", "b"]


def test_count_words_latin_and_cjk():
    assert count_words("three small words") == 3
    assert count_words("  ") == 0
    assert count_words("北京天气 good") == 5
