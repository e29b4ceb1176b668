from boilercut import split_lines
from boilercut.lines import count_words, line_count


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


def test_count_words_of_a_long_line_in_pieces_equals_counting_it_whole():
    import random

    from boilercut.lines import _count_words_in_pieces

    rng = random.Random(7)
    alphabet = ["a", "b", " ", "\t", "\u3000", "北", "京", "x", "\udce9", "\n"]
    for _ in range(300):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        for piece in (1, 2, 3, 7):
            assert _count_words_in_pieces(line, piece) == count_words(line), (line, piece)


def test_count_words_of_a_long_line_does_not_hold_its_words():
    import tracemalloc

    line = "ab " * 2_000_000  # 6 MB: as a list of its 2 million words, about 100 MB
    tracemalloc.start()
    try:
        assert count_words(line) == 2_000_000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2 ** 20


def test_line_count_is_the_number_of_split_lines():
    for text in ["", "a", "a\n", "\n", "\n\n", "a\r\nb", "a\rb\r", "a\r\n\rb\n\nc", "\r\n\r"]:
        assert line_count(text) == len(split_lines(text)), repr(text)
