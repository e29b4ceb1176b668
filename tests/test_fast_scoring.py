"""The batch implementations used for scoring give the same numbers as the reference ones:
line_shape.shape_matrix vs boilercut.shape_reference, fast_tfidf vs scikit-learn's
vectorizers, LinearScorer vs Pipeline.predict_proba."""
import copy
import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

import boilercut.fast_tfidf as fast_tfidf
from boilercut.fast_tfidf import fast_transform
from boilercut.features import _contains_neighbour, make_line_table
from boilercut.line_shape import DECIMAL, char_classes, word_counts
from boilercut.lines import count_words
from boilercut.logistic import softmax_rows
from boilercut.model import LineModel
from boilercut.normalise import normalise_head, normalise_text
from boilercut.scorer import LinearScorer
from boilercut.shape_reference import contains_neighbour, differences
from boilercut.sparse_entries import Entries, count_entries, entries_dot, row_pointers
from boilercut.training import fit_pipeline
from conftest import TINY_CLASSIFIER, TINY_FEATURES, tiny_records

# Lines where a batch implementation could part from the per-line one: empty and blank
# lines, Unicode case rules (final sigma, dotted I), non-ASCII digits and spaces, CJK,
# characters above U+FFFF, separators, marks at the edge of the 300-character head.
TRICKY = [
    "", " ", "\t", "a", "I", "ΟΔΟΣ ΚΑΙ ΣΟΦΙΑ", "İstanbul İ", "١٢٣ ٤٥ and ３４", "a  b\t\tc\u00a0d",
    "日本語のテキスト abc", "emoji 😀 ok 😀😀 𝔘𝔫𝔦", "é e\u0301", "x\u2028y\u2029z", "Home > News > World",
    "| cell | cell | | |", "Share 1.2K", "veryGood! (9753)", "(c) 2020 Example.com", "© Example",
    "1) First step.", "(12) Likes", "...", "FinanceBlinken says", "mail me@example.org now",
    "see https://example.net/page", "a" * 298 + " http://x.com", "word " * 500, "Ünïcödé wörds ß ẞ",
    "tab\tseparated\tcells", "  leading and trailing  ", "#hashtag @user under_score",
    "a line\nwith a break inside", "\n",  # possible through the API
]
# Lines for the word tokens found on code points (fast_tfidf._token_hashes): what \\w and
# \\d are in Unicode, digits of other scripts and above U+FFFF (mapped to "0"), digit-like
# characters that are not \\d (superscripts, circled, fractions), underscores,
# apostrophes, punctuation only, a very long token and line, the U+FFFD that stands for
# undecodable bytes, combining marks, CJK, tokens that share a prefix or differ in length.
WORDS_TRICKY = TRICKY + [
    "don't can’t l'homme", "snake_case __dunder__ _ __", "!!! ??? ... --- ***", "x² ① ½ Ⅻ 10²",
    "٣ ৩ ๓ 𝟙𝟚 १२३", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 words 𝓬", "bad byte \ufffd here\ufffd\ufffd", "naïve cafe\u0301 ǅungla",
    "中文字符 한국어 テキスト", "ab abc abcd abcde abc ab", "z" * 5000, "token " * 3000,
    "a_1 1_a 9a a9 ９a", "ΣΑΣ σας ΌΣΟΣ", "tab\there\x0bvertical\x0cform", "\u200bzero\u200dwidth",
]


# Lines for each alternative of line_shape.COUNTER (searched as three regexes), and for
# literal marks at the very end of a batch.
COUNTERS = ["12k", "(1.5 M)", "( 3,4 )", " 3,4 m ", "12 K.", "x(12)", "1.2.3km", "(9) x", "9 kids", "1.5M views",
            "(12", "12)", "no digits (k)", "42", "4 2", "a 10 mm b", "view (c", "www", "x.co"]
WITHOUT_CJK = [line for line in TRICKY if not re.search("[\u3040-\u30ff\u4e00-\u9fff]", line)]


@pytest.mark.parametrize("lines", [TRICKY, TRICKY + COUNTERS, WITHOUT_CJK + COUNTERS, COUNTERS[-1:]],
                         ids=["tricky", "counters", "no-cjk", "mark-at-end"])
