import numpy as np
from sklearn.base import clone

from boilercut.features import LineShape, Neighbours, make_line_table, SHAPE_NAMES
from boilercut.model import build_features
from conftest import TINY_FEATURES, tiny_records


def table():
    return make_line_table([["Home | News | Sport", "A long sentence about the weather today."],
                            ["Related", "- Teaser one", "- Teaser two"]])


def test_line_table_numbers_pages():
    t = table()
    assert list(t["page"]) == [0, 0, 1, 1, 1]
    assert list(t["text"])[2] == "Related"


def test_shape_features_have_names_and_values():
    shape = LineShape(position=True).fit(table())
    x = shape.transform(table())
    names = list(shape.get_feature_names_out())
    assert x.shape == (5, len(SHAPE_NAMES)) == (5, len(names))
    col = names.index
    assert x[0, col("separator_density")] > 0 and x[1, col("separator_density")] == 0
    assert x[1, col("ends_terminal")] == 1 and x[2, col("ends_terminal")] == 0
    assert x[3, col("starts_bullet")] == 1
    assert list(x[:, col("is_first")]) == [1, 0, 1, 0, 0]
    assert list(x[:, col("is_last")]) == [0, 1, 0, 0, 1]


def test_neighbours_never_cross_pages():
    n = Neighbours(LineShape(position=True), column=None, window=1).fit(table())
    x = n.transform(table())
    names = list(n.get_feature_names_out())
    assert x.shape[1] == len(names) == 3 * len(SHAPE_NAMES)
    prev_chars = names.index("prev1:log_chars")
    next_chars = names.index("next1:log_chars")
    assert x[2, prev_chars] == 0  # first line of page 2 has no previous line
    assert x[1, next_chars] == 0  # last line of page 1 has no next line
    assert x[3, prev_chars] > 0


def test_smoothing_averages_within_the_page():
    n = Neighbours(LineShape(), column=None, window=0, smooth=5).fit(table())
    x = n.transform(table())
    names = list(n.get_feature_names_out())
    base, mean = names.index("log_chars"), names.index("mean5:log_chars")
    assert np.isclose(x[2, mean], x[3:5, base].mean())  # the line itself is left out
    assert np.isclose(x[0, mean], x[1, base])


def test_feature_union_is_deterministic_under_clone_and_refit():
    records = tiny_records(6)
    t = make_line_table([r["lines"] for r in records])
    union = build_features(**TINY_FEATURES)
    a = union.fit_transform(t)
    b = clone(union).fit_transform(t)
    assert a.shape == b.shape
    assert abs(a - b).max() == 0
    assert len(union.get_feature_names_out()) == a.shape[1]


def test_a_title_bar_repeating_the_next_line_is_flagged():
    headline = "Council approves the new bus routes after a long debate"
    t = make_line_table([[f"Home > News{headline} -Daily Site", headline, "Short"]])
    x = LineShape().fit(t).transform(t)
    col = list(SHAPE_NAMES).index("contains_neighbour")
    assert list(x[:, col]) == [1, 0, 0]


def test_a_paragraph_naming_the_heading_below_is_not_a_title_bar():
    # The heading is a substring of the paragraph, but a small part of it: prose that names
    # what the next section is about, not a title bar repeating a headline.
    heading = "Solar Kettle Field Notes"
    paragraph = (f"Before the trip we packed two spare valves, and the {heading} binder held every "
                 "reading we took on the plateau, one page per morning.")
    t = make_line_table([[paragraph, heading, "The first morning was cold."]])
    x = LineShape().fit(t).transform(t)
    col = list(SHAPE_NAMES).index("contains_neighbour")
    assert list(x[:, col]) == [0, 0, 0]


def test_named_columns_hold_their_features():
    t = make_line_table([["HomeNewsSport", "Plain words here", "Plain words here"]])
    x = LineShape().fit(t).transform(t)
    col = list(SHAPE_NAMES).index
    assert x[0, col("glued_words")] > 0 and x[1, col("glued_words")] == 0
    assert list(x[:, col("duplicate_in_page")]) == [0, 1, 1]


def test_clip_values_bounds_standardised_shape_features():
    import numpy as np

    from boilercut.features import ClipValues

    x = np.array([[31.6, -0.2], [-40.0, 3.0]])
    assert ClipValues(5.0).fit(x).transform(x).tolist() == [[5.0, -0.2], [-5.0, 3.0]]
    assert ClipValues(None).fit(x).transform(x) is x


def test_line_head_keeps_the_first_words_and_names_the_marks():
    from boilercut.normalise import line_head

    assert line_head("Watch: Senator Says It Again") == "Watch xcolon Senator"
    assert line_head("Flashback — Name: Headline") == "Flashback xdash Name"
    assert line_head("Watch parties were held downtown") == "Watch parties were"
    assert line_head("Home > News > World") == "Home xarrow News"
    assert line_head("") == ""


def test_fit_transform_gives_fit_then_transform_to_the_last_bit():
    # Vocabulary caps make the vectorizer sort and cut its columns: the case where
    # TfidfVectorizer.fit_transform's own row norms are summed in another order.
    import pickle

    import scipy.sparse as sp

    records = tiny_records(8)
    t = make_line_table([r["lines"] for r in records])
    union = build_features(**dict(TINY_FEATURES, max_word_features=40, max_char_features=60))
    separate, once = clone(union), clone(union)
    a = sp.csr_matrix(separate.fit(t).transform(t))
    b = sp.csr_matrix(once.fit_transform(t))
    assert a.dtype == b.dtype
    for part in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(a, part), getattr(b, part))
    for (_, x), (_, y) in zip(separate.transformer_list, once.transformer_list):
        assert pickle.dumps(x.transformer_) == pickle.dumps(y.transformer_)


class CountingLower:
    """A vectorizer preprocessor that counts the texts it is given (on the class: clone
    deep-copies a vectorizer's preprocessor)."""

    calls = 0

    def __call__(self, text):
        CountingLower.calls += 1
        return text.lower()


def test_fit_transform_reads_each_line_once():
    from sklearn.feature_extraction.text import TfidfVectorizer

    CountingLower.calls = 0
    part = Neighbours(TfidfVectorizer(preprocessor=CountingLower()), column="text", window=1)
    x = part.fit_transform(table())
    assert x.shape[0] == 5 and CountingLower.calls == 5  # fit then transform read them twice
