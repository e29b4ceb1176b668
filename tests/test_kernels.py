"""The compiled loops (boilercut/_kernels.c) give the entries of the numpy path, exactly.

fast_tfidf counts a batch's vocabulary terms either way; the products of the two must be
equal to the last bit, and the whole model's probabilities with them."""
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

import boilercut.fast_tfidf as fast_tfidf
import boilercut.line_hash as line_hash
import boilercut.line_shape as line_shape
import boilercut.page_rows as page_rows
from boilercut.fast_tfidf import fast_transform
from boilercut.lines import count_words
from boilercut.normalise import line_head, normalise_head, normalise_text
from boilercut.sparse_entries import count_entries
from conftest import tiny_records
from test_fast_scoring import COUNTERS, TRICKY, WORDS_TRICKY

kernels = fast_tfidf._kernels
# Skipped where the extension could not be built (no C compiler at install); CI, which
# sees to a compiler, sets BOILERCUT_CI_EXPECT_KERNELS, and these tests then fail instead.
pytestmark = pytest.mark.skipif(kernels is None and not os.environ.get("BOILERCUT_CI_EXPECT_KERNELS"),
                                reason="boilercut._kernels is not built (no C compiler at install)")

WORDS = {"preprocessor": normalise_text, "token_pattern": r"(?u)\b\w+\b"}
CHARS = {"preprocessor": normalise_head, "analyzer": "char_wb"}
CONFIGS = {
    "words 1-2": {**WORDS, "ngram_range": (1, 2)},
    "words 1": {**WORDS, "ngram_range": (1, 1)},
    "words 1-2, cut": {**WORDS, "ngram_range": (1, 2), "max_features": 40},
    "chars 3-4": {**CHARS, "ngram_range": (3, 4)},
    "chars 2-4": {**CHARS, "ngram_range": (2, 4)},
    "chars 3": {**CHARS, "ngram_range": (3, 3)},
}
TEXTS = [line for r in tiny_records(12) for line in r["lines"]] + WORDS_TRICKY


def _counts(config: str, texts=TEXTS):
    fast = fast_transform(TfidfVectorizer(dtype=np.float32, sublinear_tf=True, **CONFIGS[config]).fit(texts))
    assert fast is not None
    return fast.counts


def _numpy_entries(counts, lines):
    return count_entries(*counts.pairs(lines), len(lines), counts.n_cols)


def _assert_same_entries(got, expected):
    assert got.n_rows == expected.n_rows
    for name in ("row", "col", "value", "indptr"):
        a, b = getattr(got, name), getattr(expected, name)
        assert a.dtype == b.dtype, name
        assert np.array_equal(a, b), name


@pytest.mark.parametrize("config", CONFIGS)
def test_kernel_entries_are_the_numpy_entries_on_tricky_lines(config):
    counts = _counts(config)
    lines = WORDS_TRICKY + [line.upper() for line in WORDS_TRICKY] + TEXTS[:300]
    for batch in (lines, lines[:1], [""], ["", ""], ["a"], TRICKY, [line + "\n" for line in TRICKY]):
        _assert_same_entries(counts.entries(batch), _numpy_entries(counts, batch))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
                        | st.sampled_from(list(" \t\n_0İΣσς日😀")), max_size=80),
                min_size=1, max_size=10),
       st.sampled_from(list(CONFIGS)))
def test_kernel_entries_are_the_numpy_entries_on_any_text(lines, config):
    # The vocabulary is fitted on half of the lines: the rest has unseen terms too.
    counts = _counts(config, texts=lines[::2] + ["seed words and more"])
    _assert_same_entries(counts.entries(lines), _numpy_entries(counts, lines))


def test_lone_surrogates_and_astral_text_take_the_long_way_to_the_same_entries():
    counts = _counts("words 1-2")
    for lines in (["bad \udc80 byte", "ok words"], ["emoji 😀 seed words", "İstanbul seed"]):
        _assert_same_entries(counts.entries(lines), _numpy_entries(counts, lines))