def test_shape_matrix_matches_the_reference_on_tricky_lines(lines):
    assert not differences(lines)


@pytest.mark.parametrize("lines", [TRICKY + COUNTERS + ["Home | News | Sport", "a / b / c", "x :: y"] * 10],
                         ids=["page-sized"])
def test_shape_matrix_matches_the_reference_on_both_paths(monkeypatch, lines):
    # A page reads its lines' edges and splits its separator lines in Python, a batch with
    # numpy (line_shape._PYTHON_EDGES_MAX_LINES, _PYTHON_SEGMENT_ROWS): both are the reference.
    import boilercut.line_shape as line_shape

    for edges_max_lines, segment_rows in ((10 ** 9, 10 ** 9), (0, -1)):  # Python, then numpy
        monkeypatch.setattr(line_shape, "_PYTHON_EDGES_MAX_LINES", edges_max_lines)
        monkeypatch.setattr(line_shape, "_PYTHON_SEGMENT_ROWS", segment_rows)
        assert not differences(lines)


def test_the_reference_check_reports_a_feature_that_differs(monkeypatch):
    import boilercut.shape_reference as reference

    shape_matrix = reference.shape_matrix

    def one_feature_off(lines):
        features, words = shape_matrix(lines)
        features[:, 2] += 1e-9
        return features, words
    monkeypatch.setattr(reference, "shape_matrix", one_feature_off)
    found = differences(["Ends here.", "no end"])
    assert len(found) == 2 and all(d.startswith("ends_terminal ") for d in found)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
                        max_size=80), min_size=1, max_size=8))
def test_shape_matrix_matches_the_reference_on_any_text(lines):
    assert not differences(lines)


def _fitted(texts=None, **kwargs) -> TfidfVectorizer:
    texts = [line for r in tiny_records(12) for line in r["lines"]] + WORDS_TRICKY if texts is None else texts
    return TfidfVectorizer(dtype=np.float32, sublinear_tf=True, **kwargs).fit(texts)


WORDS = {"preprocessor": normalise_text, "token_pattern": r"(?u)\b\w+\b", "ngram_range": (1, 2)}


@pytest.mark.parametrize("kwargs", [
    {"preprocessor": normalise_text, "token_pattern": r"(?u)\b\w+\b", "ngram_range": (1, 2)},
    {"preprocessor": normalise_text, "token_pattern": r"(?u)\b\w+\b", "ngram_range": (1, 1)},
    {"preprocessor": normalise_text, "token_pattern": r"(?u)\b\w+\b", "ngram_range": (1, 2), "max_features": 40},
    {"preprocessor": normalise_head, "analyzer": "char_wb", "ngram_range": (2, 4)},
    {"preprocessor": normalise_head, "analyzer": "char_wb", "ngram_range": (3, 3), "min_df": 2},
])
def test_fast_transform_is_the_vectorizers_transform(kwargs):
    vectorizer = _fitted(**kwargs)
    fast = fast_transform(vectorizer)
    assert fast is not None
    lines = WORDS_TRICKY + [line.upper() for line in WORDS_TRICKY] + ["unseen wörds 99 times", "ΣΟΦΙΑΣ"]
    expected, got = vectorizer.transform(lines), fast(lines)
    assert got.shape == expected.shape
    assert abs(got - expected).max() < 1e-6
    assert fast([]).shape == (0, len(vectorizer.vocabulary_))
    assert fast([""]).nnz == 0


@pytest.mark.parametrize("weighting", [
    {"sublinear_tf": True}, {"sublinear_tf": False}, {"use_idf": False}, {"smooth_idf": False},
    {"norm": "l1"}, {"norm": None}, {"sublinear_tf": False, "use_idf": False, "norm": None},
])
@pytest.mark.parametrize("features", [WORDS, {"preprocessor": normalise_head, "analyzer": "char_wb",
                                              "ngram_range": (3, 4)}], ids=["words", "chars"])
