"""Fit a multinomial LogisticRegression on features held as a sparse block and a dense block.

The first stage's features are TF-IDF n-grams (sparse, about 90 stored values a line)
beside a couple of hundred standardised shape columns of the line and its neighbours,
which are nonzero on every line. FeatureUnion stacks them into one sparse matrix, where
the dense columns are 70% of the stored values and every Hessian product of
scikit-learn's newton-cg walks them as sparse data. Here the dense block is a NumPy array
(BLAS products) and only the TF-IDF columns stay sparse, with the same objective and the
same Newton-CG steps as scikit-learn (sklearn/utils/optimize.py: stop when every gradient
entry is within `tol`; inner conjugate gradient to eta * |g|_1 with eta = min(0.5,
sqrt(|g|_1)); Wolfe line search). The solution agrees with scikit-learn's to the
solver's tolerance, not bit for bit: sums run in another order.

The objective is scikit-learn's for sample weights s_i and C (>= 1.2):
    sum_i s_i * (logsumexp(z_i) - z_i[y_i]) / S + ||W||^2 / (2 C S),   S = sum_i s_i,
with z_i = W x_i + b, and no penalty on the intercepts b.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import line_search as line_search_wolfe2

try:  # MINPACK's line search first, as scikit-learn's newton-cg does (sklearn/utils/optimize.py)
    from scipy.optimize._linesearch import line_search_wolfe1
except ImportError:  # a SciPy that moved it: the Wolfe search alone finds steps as good
    line_search_wolfe1 = None
from scipy.special import logsumexp

logger = logging.getLogger(__name__)


@dataclass
class BlockRows:
    """The rows of [sparse | dense]: a CSR block and a dense block, side by side. The
    transposed sparse block is kept as CSR too: its products are a third faster than
    through the CSC view that .T gives."""
    sparse: sp.csr_matrix
    dense: np.ndarray
    sparse_t: sp.csr_matrix | None = None

    def __post_init__(self):
        if self.sparse_t is None:
            self.sparse_t = self.sparse.T.tocsr()

    @classmethod
    def split(cls, features: sp.spmatrix, dense_columns: int) -> "BlockRows":
        """The last `dense_columns` columns of `features` as a dense block (float64)."""
        features = sp.csr_matrix(features, dtype=np.float64)
        cut = features.shape[1] - dense_columns
        return cls(features[:, :cut].tocsr(), np.ascontiguousarray(features[:, cut:].toarray()))

    def astype(self, dtype) -> "BlockRows":
        return BlockRows(self.sparse.astype(dtype), self.dense.astype(dtype), self.sparse_t.astype(dtype))

    @property
    def shape(self) -> tuple[int, int]:
        return self.sparse.shape[0], self.sparse.shape[1] + self.dense.shape[1]

    def times(self, weights: np.ndarray) -> np.ndarray:
        """rows @ weights.T for weights of shape (classes, columns), in the rows' precision."""
        cut = self.sparse.shape[1]
        # Cast and transpose the sparse part's weights in one copy (they are most of them);
        # the same numbers as casting all of them first.
        sparse_weights = np.ascontiguousarray(weights[:, :cut].T, dtype=self.dense.dtype)
        return self.sparse @ sparse_weights + self.dense @ weights[:, cut:].astype(self.dense.dtype, copy=False).T

    def transposed_times(self, per_row: np.ndarray) -> np.ndarray:
        """(rows.T @ per_row).T for per_row of shape (rows, classes): one row per class."""
        out = np.empty((per_row.shape[1], self.shape[1]), dtype=self.dense.dtype)
        self.transposed_times_into(per_row, out)
        return out

    def transposed_times_into(self, per_row: np.ndarray, out: np.ndarray) -> None:
        """transposed_times written into `out` (classes, columns), of any float type."""
        per_row = per_row.astype(self.dense.dtype, copy=False)
        cut = self.sparse.shape[1]
        out[:, :cut] = (self.sparse_t @ per_row).T
        out[:, cut:] = per_row.T @ self.dense