@pytest.mark.parametrize("config", ["words 1-2", "chars 3-4"])
def test_a_long_row_is_sorted_like_a_short_one(config):
    # Rows of more than a few dozen terms are radix-sorted; fewer, insertion-sorted.
    counts = _counts(config)
    line = " ".join(TEXTS[:400])
    lines = [line_head(line)] * 2 if config.startswith("chars") else [line, line[:50]]
    _assert_same_entries(counts.entries(lines), _numpy_entries(counts, lines))


def test_the_model_scores_the_same_with_and_without_the_kernels(monkeypatch, tiny_model):
    pages = [r["lines"] for r in tiny_records(30)[24:]] + [WORDS_TRICKY]
    with_kernels = tiny_model.score(pages)
    monkeypatch.setattr(fast_tfidf, "_kernels", None)
    monkeypatch.setattr(line_shape, "_kernels", None)
    without = tiny_model.score(pages)
    assert np.array_equal(with_kernels.proba, without.proba)


def test_output_arrays_too_small_are_refused_not_overrun():
    counts = _counts("words 1-2")
    text = "seed words and more seed words"
    units = fast_tfidf._bmp_code_units(text)
    counts.entries([text])  # builds the kernel's tables
    tables = counts._kernel_tables
    out = fast_tfidf._entry_arrays(1, 1)
    with pytest.raises(ValueError, match="too small"):
        kernels.word_entries(units, fast_tfidf._bmp_kernel_tables(), fast_tfidf.WORD, fast_tfidf._HASH_BASE,
                             tables[0], counts.token_length, tables[1], int(counts.n_tokens), 1, counts.n_cols, *out)


def _numpy_shape_matrix(monkeypatch, lines):
    with monkeypatch.context() as patch:
        patch.setattr(line_shape, "_kernels", None)
        return line_shape.shape_matrix(lines)


def _assert_same_shape(monkeypatch, lines):
    got, got_words = line_shape.shape_matrix(lines)
    expected, expected_words = _numpy_shape_matrix(monkeypatch, lines)
    assert np.array_equal(got_words, expected_words)
    for k, name in enumerate(line_shape.LINE_SHAPE_NAMES):
        assert np.array_equal(got[:, k], expected[:, k]), name
    assert got.dtype == expected.dtype and got.shape == expected.shape


SHAPE_TRICKY = TRICKY + COUNTERS + [
    "Home | News | Sport", "a / b / c", "x :: y", "a|b||c |", "| 日本 | 語 |", "> starts with a mark", "ends with a mark >",
    "x :: :: y", " : : ", "aB", "xAb cDe", "£5m 3k 2.5K", "9k", "k", "Ωmega ÀÉ", "“quoted” «guillemets»",
    "www.example.com/path", "@ alone", "a@b", ".com", "x.community", "(C) (c) ©", "- item", "• item", "-", "–",
    "0 >\t0", "a |\tb > c",  # a mark between a space and a tab: no " X " separator
]


@pytest.mark.parametrize("lines", [SHAPE_TRICKY, SHAPE_TRICKY * 12, SHAPE_TRICKY[:1], [""], ["", "a"]],
                         ids=["page", "batch", "one", "empty", "two"])
def test_compiled_shape_features_are_the_numpy_ones(monkeypatch, lines):
    # 12 copies: more than 24 rows with separators, where the numpy steps split pipes by
    # arrays (_pipe_segments), and more than 128 lines (edges by arrays, not str tests).
    _assert_same_shape(monkeypatch, lines)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
                        | st.sampled_from(list(" \t|>/:·©@.kKmM0123_aAbB日😀")), max_size=80),
                min_size=1, max_size=40))
def test_compiled_shape_features_are_the_numpy_ones_on_any_text(lines):
    with pytest.MonkeyPatch.context() as monkeypatch:
        _assert_same_shape(monkeypatch, [line.strip() for line in lines])


# The kernels read a str in place by its storage (1 byte a character up to U+00FF, 2 up to
# U+FFFF); a str with a character above U+FFFF takes the numpy steps' arrays.
BY_STORAGE = {
    "ascii": ["Home | News", "plain words 12 here.", "www.example.com (c) 2024"],
    "latin-1": ["Café crème à 3,50 €"[:-1] + "£", "Ñandú © 2020 | más", "ÀÉÎ aBc"],
    "bmp": ["Ελληνικά | 日本語", "İstanbul ΣΟΦΙΑΣ", "“quoted” › next"],
    "astral": ["emoji 😀 words", "𝔘𝔫𝔦 | x", "plain"],
}