def test_tfidf_weighting_is_the_transformers_bit_for_bit(features, weighting):
    # fast_tfidf weighs the counts itself (_tfidf_weighting) instead of calling
    # TfidfTransformer.transform: the same entries, in the same order, with the same bits.
    texts = [line for r in tiny_records(12) for line in r["lines"]] + WORDS_TRICKY
    vectorizer = TfidfVectorizer(dtype=np.float32, **{**features, **weighting}).fit(texts)
    lines = WORDS_TRICKY + [line.upper() for line in WORDS_TRICKY] + texts[:200]
    expected, got = vectorizer.transform(lines), fast_transform(vectorizer)(lines)
    assert got.dtype == expected.dtype
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(got, name), getattr(expected, name)), name


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60),
                min_size=1, max_size=8))
def test_word_tokens_on_code_points_are_the_vectorizers_on_any_text(lines):
    # The vocabulary is fitted on half of the lines: the rest has unseen tokens too.
    vectorizer = _fitted(texts=lines[::2] + ["seed words"], **WORDS)
    expected, got = vectorizer.transform(lines), fast_transform(vectorizer)(lines)
    assert (expected != got).nnz == 0


def test_colliding_vocabulary_hashes_leave_the_words_to_sklearn(monkeypatch):
    # With base 1 a token's hash is the sum of its code points: "ab" and "ba" collide.
    monkeypatch.setattr(fast_tfidf, "_HASH_BASE", 1)
    monkeypatch.setattr(fast_tfidf, "_HASH_BASE_INVERSE", 1)
    assert fast_transform(_fitted(texts=["ab ba", "ab ba"], **WORDS)) is None
    fast = fast_transform(_fitted(texts=["pp cd", "pp cd"], **WORDS))
    assert fast is not None
    # "à" (224) has the hash of "pp" (112 + 112) but not its length: no match.
    assert fast(["à", "pp"]).indptr.tolist() == [0, 0, 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 29)), max_size=200))
def test_counts_matrix_is_the_coo_one_with_duplicates_summed(entries):
    rows = np.array([r for r, _ in entries], dtype=np.int64)
    cols = np.array([c for _, c in entries], dtype=np.int64)
    got = fast_tfidf._counts_matrix(rows, cols, 10, 30)
    expected = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(10, 30), dtype=np.float32)
    expected.sum_duplicates()
    assert got.dtype == np.float32 and got.has_sorted_indices
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(got, name), getattr(expected, name)), name


def test_counts_matrix_without_scipys_private_routines_is_the_same(monkeypatch):
    if fast_tfidf._sparsetools is None:
        pytest.skip("this scipy has no usable scipy.sparse._sparsetools: only the fallback exists")
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 50, 2000), rng.integers(0, 300, 2000)
    fast = fast_tfidf._counts_matrix(rows, cols, 50, 300)
    monkeypatch.setattr(fast_tfidf, "_sparsetools", None)  # as on a scipy that moved them
    fallback = fast_tfidf._counts_matrix(rows, cols, 50, 300)
    assert fallback.has_sorted_indices and fast.has_sorted_indices
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(fast, name), getattr(fallback, name)), name



def _same_home_keys(table_bits: int, home: int, count: int) -> list[int]:
    """count distinct keys whose home slot, in a table of 2^table_bits slots, is home:
    key * _SLOT_MULTIPLIER has home in its top bits (the multiplier is invertible mod 2^64)."""
    inverse = pow(int(fast_tfidf._SLOT_MULTIPLIER), -1, 2 ** 64)
    return [((home << (64 - table_bits)) + i) * inverse % 2 ** 64 for i in range(count)]


ALL_ONES = 2 ** 64 - 1


