"""Metrics for the keep/drop decision and for the fine labels; null gold labels are ignored.

Word weights come from boilercut.lines.count_words: losing a 90-word paragraph costs
more than losing a one-word heading, which is what a corpus builder cares about.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def keep_metrics(gold_keep: Sequence, pred_keep: Sequence[bool], words: Sequence[int]) -> dict:
    """Scores of a keep decision. gold_keep: True (content), False (boilerplate) or None (ignored)."""
    gold = np.asarray([g if g is not None else -1 for g in gold_keep], dtype=np.int8)
    pred = np.asarray(pred_keep, dtype=bool)
    w = np.asarray(words, dtype=np.float64)
    known = gold >= 0
    g, p, w = gold[known] == 1, pred[known], w[known]
    lp, lr, lf = _prf(np.sum(g & p), np.sum(~g & p), np.sum(g & ~p))
    wp, wr, wf = _prf(w[g & p].sum(), w[~g & p].sum(), w[g & ~p].sum())
    content_words, boiler_words = w[g].sum(), w[~g].sum()
    return {
        "lines": int(known.sum()),
        "line_precision": lp, "line_recall": lr, "line_f1": lf,
        "word_precision": wp, "word_recall": wr, "word_f1": wf,
        "boilerplate_words_removed": float(w[~g & ~p].sum() / boiler_words) if boiler_words else 0.0,
        "content_words_lost": float(w[g & ~p].sum() / content_words) if content_words else 0.0,
    }


def threshold_curve(gold_keep: Sequence, scores: Sequence[float], words: Sequence[int]):
    """For every distinct score t (keep when score >= t): (thresholds, content_lost, boilerplate_removed).

    Sorted by threshold ascending; computed in one pass with cumulative sums.
    """
    gold = np.asarray([g if g is not None else -1 for g in gold_keep], dtype=np.int8)
    s = np.asarray(scores, dtype=np.float64)
    w = np.asarray(words, dtype=np.float64)
    known = gold >= 0
    g, s, w = gold[known] == 1, s[known], w[known]
    order = np.argsort(s, kind="stable")
    s, g, w = s[order], g[order], w[order]
    # Dropping every line with score < t: the dropped set is a prefix of the sorted lines.
    lost = np.concatenate(([0.0], np.cumsum(w * g)))
    removed = np.concatenate(([0.0], np.cumsum(w * ~g)))
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1]))) if len(s) else np.zeros(0, int)
    thresholds = np.concatenate((s[starts], [np.inf])) if len(s) else np.array([np.inf])
    cut = np.concatenate((starts, [len(s)]))
    total_c, total_b = max(w[g].sum(), 1e-12), max(w[~g].sum(), 1e-12)
    return thresholds, lost[cut] / total_c, removed[cut] / total_b


THRESHOLD_OBJECTIVES = ("f1", "removal")


def choose_threshold(gold_keep, scores, words, max_content_loss: float = 0.01,
                     objective: str = "removal") -> float:
    """The keep threshold, among those losing at most max_content_loss of content words:
    objective "removal" removes the most boilerplate words (the largest such threshold);
    "f1" gives the highest word-weighted F1 of the content kept."""
    if not 0.0 <= max_content_loss <= 1.0:
        raise ValueError(f"max_content_loss must be in [0, 1], got {max_content_loss}")
    if objective not in THRESHOLD_OBJECTIVES:
        raise ValueError(f"threshold objective must be one of {THRESHOLD_OBJECTIVES}, got {objective!r}")
    thresholds, lost, removed = threshold_curve(gold_keep, scores, words)
    ok = np.flatnonzero(lost <= max_content_loss + 1e-12)
    if objective == "removal":
        best = ok[np.argmax(removed[ok])]  # lost is monotone, so this is the largest allowed threshold
    else:
        best = ok[np.argmax(_f1_on_curve(gold_keep, words, lost[ok], removed[ok]))]
    t = thresholds[best]
    # Between two distinct scores any value works; the midpoint generalises better than the edge.
    if np.isfinite(t) and best > 0:
        t = (thresholds[best - 1] + t) / 2
    return float(min(t, 1.0))


def best_word_f1(gold_keep, scores, words) -> tuple[float, float]:
    """(the highest word F1 of the content kept that any one threshold gives, that
    threshold): keep-all's F1 when no threshold beats keeping every line."""
    thresholds, lost, removed = threshold_curve(gold_keep, scores, words)
    f1 = _f1_on_curve(gold_keep, words, lost, removed)
    best = int(np.argmax(f1))
    return float(f1[best]), float(thresholds[best])


def _f1_on_curve(gold_keep, words, lost: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Word F1 of the content kept at each point of a threshold curve."""
    gold = np.asarray([g if g is not None else -1 for g in gold_keep], dtype=np.int8)
    w = np.asarray(words, dtype=np.float64)
    content, boiler = w[gold == 1].sum(), w[gold == 0].sum()
    tp, fn, fp = content * (1 - lost), content * lost, boiler * (1 - removed)
    return np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(2 * tp + fp + fn) > 0)


def removal_key(max_content_loss: float) -> str:
    """The metrics key of removal_at_loss at this budget, e.g. "removed_at_0.01_loss"."""
    return f"removed_at_{max_content_loss:g}_loss"


def removal_at_loss(gold_keep, scores, words, max_content_loss: float = 0.01) -> float:
    """Best share of boilerplate words removed at a content loss of at most max_content_loss."""
    _, lost, removed = threshold_curve(gold_keep, scores, words)
    return float(removed[lost <= max_content_loss + 1e-12].max())


def class_metrics(gold: Sequence, pred: Sequence[str], labels: Sequence[str]) -> dict:
    """Per-class precision/recall/F1/support, macro-F1 and the confusion matrix (rows = gold)."""
    pairs = [(g, p) for g, p in zip(gold, pred) if g is not None]
    g = [a for a, _ in pairs]
    p = [b for _, b in pairs]
    labels = list(labels)
    prec, rec, f1, support = precision_recall_fscore_support(g, p, labels=labels, zero_division=0)
    per_class = {lab: {"precision": float(prec[i]), "recall": float(rec[i]), "f1": float(f1[i]),
                       "support": int(support[i])} for i, lab in enumerate(labels)}
    present = [i for i, lab in enumerate(labels) if support[i] > 0]
    return {
        "per_class": per_class,
        "macro_f1": float(np.mean(f1[present])) if present else 0.0,
        "labels": labels,
        "confusion": confusion_matrix(g, p, labels=labels).tolist() if g else [],
    }