@pytest.mark.parametrize("storage", BY_STORAGE)
def test_every_string_storage_gives_the_numpy_results(monkeypatch, storage):
    lines = BY_STORAGE[storage]
    for config in ("words 1-2", "chars 3-4"):
        counts = _counts(config, texts=TEXTS + lines)
        _assert_same_entries(counts.entries(lines), _numpy_entries(counts, lines))
    _assert_same_shape(monkeypatch, lines)


@pytest.mark.parametrize("weighting", [{"sublinear_tf": True}, {"sublinear_tf": False}, {"use_idf": False},
                                       {"smooth_idf": False}])
@pytest.mark.parametrize("config", ["words 1-2", "chars 3-4"])
def test_compiled_weighting_and_products_are_numpys_bit_for_bit(monkeypatch, config, weighting):
    vectorizer = TfidfVectorizer(dtype=np.float32, **{**CONFIGS[config], **weighting}).fit(TEXTS)
    fast = fast_transform(vectorizer)
    assert fast.kernel_weighting is not None
    weights = np.random.default_rng(0).normal(size=(len(vectorizer.vocabulary_), 7))
    lines = WORDS_TRICKY + TEXTS[:300] + [""]
    got = fast.products(lines, weights)
    monkeypatch.setattr(fast_tfidf, "_kernels", None)
    expected = fast.products(lines, weights)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
                        | st.sampled_from(list(" \t\n\u3000|日本語😀")), max_size=60), max_size=10))
def test_compiled_word_counts_are_the_numpy_ones_and_count_words(lines):
    got = line_shape.word_counts(lines)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(line_shape, "_kernels", None)
        expected = line_shape.word_counts(lines)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
    assert got.tolist() == [count_words(line) for line in lines]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=30), st.integers(1, 5), st.integers(-4, 4), st.integers(0, 7),
       st.integers(0, 2 ** 32 - 1))
def test_compiled_row_operations_are_the_numpy_ones(pages, width, offset, radius, seed):
    # Rows of pages (contiguous), values with negative zeros and infinities, whose signs
    # and NaNs the products by 0.0 and the running sums must reproduce too.
    page = np.sort(np.asarray(pages, dtype=np.int64))
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(len(page), width))
    values[rng.random(values.shape) < 0.1] = -0.0
    values[rng.random(values.shape) < 0.03] = np.inf
    total = rng.normal(size=values.shape)
    found = []
    for kernels_or_none in (page_rows._kernels, None):
        with pytest.MonkeyPatch.context() as patch, np.errstate(invalid="ignore"):
            patch.setattr(page_rows, "_kernels", kernels_or_none)
            rows = page_rows.PageRows(page)
            added = total.copy()
            rows.add_shifted(added, values, offset)
            found.append((rows.window_mean(values, radius), rows.shifted(values, offset), added))
    for got, expected in zip(*found):
        assert got.shape == expected.shape and got.dtype == expected.dtype
        assert np.array_equal(got, expected, equal_nan=True) and np.array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize("text", ["", "plain", "é", "日本", "😀", "\ud800", "a\udfff", "😀\udc80", "\ud7ff\ue000",
                                  "x" * 100 + "\udbff"])
def test_surrogates_are_found_as_utf16_encoding_finds_them(text):
    try:
        text.encode("utf-16-le")
        expected = False
    except UnicodeEncodeError:
        expected = True
    assert kernels.has_surrogates(text) is expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 0x10FFFF), max_size=200), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 40)),
                                                                   max_size=40))
def test_compiled_segment_hashes_are_the_running_sums(codes, segments):
    codes = np.asarray(codes, dtype=np.uint32)
    starts = np.asarray([min(a, len(codes)) for a, _ in segments], dtype=np.int64)
    ends = np.asarray([min(a + n, len(codes)) for a, n in segments], dtype=np.int64).reshape(starts.shape)
    got = fast_tfidf._segment_hashes(codes, starts, ends)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast_tfidf, "_kernels", None)
        expected = fast_tfidf._segment_hashes(codes, starts, ends)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)