@pytest.mark.parametrize("keys, most_at_one_home", [
    ([], 0),
    ([0], 1),  # key 0: the table's empty marker must then be another number
    ([0, 1, 2, 3, ALL_ONES], 1),  # 0 to 3 are keys: the empty marker is 4
    ([ALL_ONES, ALL_ONES - 1, 1 << 63], 1),
    (_same_home_keys(4, 7, 6) + [0, 1], 6),  # one home slot for six keys: five sit after it
    (_same_home_keys(4, 15, 5) + _same_home_keys(4, 14, 3), 5),  # the last slots overflow past the end
    (_same_home_keys(5, 0, 9) + _same_home_keys(5, 3, 4), 9),  # two runs that meet
], ids=["none", "zero", "small-and-all-ones", "high", "one-home", "overflow-at-end", "runs-meet"])
def test_key_table_finds_every_key_and_nothing_else(keys, most_at_one_home):
    values = np.arange(len(keys), dtype=np.int32) * 7 + 3
    table = fast_tfidf._KeyTable(np.array(keys, dtype=np.uint64), values)
    assert int(table.empty) not in keys
    homes = table._home(np.array(keys, dtype=np.uint64))
    assert max(np.bincount(homes), default=0) == most_at_one_home  # the collisions meant
    queries = keys + [int(table.empty), 0, 1, 2, 4, ALL_ONES, ALL_ONES - 2, 1 << 63, (1 << 63) + 1]
    queries += _same_home_keys(4, 7, 9) + _same_home_keys(4, 15, 7) + _same_home_keys(5, 0, 12)
    expected = dict(zip(keys, values.tolist()))
    got = table.get(np.array(queries, dtype=np.uint64))
    assert got.dtype == np.int32
    assert got.tolist() == [expected.get(q, -1) for q in queries]
    assert table.get(np.zeros(0, dtype=np.uint64)).tolist() == []


def test_key_table_is_a_dict_on_random_keys():
    rng = np.random.default_rng(1)
    keys = np.unique(rng.integers(0, 2 ** 64, 5000, dtype=np.uint64, endpoint=False))
    values = rng.permutation(len(keys)).astype(np.int32)
    table = fast_tfidf._KeyTable(keys, values)
    assert len(table.keys) >= 2 * len(keys)  # load factor at most 1/2
    queries = np.concatenate([keys, rng.integers(0, 2 ** 64, 5000, dtype=np.uint64, endpoint=False),
                              keys[::3] + np.uint64(1)])
    expected = dict(zip(keys.tolist(), values.tolist()))
    assert table.get(queries).tolist() == [expected.get(q, -1) for q in queries.tolist()]

@pytest.mark.parametrize("one_shot_probes", [0, 64, 1 << 16], ids=["rounds-only", "rounds-then-at-once", "at-once"])
def test_key_table_finds_the_same_by_rounds_and_at_once(monkeypatch, one_shot_probes):
    """Large batches probe slot by slot until few queries are left, pages read every slot
    within reach at once: both give every key's value and -1 for anything else."""
    rng = np.random.default_rng(2)
    keys = np.unique(rng.integers(0, 2 ** 64, 3000, dtype=np.uint64, endpoint=False))
    keys = np.concatenate([keys, np.array(_same_home_keys(15, 9, 12), dtype=np.uint64)])  # a long run
    values = rng.permutation(len(keys)).astype(np.int32)
    table = fast_tfidf._KeyTable(keys, values)
    monkeypatch.setattr(fast_tfidf, "_ONE_SHOT_PROBES", one_shot_probes)
    queries = np.concatenate([keys, rng.integers(0, 2 ** 64, 3000, dtype=np.uint64, endpoint=False), keys + np.uint64(1)])
    expected = dict(zip(keys.tolist(), values.tolist()))
    assert table.get(queries).tolist() == [expected.get(q, -1) for q in queries.tolist()]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Breaking news: the council met today", " Home > Breaking news: the "
                                           "council met today ", "x" * 19, " " + "x" * 19 + "yyyy ", ""]),
                          st.integers(0, 2)), max_size=12))
def test_contains_neighbour_is_the_reference(rows):
    rows = sorted(rows, key=lambda row: row[1])  # lines of a page are contiguous
    texts, pages = [t for t, _ in rows], [p for _, p in rows]
    got = _contains_neighbour(texts, np.asarray(pages, dtype=np.int64))
    assert got.tolist() == contains_neighbour(texts, pages)


def test_word_counts_are_count_words():
    # The last two are past LONG_LINE_CHARS, counted apart from the batch.
    lines = WORDS_TRICKY + ["\ud800 lone \udcff surrogates", "日本 語 x", "word " * 5000, "x" * 20_001 + " 日本"]
    assert list(word_counts(lines)) == [count_words(line) for line in lines]
    assert list(word_counts(lines[-2:])) == [5000, 3]
    assert len(word_counts([])) == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=8))
def test_word_counts_are_count_words_on_any_text(lines):
    assert list(word_counts(lines)) == [count_words(line) for line in lines]