class _Objective:
    """Loss, gradient and Hessian products of the weighted, L2-penalised softmax loss.
    The parameter vector is (classes, columns + 1) flattened: weights, then the intercept."""

    def __init__(self, rows: BlockRows, targets: np.ndarray, n_classes: int, sample_weight: np.ndarray,
                 C: float):
        self.rows = rows
        # Hessian products only steer the conjugate-gradient direction, and the line search
        # checks every step against the float64 loss and gradient: single precision halves
        # the memory they stream (the product is memory-bound) without moving the optimum.
        self.rows_single = rows.astype(np.float32)
        self.n_classes = n_classes
        self.n_columns = rows.shape[1]
        self.onehot = np.zeros((len(targets), n_classes))
        self.onehot[np.arange(len(targets)), targets] = 1.0
        total = float(np.sum(sample_weight))
        self.weight = sample_weight / total           # s_i / S
        self.l2 = 1.0 / (C * total)
        self._cached = None                           # (x, loss, gradient, probabilities)
        self._squared = None                          # rows_single with every value squared

    def _unpack(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        params = x.reshape(self.n_classes, self.n_columns + 1)
        return params[:, :-1], params[:, -1]

    def evaluate(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """(loss, gradient, class probabilities of every row) at x; the last x is cached,
        because the line search asks for the loss and the gradient at one point apart."""
        if self._cached is not None and np.array_equal(self._cached[0], x):
            return self._cached[1:]
        coef, intercept = self._unpack(x)
        decision = self.rows.times(coef) + intercept
        norm = logsumexp(decision, axis=1)
        proba = np.exp(decision - norm[:, None])
        loss = float(self.weight @ (norm - np.sum(decision * self.onehot, axis=1)))
        loss += 0.5 * self.l2 * float(np.sum(coef * coef))
        residual = (proba - self.onehot) * self.weight[:, None]
        gradient = np.hstack([self.rows.transposed_times(residual) + self.l2 * coef,
                              residual.sum(axis=0)[:, None]]).ravel()
        self._cached = (x.copy(), loss, gradient, proba)
        return loss, gradient, proba

    def loss(self, x):
        return self.evaluate(x)[0]

    def gradient(self, x):
        return self.evaluate(x)[1]

    def jacobi(self, proba: np.ndarray):
        """The conjugate gradient's preconditioner at the point whose class probabilities
        are `proba`: r -> C D^-1 C r, with D the Hessian's diagonal and C the centring of
        each column's weights (and the intercepts) over the classes. A softmax ignores a
        change common to every class, so the Hessian is (nearly) flat along it, and the
        optimum has none of it; D^-1 alone, different for every class, would steer the
        steps into that flat direction. C D^-1 C is symmetric and positive on the rest."""
        inverse = 1.0 / np.maximum(self.hessian_diagonal(proba), 16 * np.finfo(np.float64).eps)
        shape = (self.n_classes, self.n_columns + 1)

        def apply(residual: np.ndarray, out: np.ndarray) -> None:
            np.subtract(residual.reshape(shape), residual.reshape(shape).mean(axis=0), out=out.reshape(shape))
            out *= inverse
            out.reshape(shape)[...] -= out.reshape(shape).mean(axis=0)
        return apply

    def hessian_diagonal(self, proba: np.ndarray) -> np.ndarray:
        """The diagonal of the Hessian at the point whose class probabilities are `proba`:
        sum_i s_i p_ik (1 - p_ik) x_ij^2 / S + l2 for weight (k, j), the same without x and
        l2 for intercept k (the Jacobi preconditioner of the conjugate gradient)."""
        if self._squared is None:
            rows = self.rows_single
            squared_t = sp.csr_matrix((rows.sparse_t.data ** 2, rows.sparse_t.indices, rows.sparse_t.indptr),
                                      shape=rows.sparse_t.shape)
            self._squared = BlockRows(squared_t.T, rows.dense ** 2, squared_t)
        spread = proba * (1 - proba) * self.weight[:, None]
        out = np.empty((self.n_classes, self.n_columns + 1))
        self._squared.transposed_times_into(spread, out[:, :-1])
        out[:, :-1] += self.l2
        out[:, -1] = spread.sum(axis=0)
        return out.ravel()

    def hessian_product(self, proba: np.ndarray):
        """v -> H v at the point whose class probabilities are `proba`."""
        def product(v: np.ndarray) -> np.ndarray:
            coef, intercept = self._unpack(v)
            change = self.rows_single.times(coef) + intercept
            # The softmax Hessian per row: diag(p) - p p^T, applied to the row's change.
            curvature = proba * (change - np.sum(proba * change, axis=1, keepdims=True)) * self.weight[:, None]
            # Written in place: [rows.T @ curvature + l2 * coef | curvature summed], as
            # hstack built it, without its copies of 2 million numbers.
            out = np.empty((self.n_classes, self.n_columns + 1))
            self.rows_single.transposed_times_into(curvature, out[:, :-1])
            out[:, :-1] += self.l2 * coef
            out[:, -1] = curvature.sum(axis=0)
            return out.ravel()
        return product


def _conjugate_gradient(product, gradient: np.ndarray, tol: float, max_inner: int,
                        precondition=None) -> np.ndarray:
    """An approximate solution of H p = -g (scikit-learn's _cg: stop on |residual|_1 <= tol
    or on non-positive curvature), preconditioned by `precondition` (r -> M^-1 r, written
    into its second argument) if given."""
    tiny = 16 * np.finfo(np.float64).eps
    step = np.zeros_like(gradient)
    residual = -gradient
    # The vectors hold every weight (about 2 million numbers): the updates below write into
    # them and into one scratch vector, the same operations in the same order as
    # `step += alpha * direction` and the like, without a fresh 15 MB array for each.
    scratch = np.empty_like(gradient)
    # Without a preconditioner the scaled residual is the residual itself.
    scaled = residual if precondition is None else np.empty_like(gradient)
    if precondition is not None:
        precondition(residual, scaled)
    direction = scaled.copy()
    previous = residual @ scaled
    direction_norm2 = direction @ direction
    for i in range(max_inner + 1):
        if np.sum(np.abs(residual, out=scratch)) <= tol:
            break
        image = product(direction)
        curvature = direction @ image
        if 0 <= curvature <= tiny * direction_norm2:  # flat: no further progress
            break
        if curvature < 0:  # not a descent direction any more
            if i == 0:
                step += (previous / curvature) * direction  # steepest descent, as scikit-learn does
            break
        alpha = previous / curvature
        step += np.multiply(alpha, direction, out=scratch)
        residual -= np.multiply(alpha, image, out=image)
        if precondition is not None:
            precondition(residual, scaled)
        current = residual @ scaled
        beta = current / previous
        direction *= beta
        direction += scaled  # scaled + beta * direction: a sum of two terms, in either order the same
        # Unpreconditioned, the new residual is orthogonal to the last direction, so the
        # squared norm follows from the two; preconditioned, it does not.
        direction_norm2 = current + beta ** 2 * direction_norm2 if precondition is None else direction @ direction
        previous = current
    return step


def _step_length(objective: _Objective, x: np.ndarray, step: np.ndarray, gradient: np.ndarray, loss: float,
                 previous_loss: float | None) -> float | None:
    """The step length along `step` (None: no step lowers the loss), found as scikit-learn's
    newton-cg finds it: MINPACK's Wolfe search, then, where the loss cannot move any more
    (changes at machine precision), the full step if it shrinks |gradient|_1, and SciPy's
    other Wolfe search as the last resort."""
    if line_search_wolfe1 is not None:
        alpha = line_search_wolfe1(objective.loss, objective.gradient, x, step, gradient, loss, previous_loss)[0]
        if alpha is not None:
            return alpha
        if abs(objective.loss(x + step) - loss) <= abs(loss * 16 * np.finfo(np.float64).eps):
            if np.sum(np.abs(objective.gradient(x + step))) < np.sum(np.abs(gradient)):
                return 1.0
    return line_search_wolfe2(objective.loss, objective.gradient, x, step, gfk=gradient, old_fval=loss,
                              old_old_fval=previous_loss)[0]


def fit_softmax(rows: BlockRows, targets: np.ndarray, n_classes: int, sample_weight: np.ndarray,
                C: float, tol: float = 1e-3, max_iter: int = 100, max_inner: int = 200,
                initial: tuple[np.ndarray, np.ndarray] | None = None, precondition: bool = False) -> tuple:
    """(coef (classes, columns), intercept (classes,), Newton iterations) of the multinomial
    logistic regression of `targets` (integers 0..n_classes-1) on `rows`, starting from
    zero or from `initial` (coef, intercept): a warm start, as LogisticRegression's."""
    objective = _Objective(rows, np.asarray(targets), n_classes, np.asarray(sample_weight, dtype=np.float64), C)
    if initial is None:
        x = np.zeros(n_classes * (rows.shape[1] + 1))
    else:
        x = np.hstack([np.asarray(initial[0], dtype=np.float64),
                       np.asarray(initial[1], dtype=np.float64)[:, None]]).ravel()
    loss, gradient, proba = objective.evaluate(x)
    previous_loss = None
    iteration = 0
    while iteration < max_iter:
        absolute = np.abs(gradient)
        if absolute.max() <= tol:
            break
        size = float(absolute.sum())
        step = _conjugate_gradient(objective.hessian_product(proba), gradient,
                                   min(0.5, np.sqrt(size)) * size, max_inner,
                                   objective.jacobi(proba) if precondition else None)
        alpha = _step_length(objective, x, step, gradient, loss, previous_loss)
        if alpha is None:
            warnings.warn("block_logistic: the line search failed; stopping at the last point")
            break
        previous_loss = loss
        x = x + alpha * step
        loss, gradient, proba = objective.evaluate(x)
        iteration += 1
        logger.debug("newton step %d: loss %.6f, max |gradient| %.2e", iteration, loss, np.abs(gradient).max())
    else:
        warnings.warn(f"block_logistic: no convergence in {max_iter} Newton iterations")
    coef, intercept = objective._unpack(x)
    return coef.copy(), intercept.copy(), iteration


def block_solvable(estimator, n_classes: int) -> bool:
    """Whether fit_estimator can fit `estimator` (else scikit-learn's own fit must): a
    LogisticRegression with the plain L2 penalty, an intercept, no class weights and more
    than two classes (two classes are one logistic column in scikit-learn, not a softmax)."""
    from sklearn.linear_model import LogisticRegression

    if type(estimator) is not LogisticRegression or n_classes < 3:
        return False
    params = estimator.get_params()
    return (params["penalty"] in ("l2", "deprecated") and params.get("l1_ratio") in (None, 0, 0.0)
            and params["fit_intercept"] and params["class_weight"] is None)


def fit_estimator(estimator, features: sp.spmatrix | BlockRows, labels: np.ndarray, sample_weight: np.ndarray,
                  dense_columns: int, precondition: bool = False) -> None:
    """Fit `estimator` (block_solvable) on features whose last `dense_columns` columns are
    dense (or on BlockRows, split already), leaving it as LogisticRegression.fit would:
    classes_, coef_, intercept_, n_iter_.
    With warm_start=True and a fit of the same classes and columns, the fit starts from it."""
    classes, targets = np.unique(np.asarray(labels), return_inverse=True)
    rows = features if isinstance(features, BlockRows) else BlockRows.split(features, dense_columns)
    params = estimator.get_params()
    initial = None
    if (params["warm_start"] and getattr(estimator, "coef_", None) is not None
            and list(getattr(estimator, "classes_", [])) == list(classes)
            and estimator.coef_.shape == (len(classes), features.shape[1])):
        initial = (estimator.coef_, estimator.intercept_)
    coef, intercept, iterations = fit_softmax(rows, targets, len(classes), sample_weight, C=float(params["C"]),
                                              tol=float(params["tol"]), max_iter=int(params["max_iter"]),
                                              initial=initial, precondition=precondition)
    estimator.classes_ = classes
    estimator.coef_ = coef
    estimator.intercept_ = intercept
    estimator.n_iter_ = np.asarray([iterations], dtype=np.int32)
    estimator.n_features_in_ = features.shape[1]


# block: the conjugate gradient of scikit-learn's newton-cg; block-jacobi: the same,
# preconditioned by the Hessian's diagonal (about a tenth of the Hessian products).
BLOCK_SOLVERS = ("block", "block-jacobi")


def fit_classifier(estimator, features: sp.spmatrix | BlockRows, labels: np.ndarray, sample_weight: np.ndarray,
                   dense_columns: int, solver: str = "block") -> None:
    """Fit the first stage's classifier: with fit_estimator where solver is one of
    BLOCK_SOLVERS and the estimator is block_solvable, else with its own fit (scikit-learn's
    solver)."""
    if solver in BLOCK_SOLVERS and block_solvable(estimator, len(set(labels))):
        fit_estimator(estimator, features, labels, sample_weight, dense_columns, precondition=solver == "block-jacobi")
    elif isinstance(features, BlockRows):
        raise TypeError(f"only boilercut's solvers {BLOCK_SOLVERS} fit BlockRows; solver {solver!r} with "
                        f"{type(estimator).__name__} needs the features as one matrix")
    else:
        estimator.fit(features, labels, sample_weight=sample_weight)