def _entries_product(fast, lines, weights):
    """The product by the entries' path (count, then _kernels.tfidf_dot), for comparison
    with the fused loops (char_wb_dot, word_dot)."""
    return fast.kernel_weighting.entries_dot(fast.counts.entries(lines), np.ascontiguousarray(weights))


@pytest.mark.parametrize("config", ["words 1-2", "words 1", "chars 3-4", "chars 2-4"])
def test_fused_products_are_the_entries_products_bit_for_bit(config):
    vectorizer = TfidfVectorizer(dtype=np.float32, sublinear_tf=True, **CONFIGS[config]).fit(TEXTS)
    fast = fast_transform(vectorizer)
    weights = np.random.default_rng(1).normal(size=(len(vectorizer.vocabulary_), 12))
    long_line = " ".join(TEXTS[:400])
    for lines in (WORDS_TRICKY + TEXTS[:300], [""], ["", "seed words"], TRICKY, [long_line, long_line[:90]],
                  ["bad \udc80 byte", "ok words"], ["emoji 😀 seed words", "İstanbul seed"]):
        got = fast.counts.dot(lines, fast.kernel_weighting, weights)
        assert got is not None
        assert np.array_equal(got, _entries_product(fast, lines, weights))
        assert np.array_equal(fast.products(lines, weights), got)


@pytest.mark.parametrize("config", ["words 1-2", "chars 3-4"])
def test_a_count_beyond_the_tf_table_takes_the_entries_path(config):
    vectorizer = TfidfVectorizer(dtype=np.float32, sublinear_tf=True, **CONFIGS[config]).fit(TEXTS)
    fast = fast_transform(vectorizer)
    weights = np.random.default_rng(2).normal(size=(len(vectorizer.vocabulary_), 4))
    word = sorted(t for t in TfidfVectorizer(**WORDS).fit(TEXTS).vocabulary_ if t.isalpha())[0]
    lines = [f"{word} {word} {word} more", f"one {word}"]  # its terms three times in the first line
    short_table = fast.kernel_weighting._replace(tf=fast.kernel_weighting.tf[:3].copy())
    assert fast.counts.dot(lines, short_table, weights) is None
    assert fast.counts.dot(lines, fast.kernel_weighting, weights) is not None
    fast.kernel_weighting = short_table
    assert np.array_equal(fast.products(lines, weights), _entries_product(fast, lines, weights))


def test_the_tf_table_is_numpys_log_of_each_count():
    # The fused loops weigh a count by table; the entries' path takes np.log of an array
    # of counts. Equal only if numpy's log of a value does not depend on where it sits.
    tf = fast_tfidf.KernelWeighting.of(None, sublinear=True).tf
    rng = np.random.default_rng(3)
    for n in (1, 3, 7, 8, 15, 16, 17, 33, 1000):
        counts = rng.integers(1, len(tf), size=n + 1).astype(np.float32)[1:]  # an unaligned start too
        logged = counts.copy()
        np.log(logged, logged)
        logged += 1.0
        assert np.array_equal(tf[counts.astype(np.int64)], logged)


def test_fused_loops_refuse_weights_that_do_not_fit():
    counts = _counts("words 1-2")
    fast_weighting = fast_tfidf.KernelWeighting.of(None, sublinear=True)
    with pytest.raises(ValueError, match="beyond the weights"):
        counts.dot(["seed words and more"], fast_weighting, np.zeros((3, 4)))


def test_powers_by_doubling_are_the_running_products():
    for base in (fast_tfidf._HASH_BASE, fast_tfidf._HASH_BASE_INVERSE, 3):
        for n in (0, 1, 2, 3, 5, 8, 9, 1000):
            running = np.cumprod(np.r_[np.uint64(1), np.full(max(n - 1, 0), base, dtype=np.uint64)][:n],
                                 dtype=np.uint64)
            assert np.array_equal(fast_tfidf._powers(base, n), running)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
                        | st.sampled_from(list(" \t\n_0İΣσς.,!|日😀")), max_size=60), min_size=1, max_size=12))
def test_compiled_line_hashes_are_the_numpy_ones_and_the_references(lines):
    got = line_hash.line_hashes(lines)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(line_hash, "_kernels", None)
        expected = line_hash.line_hashes(lines)
    assert np.array_equal(got, expected)
    assert got.tolist() == [line_hash.reference_line_hash(line) for line in lines]


