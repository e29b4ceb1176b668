"""shared_counts: lines counted once give every fit on a subset of them what fitting on the
subset's texts gives, to the bit: vocabulary in the same order, same matrix, same pickle."""
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer

from boilercut.features import dense_parts_as_csr, fitted_with_output, make_line_table, tfidf_parts
from boilercut.model import build_features
from boilercut.normalise import WORD_TOKEN_PATTERN, normalise_head, normalise_text
from boilercut.shared_counts import CountedLines, SharedCounts, active_counts, count_parts
from conftest import TINY_CLASSIFIER, TINY_FEATURES, tiny_records

LINES = [
    "Home > News > World", "Share this article", "", "a", "ab ab ab", "The the THE tHe",
    "Grüße aus Köln: Straße, Maß und Fuß", "İstanbul ΣΟΦΊΑ σοφία", "Read more: the day the river rose",
    "© 2026 Example Media. All rights reserved.", "x y z x y z x", "Watch: 12 things", "   spaced   out   ",
    "emoji 🙂 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 above the BMP", "tab\tseparated\tcells", "Share this article", "veryGood! (9753)",
    "Related: ab ab", "ab", "Новости дня: курс рубля", "中文 标题 新闻", "the river rose again and again",
]

VECTORIZERS = {
    "words": TfidfVectorizer(preprocessor=normalise_text, token_pattern=WORD_TOKEN_PATTERN, ngram_range=(1, 2),
                             min_df=2, max_features=40, sublinear_tf=True, dtype=np.float32),
    "chars": TfidfVectorizer(preprocessor=normalise_head, analyzer="char_wb", ngram_range=(3, 4), min_df=1,
                             max_features=150, sublinear_tf=True, dtype=np.float32),
    "uncut": TfidfVectorizer(ngram_range=(1, 1), max_df=0.5, binary=True),
    "chars, one to five": TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), min_df=2),
}


def assert_same_fit(shared_fit, plain_fit):
    (fa, xa), (fb, xb) = shared_fit, plain_fit
    assert list(fa.vocabulary_.items()) == list(fb.vocabulary_.items())
    assert [type(v) for v in fa.vocabulary_.values()] == [type(v) for v in fb.vocabulary_.values()]
    for part in ("indptr", "indices", "data"):
        assert getattr(xa, part).dtype == getattr(xb, part).dtype
        assert np.array_equal(getattr(xa, part), getattr(xb, part))
    assert xa.shape == xb.shape
    assert pickle.dumps(fa) == pickle.dumps(fb)


@pytest.mark.parametrize("name", sorted(VECTORIZERS))
def test_a_fit_on_any_rows_in_any_order_is_the_fit_on_their_texts(name):
    vectorizer = VECTORIZERS[name]
    counted = CountedLines.count(vectorizer, LINES, "text")
    rng = np.random.default_rng(0)
    for size in (len(LINES), 15, 9):
        for _ in range(3):
            rows = rng.permutation(len(LINES))[:size]
            texts = [LINES[i] for i in rows]
            try:
                plain = fitted_with_output(vectorizer, texts)
            except ValueError as err:  # a cut that leaves nothing fails alike
                with pytest.raises(ValueError, match=str(err)[:20]):
                    counted.fitted(vectorizer, rows)
                continue
            assert_same_fit(counted.fitted(vectorizer, rows), plain)


def test_the_cut_to_max_features_breaks_ties_as_scikit_learn_does():
    # Many terms with the same total count: which of them survive the cut depends on the
    # order of the columns as scikit-learn's argsort sees them.
    lines = [f"w{i % 37} w{(i * 7) % 41} w{(i * 3) % 43}" for i in range(120)]
    vectorizer = TfidfVectorizer(max_features=25)
    counted = CountedLines.count(vectorizer, lines)
    rows = np.arange(119, -1, -2)
    assert_same_fit(counted.fitted(vectorizer, rows), fitted_with_output(vectorizer, [lines[i] for i in rows]))


def test_only_the_parts_counted_are_taken_from_the_counts_and_the_rows_must_match():
    union = build_features(**TINY_FEATURES, line_head=True)
    table = make_line_table([r["lines"] for r in tiny_records(6)])
    parts = tfidf_parts(union)
    assert [part.column for part in parts] == ["text", "text", "head"]
    shared = count_parts(parts[:1], table)
    words, chars = parts[0].transformer, parts[1].transformer
    rows = np.arange(len(table["text"]))
    with shared.used_for(rows):
        assert active_counts("text", words, len(rows))[0] is shared.parts[0]
        assert active_counts("text", chars, len(rows)) is None       # not counted
        assert active_counts("head", words, len(rows)) is None       # same analysis, other input
        with pytest.raises(ValueError, match="in use for"):
            active_counts("text", words, len(rows) - 1)
    assert active_counts("text", words, len(rows)) is None           # outside used_for


