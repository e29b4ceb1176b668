"""The public line-level API: classify_lines, score_lines, filter_page.

model=None uses the default model (locations.py says where; trained from the bundled
pages on the first call if absent), loaded on first use and then reused, so calling
these functions in a loop does not reload it.
"""
from __future__ import annotations

import numbers
import threading
from itertools import compress
from typing import Sequence

import numpy as np

from boilercut.lines import split_lines
from boilercut.model import LineModel
from boilercut.persist import load_model

_default_model: LineModel | None = None
_lock = threading.Lock()


def default_model() -> LineModel:
    global _default_model
    with _lock:
        if _default_model is None:
            _default_model = load_model()
    return _default_model


def _resolve(model: LineModel | None) -> LineModel:
    return default_model() if model is None else model


def str_list(items, what: str, name_of) -> list[str]:
    """items as a list; TypeError for a lone str (one page, where a sequence of `what` was
    expected) or for an item that is not a str, named by name_of(index)."""
    if isinstance(items, str):
        raise TypeError(f"expected a sequence of {what}, got a str; use filter_page for one page")
    items = list(items)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{name_of(i)} is {type(item).__name__}, not str")
    return items


def _check_lines(lines: Sequence[str]) -> list[str]:
    return str_list(lines, "lines", lambda i: f"line {i + 1}")


def classify_lines(lines: Sequence[str], model: LineModel | None = None) -> list[str]:
    """One label per line (the most probable class)."""
    lines = _check_lines(lines)
    if not lines:
        return []
    return list(_resolve(model).score([lines]).labels)


def score_lines(lines: Sequence[str], model: LineModel | None = None) -> list[float]:
    """Per line, the probability that it is content (summed over the kept classes)."""
    lines = _check_lines(lines)
    if not lines:
        return []
    return _resolve(model).score([lines]).keep.tolist()


def check_threshold(threshold: float, name: str = "threshold") -> float:
    """threshold as a float; TypeError unless it is a real number (not a bool or a str
    such as "0.5", which float() would take), ValueError unless it is in 0..1."""
    if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"{name} must be a number between 0 and 1, got {threshold!r} ({type(threshold).__name__})")
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {threshold}")
    return float(threshold)


def filter_page(text: str, model: LineModel | None = None, threshold: float | None = None,
                keep: str | None = None) -> str:
    """The page's kept lines, unchanged and in order, joined by "\\n".

    threshold: keep lines scoring at least this; None: the threshold of the model's
    operating point `keep` ("conservative", "balanced", "aggressive", "auto"; None: the
    model's default point, "auto" for a model trained by this version)."""
    if not isinstance(text, str):
        raise TypeError(f"expected page text as str, got {type(text).__name__}")
    model = _resolve(model)
    if threshold is not None:
        check_threshold(threshold)
    model.check_point(keep)
    lines = split_lines(text)
    if not lines:
        return ""
    # The word counts come with the scores (the "auto" point reads them), as in clean_batch.
    scored = model.score([lines])
    cut = model.page_thresholds([lines], [scored.keep], keep, threshold, [scored.words])[0]
    return "\n".join(compress(lines, (scored.keep >= cut).tolist()))
