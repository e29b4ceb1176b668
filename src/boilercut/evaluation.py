"""Score boilercut and the baseline rules on the same labeled lines, with breakdowns.

All methods see the same lines; null gold labels are ignored by every metric.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from boilercut.baselines import BASELINES, justext_available, justext_rule
from boilercut.metrics import class_metrics, keep_metrics, removal_at_loss, removal_key, threshold_curve
from boilercut.line_scores import LineScores
from boilercut.model import CHUNK_LINES, LineModel

logger = logging.getLogger(__name__)



def score_model(model: LineModel, records: Sequence[dict], progress: bool = True) -> LineScores:
    """model.score of every line of the records, page by page, in batches (progress bar)."""
    parts: list[LineScores] = []
    batch: list[list[str]] = []
    bar = tqdm(total=len(records), unit="page", desc="scoring", disable=not progress)

    def flush():
        parts.append(model.score(batch))
        bar.update(len(batch))
        batch.clear()

    size = 0
    for rec in records:
        batch.append(rec["lines"])
        size += len(rec["lines"])
        if size >= CHUNK_LINES:  # a model call's worth: memory stays bounded, the bar moves
            flush()
            size = 0
    if batch:
        flush()
    bar.close()
    if not parts:
        return model.score([])
    return LineScores(np.concatenate([p.proba for p in parts]), np.concatenate([p.keep for p in parts]),
                      np.concatenate([p.words for p in parts]), model.labels,
                      [n for p in parts for n in p.page_sizes])


def method_decisions(records: Sequence[dict], use_justext: bool) -> dict[str, np.ndarray]:
    out = {name: np.concatenate([rule(r["lines"]) for r in records]).astype(bool)
           for name, rule in BASELINES.items()}
    if use_justext:
        if justext_available():
            out["justext"] = np.concatenate([justext_rule(r["lines"], r.get("lang") or "en")
                                             for r in records]).astype(bool)
        else:
            logger.warning("jusText is not installed (pip install -e .[eval]): its row is skipped")
    return out


def evaluate(model: LineModel, records: Sequence[dict], threshold: float | None = None,
             max_content_loss: float = 0.01, breakdown_by: Sequence[str] = (),
             use_justext: bool = True, worst: int = 10, progress: bool = True,
             keep: str | None = None) -> dict:
    """The whole evaluation: metrics per method, breakdowns, curve, classes, worst pages.
    boilercut keeps the lines scoring at least `threshold`, or, when it is None, the
    threshold of operating point `keep` for each page (None: the model's default point)."""
    model.check_point(keep)
    gold = [lab for r in records for lab in r["labels"]]
    _warn_unknown_labels(gold, model.labels)
    gold_keep = [None if g is None else g in model.keep_labels for g in gold]
    page_of = np.repeat(np.arange(len(records)), [len(r["lines"]) for r in records])
    scored = score_model(model, records, progress)
    score, pred, words = scored.keep, scored.labels, scored.words
    cuts = model.line_thresholds([r["lines"] for r in records], scored, keep, threshold)
    kept = score >= cuts
    decisions = {"boilercut": kept, **method_decisions(records, use_justext)}

    def table(mask):
        rows = {}
        gk = [g for g, m in zip(gold_keep, mask) if m]
        for name, keep in decisions.items():
            rows[name] = keep_metrics(gk, keep[mask], words[mask])
        rows["boilercut"][removal_key(max_content_loss)] = removal_at_loss(
            gk, score[mask], words[mask], max_content_loss)
        return rows

    everything = np.ones(len(gold), dtype=bool)
    # One threshold for every page, or None when the operating point picks one per page.
    single = threshold if threshold is not None else (float(cuts[0]) if len(np.unique(cuts)) == 1 else None)
    result = {"threshold": single, "operating_point": "threshold" if threshold is not None else
              (keep or model.default_point), "model": model_name(model), "max_content_loss": max_content_loss,
              "pages": len(records), "methods": table(everything)}
    thresholds, lost, removed = threshold_curve(gold_keep, score, words)
    result["curve"] = {"threshold": thresholds.tolist(), "content_lost": lost.tolist(),
                       "boilerplate_removed": removed.tolist()}
    if {g for g in gold if g is not None} <= set(model.labels):
        result["classes"] = class_metrics(gold, list(pred), model.labels)
    result["breakdowns"] = {}
    for field in breakdown_by:
        values = [r.get(field) for r in records]
        if all(v is None for v in values):
            continue
        groups = defaultdict(list)
        for i, v in enumerate(values):
            groups[str(v)].append(i)
        result["breakdowns"][field] = {
            value: {"pages": len(idx), **table(np.isin(page_of, idx))["boilercut"]}
            for value, idx in sorted(groups.items())}
    result["worst_pages"] = worst_pages(records, gold_keep, kept, score, words, page_of, worst)
    return result


def model_name(model: LineModel) -> str:
    """The model file's name and the head of its SHA-256 ("boilercut.joblib 10910dc9"), or
    "unsaved" for a model not loaded from a file."""
    meta = model.metadata or {}
    if not meta.get("model_file"):
        return "unsaved"
    return f"{meta['model_file']} {str(meta.get('model_sha256', ''))[:8]}".strip()


def _warn_unknown_labels(gold: Sequence[str | None], labels: Sequence[str]) -> None:
    """One warning, with counts, when gold labels fall outside the model's label set: a
    typo ("contnet") would otherwise count silently as boilerplate. A set labeled
    content/boilerplate scored with a fine-label model is the expected case it names."""
    unknown = Counter(lab for lab in gold if lab is not None and lab not in set(labels))
    if unknown:
        labeled = sum(lab is not None for lab in gold)
        counts = ", ".join(f"{lab}: {n}" for lab, n in unknown.most_common())
        logger.warning("%d of %d labeled lines have labels the model does not have (%s): they count as "
                       "boilerplate (not kept), and per-class scores are left out",
                       sum(unknown.values()), labeled, counts)


def worst_pages(records, gold_keep, keep, score, words, page_of, n: int) -> dict:
    """The pages losing the most content words and keeping the most boilerplate words."""
    lost_lines, kept_lines = defaultdict(list), defaultdict(list)
    lost_words, kept_words = defaultdict(int), defaultdict(int)
    line_no = np.concatenate([np.arange(len(r["lines"])) for r in records]) if records else []
    for i, g in enumerate(gold_keep):
        if g is True and not keep[i]:
            lost_words[page_of[i]] += words[i]
            lost_lines[page_of[i]].append((int(line_no[i]), float(score[i])))
        elif g is False and keep[i]:
            kept_words[page_of[i]] += words[i]
            kept_lines[page_of[i]].append((int(line_no[i]), float(score[i])))

    def top(counts, lines_by_page):
        out = []
        for p, w in sorted(counts.items(), key=lambda kv: -kv[1])[:n]:
            rec = records[p]
            out.append({"id": rec["id"], "words": int(w), "lines": [
                {"line": ln + 1, "score": round(s, 3), "text": rec["lines"][ln][:300]}
                for ln, s in lines_by_page[p][:15]]})
        return out

    return {"content_lost": top(lost_words, lost_lines), "boilerplate_kept": top(kept_words, kept_lines)}
