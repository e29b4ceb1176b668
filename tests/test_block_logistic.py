"""block_logistic: the multinomial LogisticRegression fit on a sparse block beside a dense block."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from boilercut.block_logistic import BlockRows, block_solvable, fit_estimator, fit_softmax
from conftest import TINY_CLASSIFIER, TINY_FEATURES, tiny_records


def problem(seed=0, rows=300, sparse_columns=40, dense_columns=6, classes=4):
    """Rows of TF-IDF-like sparse columns beside dense standardised ones, with labels that
    depend on both blocks, and uneven sample weights."""
    rng = np.random.default_rng(seed)
    sparse = sp.random(rows, sparse_columns, density=0.1, random_state=seed, format="csr")
    dense = rng.normal(size=(rows, dense_columns))
    truth = rng.normal(size=(classes, sparse_columns + dense_columns))
    logits = sp.hstack([sparse, dense]).toarray() @ truth.T + rng.gumbel(size=(rows, classes))
    labels = np.asarray(["content", "nav", "clickbait", "footer"][:classes])[logits.argmax(axis=1)]
    weights = 1 + rng.integers(0, 30, size=rows).astype(float)
    return sp.hstack([sparse, dense], format="csr"), dense_columns, labels, weights


def test_block_products_equal_the_stacked_matrix_products():
    features, dense_columns, _, _ = problem()
    rows = BlockRows.split(features, dense_columns)
    weights = np.random.default_rng(1).normal(size=(3, features.shape[1]))
    per_row = np.random.default_rng(2).normal(size=(features.shape[0], 3))
    np.testing.assert_allclose(rows.times(weights), features @ weights.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rows.transposed_times(per_row), (features.T @ per_row).T, rtol=1e-12, atol=1e-12)
    assert rows.shape == features.shape


def test_single_precision_products_take_double_weights_and_fill_double_outputs():
    # The Hessian products run on float32 rows with the solver's float64 vectors: the cast
    # inside must give the numbers a float32 copy of the weights gives, to the last bit.
    features, dense_columns, _, _ = problem()
    rows = BlockRows.split(features, dense_columns).astype(np.float32)
    weights = np.random.default_rng(1).normal(size=(3, features.shape[1]))
    per_row = np.random.default_rng(2).normal(size=(features.shape[0], 3))
    assert np.array_equal(rows.times(weights), rows.times(weights.astype(np.float32)))
    out = np.empty((3, features.shape[1]))
    rows.transposed_times_into(per_row, out)
    assert np.array_equal(out, rows.transposed_times(per_row).astype(np.float64))


def test_converged_fit_is_scikit_learns_optimum():
    # Both solvers minimise the same objective; run to a tight tolerance they must agree.
    features, dense_columns, labels, weights = problem()
    reference = LogisticRegression(C=4.0, solver="newton-cg", tol=1e-10, max_iter=1000)
    reference.fit(features, labels, sample_weight=weights)
    ours = LogisticRegression(C=4.0, solver="newton-cg", tol=1e-10, max_iter=1000)
    fit_estimator(ours, features, labels, weights, dense_columns)
    assert list(ours.classes_) == list(reference.classes_)
    np.testing.assert_allclose(ours.coef_, reference.coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, reference.intercept_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(features), reference.predict_proba(features), atol=1e-6)


def test_preconditioned_fit_reaches_the_same_optimum_in_fewer_products(monkeypatch):
    # Preconditioning changes the path, not the objective: run to a tight tolerance, both
    # conjugate gradients land on scikit-learn's optimum; the Jacobi one with far fewer
    # Hessian products on columns of very different scales (TF-IDF beside shape columns).
    import boilercut.block_logistic as block_logistic

    features, dense_columns, labels, weights = problem(seed=7)
    features = sp.csr_matrix(features.multiply(np.r_[np.full(features.shape[1] - dense_columns, 0.05),
                                                     np.full(dense_columns, 3.0)]))
    reference = LogisticRegression(C=4.0, solver="newton-cg", tol=1e-10, max_iter=1000)
    reference.fit(features, labels, sample_weight=weights)
    products = {}
    original = block_logistic._Objective.hessian_product

    def counted(self, proba):
        product = original(self, proba)

        def count(v):
            products[key] = products.get(key, 0) + 1
            return product(v)
        return count

    monkeypatch.setattr(block_logistic._Objective, "hessian_product", counted)
    rows = BlockRows.split(features, dense_columns)
    targets = np.unique(labels, return_inverse=True)[1]
    fits = {}
    for key in (False, True):
        fits[key] = fit_softmax(rows, targets, 4, weights, C=4.0, tol=1e-10, max_iter=1000, precondition=key)
        np.testing.assert_allclose(fits[key][0], reference.coef_, rtol=1e-4, atol=1e-5)
        # The intercepts are unpenalised and a softmax ignores a shift common to all of
        # them: the optimum fixes them up to that shift.
        np.testing.assert_allclose(fits[key][1] - fits[key][1].mean(), reference.intercept_ - reference.intercept_.mean(),
                                   rtol=1e-4, atol=1e-5)
    assert products[True] < products[False] / 2


def test_hessian_diagonal_is_the_diagonal_of_the_hessian_products():
    from boilercut.block_logistic import _Objective

    features, dense_columns, labels, weights = problem(seed=9, rows=60, sparse_columns=8, dense_columns=3)
    rows = BlockRows.split(features, dense_columns)
    objective = _Objective(rows, np.unique(labels, return_inverse=True)[1], 4, weights, C=2.0)
    x = np.random.default_rng(4).normal(size=4 * (features.shape[1] + 1))
    proba = objective.evaluate(x)[2]
    product = objective.hessian_product(proba)
    # The products run in single precision: the diagonal, computed from float32 rows too,
    # agrees to float32's precision.
    unit = np.eye(len(x))
    expected = np.asarray([product(unit[i])[i] for i in range(len(x))])
    np.testing.assert_allclose(objective.hessian_diagonal(proba), expected, rtol=1e-5, atol=1e-9)


def test_sample_weights_and_C_change_the_fit():
    features, dense_columns, labels, weights = problem(seed=3)
    rows = BlockRows.split(features, dense_columns)
    targets = np.unique(labels, return_inverse=True)[1]
    base = fit_softmax(rows, targets, 4, weights, C=4.0, tol=1e-8)[0]
    assert not np.allclose(base, fit_softmax(rows, targets, 4, np.ones_like(weights), C=4.0, tol=1e-8)[0])
    stronger = fit_softmax(rows, targets, 4, weights, C=0.01, tol=1e-8)[0]
    assert np.linalg.norm(stronger) < np.linalg.norm(base)  # smaller C: smaller weights


def test_only_plain_multiclass_logistic_regression_is_solvable():
    plain = LogisticRegression(solver="newton-cg")
    assert block_solvable(plain, 4)
    assert not block_solvable(plain, 2)  # two classes are one logistic column in scikit-learn
    assert not block_solvable(LogisticRegression(class_weight="balanced"), 4)
    assert not block_solvable(LogisticRegression(fit_intercept=False), 4)


@pytest.mark.parametrize("solver", ["block", "block-jacobi", "sklearn"])
def test_fit_pipeline_with_either_solver_scores_pages(solver, monkeypatch):
    import boilercut.block_logistic as block_logistic
    from boilercut.model import LineModel
    from boilercut.training import fit_pipeline

    calls = []
    monkeypatch.setattr(block_logistic, "fit_estimator", lambda *a, **k: calls.append(1) or fit_estimator(*a, **k))

    records = tiny_records()
    classifier = {**TINY_CLASSIFIER, "class_weight": None, "solver": "newton-cg"}  # block-solvable
    pipeline = fit_pipeline(records, TINY_FEATURES, classifier, "words", solver=solver)
    scored = LineModel(pipeline=pipeline).score([r["lines"] for r in records])
    assert scored.proba.shape == (sum(len(r["lines"]) for r in records), len(pipeline.classes_))
    np.testing.assert_allclose(scored.proba.sum(axis=1), 1.0)
    assert len(calls) == (solver != "sklearn")


def test_unknown_solver_is_refused():
    from boilercut.training import fit_pipeline

    with pytest.raises(ValueError, match="fit.solver"):
        fit_pipeline([], {}, {}, solver="lbfgs")


def test_warm_start_begins_at_the_previous_fit():
    features, dense_columns, labels, weights = problem(seed=5)
    estimator = LogisticRegression(C=4.0, solver="newton-cg", tol=1e-6, max_iter=1000)
    fit_estimator(estimator, features, labels, weights, dense_columns)
    cold_iterations = int(estimator.n_iter_[0])
    estimator.set_params(warm_start=True)
    before = estimator.coef_.copy()
    fit_estimator(estimator, features, labels, weights, dense_columns)  # already at the optimum
    assert int(estimator.n_iter_[0]) < cold_iterations
    np.testing.assert_allclose(estimator.coef_, before, atol=1e-4)