@pytest.mark.parametrize("kwargs", [
    {"analyzer": "char", "ngram_range": (2, 3)},  # not char_wb
    {"preprocessor": normalise_head, "analyzer": "char_wb", "ngram_range": (2, 5)},  # 5-grams
    {"preprocessor": normalise_head, "analyzer": "char_wb", "ngram_range": (1, 3)},  # 1-grams
    {"token_pattern": r"(?u)\b\w+\b"},  # sklearn's own lowercase preprocessor, not normalise_text
])
def test_fast_transform_declines_what_it_cannot_reproduce(kwargs):
    assert fast_transform(_fitted(**kwargs)) is None


@pytest.mark.parametrize("binary, extra", [(False, {}), (True, {}),
                                           (False, {"line_head": True, "shape_clip": 5.0})])
def test_linear_scorer_gives_the_pipelines_probabilities(binary, extra):
    records = tiny_records()
    if binary:
        records = [{**r, "labels": [None if x is None else ("content" if x == "content" else "boilerplate")
                                    for x in r["labels"]]} for r in records]
    pipeline = fit_pipeline(records, {**TINY_FEATURES, **extra}, TINY_CLASSIFIER)
    scorer = LinearScorer.from_pipeline(pipeline)
    assert scorer is not None
    table = make_line_table([r["lines"] for r in tiny_records(5, seed=3)] + [TRICKY, ["alone"]])
    assert np.abs(scorer.predict_proba(table) - pipeline.predict_proba(table)).max() < 1e-9


class _OtherClassifier(LogisticRegression):
    """Any classifier other than LogisticRegression itself."""


def test_line_model_uses_sklearn_for_a_pipeline_the_scorer_does_not_know(tiny_model):
    pipeline = copy.deepcopy(tiny_model.pipeline)
    other = _OtherClassifier()
    other.__dict__.update(pipeline.steps[-1][1].__dict__)
    pipeline.steps[-1] = ("classifier", other)
    assert LinearScorer.from_pipeline(pipeline) is None
    model = LineModel(pipeline=pipeline, keep_labels=("content",), context_stage=tiny_model.context_stage)
    pages = [r["lines"] for r in tiny_records(3, seed=5)]
    assert model._linear_scorer() is None
    assert np.abs(model.score(pages).proba - tiny_model.score(pages).proba).max() < 1e-9


def test_bmp_lower_table_is_str_lower_per_code_point():
    table = fast_tfidf._bmp_lower()
    for c in range(0x10000):
        low = chr(c).lower()
        if c in fast_tfidf._LOWER_EXCEPTIONS or len(low) != 1:
            assert table[c] == fast_tfidf._NOT_ONE_TO_ONE, hex(c)
        else:
            assert table[c] == ord(low), hex(c)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(WORDS_TRICKY) | st.text(max_size=40), max_size=10))
def test_lowered_code_points_are_str_lower(lines):
    # The table path, the final sigma and "İ" (str.lower() of the batch), astral letters
    # with a lower case (𐐀 -> 𐐨), lone surrogates.
    text = "\n".join(lines + ["𐐀𐐁 x"])
    assert fast_tfidf._lower_codes(text).tolist() == list(map(ord, text.lower()))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 29)), max_size=200), st.integers(1, 13))