def test_fit_pipeline_from_shared_counts_is_the_fit_from_the_texts():
    from boilercut.training import fit_pipeline

    records = tiny_records(12)
    classifier = {**TINY_CLASSIFIER, "class_weight": None, "solver": "newton-cg"}
    union = build_features(**TINY_FEATURES)
    shared = count_parts(tfidf_parts(union), make_line_table([r["lines"] for r in records]))
    first_line = np.cumsum([0] + [len(r["lines"]) for r in records])
    pages = [7, 2, 9, 0, 5, 11]
    rows = np.concatenate([np.arange(first_line[i], first_line[i + 1]) for i in pages])
    subset = [records[i] for i in pages]
    with_counts = fit_pipeline(subset, TINY_FEATURES, classifier, "words", "block-jacobi", shared, rows)
    plain = fit_pipeline(subset, TINY_FEATURES, classifier, "words", "block-jacobi")
    assert np.array_equal(with_counts[-1].coef_, plain[-1].coef_)
    for (_, a), (_, b) in zip(with_counts[0].transformer_list, plain[0].transformer_list):
        assert pickle.dumps(a.transformer_) == pickle.dumps(b.transformer_)


def test_shared_counts_are_not_used_by_default():
    assert isinstance(SharedCounts([]), SharedCounts)
    assert active_counts("text", VECTORIZERS["words"], 3) is None


def assert_same_counts(a: CountedLines, b: CountedLines):
    assert (a.column, a.params) == (b.column, b.params)
    assert a.terms.dtype == b.terms.dtype and a.terms.tolist() == b.terms.tolist()
    for part in ("indptr", "indices", "data"):
        assert getattr(a.counts, part).dtype == getattr(b.counts, part).dtype
        assert np.array_equal(getattr(a.counts, part), getattr(b.counts, part))
    assert a.counts.shape == b.counts.shape
    assert a.first.dtype == b.first.dtype and np.array_equal(a.first, b.first)


@pytest.mark.parametrize("reverse", [False, True])
def test_counting_in_a_pool_gives_the_parts_in_order(reverse, monkeypatch):
    # Without the compiled counts, the slowest part (character n-grams) is counted in this
    # process and the others in the workers: the parts must come back in their own order,
    # counted alike.
    import boilercut.compiled
    from boilercut.fit_processes import FitProcesses
    from boilercut.shared_counts import counted_fast

    monkeypatch.setattr(boilercut.compiled, "KERNELS", None)
    records = tiny_records(8)
    parts = tfidf_parts(build_features(**TINY_FEATURES))
    assert {getattr(p.transformer, "analyzer", "word") for p in parts} >= {"word", "char_wb"}
    assert not any(counted_fast(p.transformer) for p in parts)
    parts = parts[::-1] if reverse else parts
    table = make_line_table([r["lines"] for r in records])
    serial = count_parts(parts, table)
    submitted = []
    with FitProcesses(2) as pool:
        def submit(function, *args):
            submitted.append(args[2])
            return pool.submit(function, *args)
        pooled = count_parts(parts, table, submit)
    assert len(submitted) == len(parts) - 1
    assert len(pooled.parts) == len(serial.parts)
    for a, b in zip(pooled.parts, serial.parts):
        assert_same_counts(a, b)


WIDER = [
    *LINES, "\u00a0nbsp\u00a0words\u2003em\u2003space", "line\x1cwith\x1dseparators\x85next", "U.S.A. 1,000.50 $5",
    "İİ ΣΣ ς Ǆ ǅ ǆ ß", "a b a b a b c", "\ud800 lone surrogate", "x" * 40, "  ",
]


@pytest.mark.parametrize("vectorizer", [
    *VECTORIZERS.values(),
    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 8)),
    TfidfVectorizer(analyzer="char_wb", ngram_range=(5, 5), lowercase=False),
    TfidfVectorizer(ngram_range=(1, 3), stop_words=["the", "and"]),
    TfidfVectorizer(ngram_range=(2, 2), token_pattern=r"\S+"),
    TfidfVectorizer(ngram_range=(1, 2), tokenizer=str.split, token_pattern=None),
], ids=lambda v: f"{v.analyzer}{v.ngram_range}")
def test_compiled_counts_are_the_counts_of_the_analyzer(vectorizer, monkeypatch):
    import boilercut.compiled
    from boilercut.shared_counts import counted_fast

    if boilercut.compiled.KERNELS is None:
        pytest.skip("the compiled kernels are not built")
    assert counted_fast(vectorizer)
    compiled = CountedLines.count(vectorizer, WIDER, "text")
    monkeypatch.setattr(boilercut.compiled, "KERNELS", None)
    assert not counted_fast(vectorizer)
    assert_same_counts(compiled, CountedLines.count(vectorizer, WIDER, "text"))


