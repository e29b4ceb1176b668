"""Pages labeled for one corpus (python -m boilercut.label) added to the training data.

    trained, held_out = adapt_pages(load_records(["labels.jsonl"]), weight=20, holdout=0.2, seed=13)

The labeling app appends a page again when it is labeled again, so the last record of an
id wins. A share of the pages (whole sites, as data.split_by_page deals them) is held out
to report the model on before and after; the rest get a training weight `weight` times
a bundled page's line weight: a few dozen pages among 1,200 bundled ones would otherwise
move nothing.
"""
from __future__ import annotations

from typing import Sequence

from boilercut.data import split_by_page

WEIGHT_FIELD = "_weight"  # per-record factor on its lines' training weights (training.line_weights)


def latest_records(records: Sequence[dict]) -> list[dict]:
    """One record per id, the last one, in the order of their last labeling."""
    latest: dict[str, dict] = {}
    for record in records:
        latest.pop(record.get("id"), None)
        latest[record.get("id")] = record
    return list(latest.values())


def adapt_pages(records: Sequence[dict], weight: float, holdout: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(pages to train on, each with its weight; pages held out), from labeled records."""
    if not weight > 0:
        raise ValueError(f"data.adapt_weight must be > 0, got {weight}")
    if not 0 <= holdout < 1:
        raise ValueError(f"data.adapt_holdout must be in [0, 1), got {holdout}")
    pages = latest_records(records)
    trained, held_out = split_by_page(pages, [1 - holdout, holdout], seed)
    return [dict(r, **{WEIGHT_FIELD: float(weight)}) for r in trained], held_out


class QuickAdapter:
    """Adapt a trained model in seconds rather than minutes: keep its fitted feature
    transformers and context stage, and refit only the first stage's classifier on the
    base training lines plus the new, weighted ones (warm-started from the model's own
    coefficients). What a full `python -m train data.adapt=...` also refits (the
    vocabularies, the context stage, the thresholds) stays as it was, so a new corpus's
    words unseen in the bundled data are not learned: a lower bound on full adaptation.

        adapter = QuickAdapter(model, base_train_pages, line_weight="words")
        adapted = adapter.adapt(labeled_pages, weight=10)
    """

    def __init__(self, model, base_pages: Sequence[dict], line_weight: str = "words"):
        from boilercut.features import make_line_table
        from boilercut.training import flat_labels, line_weights

        self.model = model
        self.line_weight = line_weight
        pipeline = model.pipeline
        self.features = pipeline[:-1]
        self.x_base, self.y_base, self.w_base = self._rows(base_pages, make_line_table, flat_labels, line_weights)

    def _rows(self, pages, make_line_table, flat_labels, line_weights):
        import numpy as np

        x = self.features.transform(make_line_table([p["lines"] for p in pages]))
        y = np.asarray(flat_labels(pages), dtype=object)
        known = np.asarray([label is not None for label in y])
        return x[known], y[known].astype(str), line_weights(pages, self.line_weight)[known]

    def adapt(self, pages: Sequence[dict], weight: float):
        """A LineModel: the model with its classifier refitted on base + `pages` (weight x)."""
        import copy

        import numpy as np
        import scipy.sparse as sp
        from sklearn.pipeline import Pipeline

        from boilercut.block_logistic import fit_classifier
        from boilercut.features import make_line_table
        from boilercut.model import LineModel
        from boilercut.training import dense_columns, flat_labels, line_weights

        if not weight > 0:
            raise ValueError(f"weight must be > 0, got {weight}")
        weighted = [dict(p, **{WEIGHT_FIELD: float(weight)}) for p in pages]
        x_new, y_new, w_new = self._rows(weighted, make_line_table, flat_labels, line_weights)
        stack = sp.vstack if sp.issparse(self.x_base) else np.vstack
        classifier = copy.deepcopy(self.model.pipeline[-1])
        classifier.set_params(warm_start=True)  # from the model's coefficients: fewer Newton steps
        # The solver the model was trained with: each lands at its own point of the objective.
        solver = ((self.model.metadata.get("config") or {}).get("fit") or {}).get("solver", "block")
        fit_classifier(classifier, stack([self.x_base, x_new]), np.concatenate([self.y_base, y_new]),
                       np.concatenate([self.w_base, w_new]), dense_columns(self.model.pipeline[0]), solver)
        pipeline = Pipeline(self.model.pipeline.steps[:-1] + [(self.model.pipeline.steps[-1][0], classifier)])
        return LineModel(pipeline=pipeline, keep_labels=self.model.keep_labels, threshold=self.model.threshold,
                         context_stage=self.model.context_stage, long_line_words=self.model.long_line_words,
                         points=self.model.points, metadata=dict(self.model.metadata))