def test_entries_times_weights_is_scipys_product_bit_for_bit(entries, width):
    # sparse_entries: a page's TF-IDF part times its weights without a csr_matrix; the
    # counts as np.unique gives them, the product as csr_matrix @ weights gives it.
    rows = np.array([r for r, _ in entries], dtype=np.int64)
    cols = np.array([c for _, c in entries], dtype=np.int64)
    got = count_entries(rows, cols, 10, 30)
    keys, counts = np.unique(rows * 30 + cols, return_counts=True)
    assert got.row.tolist() == (keys // 30).tolist() and got.col.tolist() == (keys % 30).tolist()
    assert np.array_equal(got.value, counts.astype(np.float32))
    rng = np.random.default_rng(len(entries))
    values = Entries(got.row, got.col, rng.random(len(got.row)).astype(np.float32), 10)
    weights = rng.standard_normal((30, width)) * 10.0 ** rng.integers(-3, 4, (30, width))
    matrix = sp.csr_matrix((values.value, values.col, row_pointers(values.row, 10)), shape=(10, 30))
    assert np.array_equal(entries_dot(values, weights), matrix @ weights)


@pytest.mark.parametrize("n_rows, n_cols", [(2_000, 130_000), (1 << 20, 1 << 13)], ids=["uint32", "uint64"])
def test_counted_entries_are_np_unique_of_the_row_major_keys(n_rows, n_cols):
    # Keys packed as row << bits | col: uint32 for a batch, uint64 when rows need more bits.
    rng = np.random.default_rng(n_rows)
    rows, cols = rng.integers(0, n_rows, 5_000), rng.integers(0, n_cols, 5_000)
    rows[:100], cols[:100] = n_rows - 1, n_cols - 1  # the largest key, repeated
    got = count_entries(rows, cols, n_rows, n_cols)
    keys, counts = np.unique(rows * n_cols + cols, return_counts=True)
    assert np.array_equal(got.row, keys // n_cols) and np.array_equal(got.col, keys % n_cols)
    assert got.row.dtype == got.col.dtype == np.int64
    assert np.array_equal(got.indptr, row_pointers(got.row, n_rows))
    assert np.array_equal(got.value, counts.astype(np.float32))


def test_entries_times_weights_without_scipys_routine_is_the_same(monkeypatch):
    import boilercut.sparse_entries as sparse_entries

    rng = np.random.default_rng(3)
    entries = count_entries(rng.integers(0, 20, 500), rng.integers(0, 400, 500), 20, 400)
    entries = entries._replace(value=rng.random(len(entries.row)).astype(np.float32))
    weights = rng.standard_normal((400, 12))
    fast = entries_dot(entries, weights)
    monkeypatch.setattr(sparse_entries, "_csr_matvecs", None)
    assert np.array_equal(entries_dot(entries, weights), fast)


def test_fast_tfidf_products_are_the_matrix_times_weights():
    weights = np.random.default_rng(4).standard_normal
    for kwargs in (WORDS, {"preprocessor": normalise_head, "analyzer": "char_wb", "ngram_range": (3, 4)}):
        fast = fast_transform(_fitted(**kwargs))
        w = weights((fast.n_cols, 12))
        for lines in (WORDS_TRICKY, ["one line"], [""], []):
            assert np.array_equal(fast.products(lines, w), (fast(lines) @ w) if lines else np.zeros((0, 12)))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(WORDS_TRICKY) | st.text(max_size=40), max_size=10))
def test_normalised_code_points_by_table_are_the_long_way(lines):
    # The BMP table (two lookups) against lower-casing, classes and digits step by step.
    text = "\n".join(lines)
    codes, classes = fast_tfidf._normalised_codes(text)
    lowered = fast_tfidf._lower_codes(text)
    expected_classes = char_classes(lowered)
    lowered[(expected_classes & DECIMAL) != 0] = ord("0")
    assert codes.dtype == lowered.dtype and classes.dtype == expected_classes.dtype
    assert np.array_equal(codes, lowered) and np.array_equal(classes, expected_classes)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 7, 8, 11])
def test_softmax_rows_is_numpys_reductions(k):
    decision = np.random.default_rng(k).standard_normal((300, k)) * 30
    expected = np.exp(decision - np.max(decision, axis=1, keepdims=True))
    expected /= np.sum(expected, axis=1, keepdims=True)
    assert np.array_equal(softmax_rows(decision), expected)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Share", "share ", " SHARE", "Home", "İstanbul", "i̇stanbul", "x", "",
                                           "Read more", "read  more", "Σας", "σας", "a longer line of prose"]),
                          st.integers(0, 3)), max_size=25))
def test_duplicates_in_page_are_lowered_stripped_repeats_within_the_page(rows):
    from boilercut.page_lines import _duplicates_in_page

    rows = sorted(rows, key=lambda row: row[1])  # lines of a page are contiguous
    texts, pages = [t for t, _ in rows], [p for _, p in rows]
    keys = [(p, t.strip().lower()) for t, p in rows]
    expected = [float(keys.count(key) > 1) for key in keys]
    assert _duplicates_in_page(texts, np.asarray(pages, dtype=np.int64)).tolist() == expected
