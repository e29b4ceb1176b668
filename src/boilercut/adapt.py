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