@pytest.mark.parametrize("storage", BY_STORAGE)
def test_line_hashes_of_every_string_storage_are_the_references(storage):
    lines = BY_STORAGE[storage] + ["", "  ", "İstanbul", "ΟΔΟΣ", "!!!", "a\nb"]
    assert line_hash.line_hashes(lines).tolist() == [line_hash.reference_line_hash(line) for line in lines]


def analyzer_counts(vectorizer, docs):
    """The (terms, indptr, ids, counts, first) that char_wb_counts and word_ngram_counts
    give, from scikit-learn's analyzer: per line its distinct terms in the order they first
    occur, numbered in the order they first occur in all lines."""
    analyze = vectorizer.build_analyzer()
    numbers, indptr, ids, counts, first = {}, [0], [], [], []
    for doc in docs:
        entry = {}
        for position, term in enumerate(analyze(doc)):
            number = numbers.setdefault(term, len(numbers))
            if number in entry:
                counts[entry[number]] += 1
            else:
                entry[number] = len(ids)
                ids.append(number), counts.append(1), first.append(position)
        indptr.append(len(ids))
    return list(numbers), indptr, ids, counts, first


def as_lists(found):
    terms, indptr, ids, counts, first = found
    return [terms, np.frombuffer(indptr, np.int64).tolist(),
            *(np.frombuffer(b, np.int32).tolist() for b in (ids, counts, first))]


# Whitespace of every kind str.split knows, short words, case, and code points beyond the BMP.
GRAM_TEXT = st.text(alphabet=st.sampled_from(list("ab é\t\n\x0b\x1c\x85\xa0\u2028\u3000xΣς😀.,1")), max_size=24)


@settings(max_examples=200, deadline=None)
@given(st.lists(GRAM_TEXT, max_size=6), st.integers(1, 4), st.integers(0, 4))
def test_char_wb_counts_are_the_analyzers(docs, low, more):
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(low, low + more), lowercase=False)
    assert as_lists(kernels.char_wb_counts(docs, low, low + more)) == list(analyzer_counts(vectorizer, docs))


@settings(max_examples=200, deadline=None)
@given(st.lists(GRAM_TEXT, max_size=6), st.integers(1, 3), st.integers(0, 3))
def test_word_ngram_counts_are_the_analyzers(docs, low, more):
    vectorizer = TfidfVectorizer(ngram_range=(low, low + more), lowercase=False, token_pattern=r"(?u)\b\w+\b")
    tokenize = vectorizer.build_tokenizer()
    found = kernels.word_ngram_counts([tokenize(doc) for doc in docs], low, low + more)
    assert as_lists(found) == list(analyzer_counts(vectorizer, docs))


def test_term_counts_refuse_what_they_cannot_count():
    with pytest.raises(ValueError, match="n-grams of 1 to 8"):
        kernels.char_wb_counts(["abc"], 3, 9)
    with pytest.raises(ValueError, match="n-grams of 1 to 8"):
        kernels.word_ngram_counts([["a"]], 0, 2)
    with pytest.raises(TypeError, match=r"texts\[1\] is bytes"):
        kernels.char_wb_counts(["abc", b"abc"], 3, 4)
    with pytest.raises(TypeError, match=r"tokens\[0\]\[1\] is int"):
        kernels.word_ngram_counts([["a", 1]], 1, 2)
    assert kernels.word_ngram_counts([["a b", "c"]], 1, 2) is None  # a token with a space


def test_term_counts_grow_past_their_first_tables():
    # More distinct terms than the first table's 65,536: numbers stay in first-occurrence order.
    docs = [f"w{i} w{i + 1}" for i in range(0, 80_000, 2)]
    terms, indptr, ids, counts, first = kernels.word_ngram_counts([doc.split() for doc in docs], 1, 2)
    assert terms[:3] == ["w0", "w1", "w0 w1"] and len(terms) == 3 * len(docs)
    assert np.frombuffer(ids, np.int32).tolist() == list(range(len(terms)))
    chars = kernels.char_wb_counts(docs, 3, 4)
    assert as_lists(chars) == list(analyzer_counts(TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4),
                                                                   lowercase=False), docs))
