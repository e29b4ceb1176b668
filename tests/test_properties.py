"""Property-based tests: arbitrary Unicode pages never break the public API."""
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from boilercut import classify_lines, filter_page, score_lines, split_lines

# Any code point, lone surrogates included (textio uses them for undecodable bytes), with
# line breaks and in-line separators made common enough to matter.
CHARS = st.one_of(st.characters(exclude_categories=()), st.sampled_from("\n\r\u2028\u2029\x85\x0c\x0b\t "))
PAGES = st.text(alphabet=CHARS, max_size=300)
LINES = st.lists(st.text(alphabet=CHARS, max_size=60), max_size=20)
FAST = settings(max_examples=50, deadline=None)


def is_ordered_subsequence(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(any(line == other for other in rest) for line in part)


@FAST
@given(page=PAGES, threshold=st.one_of(st.none(), st.floats(0.0, 1.0)))
def test_filter_page_keeps_an_ordered_subsequence_of_lines(tiny_model, page, threshold):
    kept = filter_page(page, model=tiny_model, threshold=threshold)
    lines = split_lines(page)
    assert is_ordered_subsequence(split_lines(kept), lines)
    cut = tiny_model.threshold if threshold is None else threshold
    scores = score_lines(lines, model=tiny_model)
    assert kept == "\n".join(line for line, s in zip(lines, scores) if s >= cut)


@FAST
@given(page=PAGES)
def test_threshold_zero_keeps_every_line_unchanged(tiny_model, page):
    assert filter_page(page, model=tiny_model, threshold=0.0) == "\n".join(split_lines(page))


@FAST
@given(lines=LINES)
def test_one_label_and_one_score_per_line(tiny_model, lines):
    labels = classify_lines(lines, model=tiny_model)
    scores = score_lines(lines, model=tiny_model)
    assert len(labels) == len(scores) == len(lines)
    assert set(labels) <= set(tiny_model.labels)
    assert all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores)