def test_a_tokenizer_whose_tokens_hold_spaces_is_counted_by_the_analyzer():
    # "a b" + "c" and "a" + "b c" join to one bigram: the compiled loop cannot number
    # such tokens, and the Python path counts them.
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), tokenizer=lambda text: text.split("|"), token_pattern=None,
                                 lowercase=False)
    lines = ["a b|c", "a|b c", "a b|c|a"]
    counted = CountedLines.count(vectorizer, lines)
    analyze = vectorizer.build_analyzer()
    assert counted.terms.tolist() == sorted({term for line in lines for term in analyze(line)})
    assert counted.counts[0, counted.terms.tolist().index("a b c")] == 1
    assert counted.counts[1, counted.terms.tolist().index("a b c")] == 1


def test_dense_parts_as_csr_stack_to_the_same_matrix():
    # Training stacks the parts as CSR (features.dense_parts_as_csr) and sorts the result:
    # the matrix must be the one the FeatureUnion gives with a dense part, entry for entry.
    table = make_line_table([r["lines"] for r in tiny_records(10)])
    plain = build_features(**TINY_FEATURES).fit_transform(table)
    with dense_parts_as_csr():
        stacked = build_features(**TINY_FEATURES).fit_transform(table)
    stacked.sort_indices()
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(plain, name), getattr(stacked, name)), name
    shape_part = dict(build_features(**TINY_FEATURES).transformer_list)["shape"]
    assert isinstance(shape_part.fit_transform(table), np.ndarray)  # outside the context: dense, as before
    with dense_parts_as_csr():
        assert not isinstance(shape_part.fit_transform(table), np.ndarray)


def assert_same_blocks(a, b):
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(a.sparse, name), getattr(b.sparse, name)), name
    assert a.sparse.shape == b.sparse.shape and a.sparse.dtype == b.sparse.dtype == np.float64
    assert a.dense.dtype == b.dense.dtype and a.dense.flags.c_contiguous
    # the same bits: -0.0 is not +0.0 here, and NaN equals NaN
    assert np.array_equal(a.dense.view(np.int64), b.dense.view(np.int64))


@pytest.mark.parametrize("weight", [None, 0.5])
@pytest.mark.parametrize("every_line_labeled", [True, False])
def test_the_shape_part_kept_aside_gives_the_blocks_split_from_the_stacked_matrix(weight, every_line_labeled):
    # boilercut's solver takes the features as BlockRows: from the union's matrix with the
    # shape part stacked in (BlockRows.split), or from the sparse parts and the shape part
    # kept aside (training.blocks_beside). The blocks must be the same, value for value.
    from boilercut.block_logistic import BlockRows
    from boilercut.features import dense_parts_aside
    from boilercut.training import blocks_beside

    table = make_line_table([r["lines"] for r in tiny_records(10)])
    union = build_features(**TINY_FEATURES, shape_weight=weight) if weight else build_features(**TINY_FEATURES)
    with dense_parts_as_csr():
        stacked = clone(union).fit_transform(table)
    stacked.sort_indices()
    with dense_parts_aside() as aside:
        sparse_only = clone(union).fit_transform(table)
    sparse_only.sort_indices()
    assert len(aside) == 1 and sparse_only.shape == stacked.shape
    rows = None if every_line_labeled else np.arange(stacked.shape[0]) % 3 != 1
    columns = aside[0].shape[1]
    expected = BlockRows.split(stacked if rows is None else stacked[rows], columns)
    assert_same_blocks(blocks_beside(sparse_only, aside[0], union.transformer_weights.get("shape"), rows), expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocks_beside_reads_signed_zeros_and_nan_as_the_stacked_matrix_does(dtype):
    from boilercut.block_logistic import BlockRows
    from boilercut.training import blocks_beside

    # (1e-40 is a subnormal float32; times 1e-10 both it and -1e-320 become zeros)
    dense = np.array([[-0.0, 1e-320, -1e-320, np.nan], [0.0, -2.5, -1e-40, np.inf]]).astype(dtype)
    sparse = sp.csr_matrix(np.array([[0.0, 0.25], [1.5, 0.0]]))
    for weight in (None, 0.5, 1e-10):
        weighted = sp.csr_matrix(dense) if weight is None else sp.csr_matrix(dense) * weight
        stacked = sp.hstack([sparse, weighted], format="csr")
        empty = sp.hstack([sparse, sp.csr_matrix(dense.shape)], format="csr")
        assert_same_blocks(blocks_beside(empty, dense, weight), BlockRows.split(stacked, dense.shape[1]))
