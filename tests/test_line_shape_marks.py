"""shape_matrix finds literal marks, separators and counter units among the positions of
their characters (line_shape's mark bits), and splits table rows at "|" on word
positions: lines that put them at the edges of a line, of the 300-character head and of
the batch still give the reference's values."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boilercut.shape_reference import differences

EDGES = [
    "x :: :: y", " :: ", "a ::", ":: b", "a / / / b", "| | |", "a|b", "/ x /", "k", "m 5", "5 m", "5m",
    "a" * 297 + " 5k", "a" * 296 + " 5 kb", "a" * 298 + "5mm", "a" * 297 + "12kilo", "a" * 299 + "k",
    "a" * 296 + "http://", "a" * 299 + "@b", "a" * 296 + "x.com", "a" * 297 + ".org", "a" * 298 + "(c)",
    "a" * 299 + "©", "a" * 299 + "\"", "a" * 298 + "aBc", "a" * 299 + "Bc", "éÀb", "ÿÞa", "aÞÿ",
    "x.comy", "x.com_", "@_", "@", "(C)", "www", "https://", "1.5 M", "3,4\tk", "2 K!",
    "|", "||", "|a||b|", "a | b | | c", "日本|語 x|", "a|\tb", "a |\n| b", "x :: y | z", "a\t/\tb | c",
]


@pytest.mark.parametrize("order", [1, -1], ids=["forward", "reversed"])
def test_marks_at_the_edges_match_the_reference(order):
    assert not differences(EDGES[::order])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(" \t:|/>»·•›.,@()©hwtpsc:/comrgne5kKmMaBÀé\"“x日"), max_size=40),
                min_size=1, max_size=6))
def test_mark_characters_match_the_reference(lines):
    assert not differences(lines)
