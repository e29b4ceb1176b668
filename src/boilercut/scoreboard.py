"""The scoreboard: one model, every labeled set it is judged on, with intervals.

A change to data, features, model or threshold is kept only when the aggregate of all
sets improves (issue 13), so they are scored together: the test split of the model's own
data, the four real development sets (../shared/realweb and ../shared/wcxb, raw and
fineweb views; a set that is absent is skipped) and the two real example pages. Word F1
and "removed @1% loss" come with a 95% interval from a bootstrap over sites: pages of one
site share their chrome, so resampling pages would understate the spread.
"""
from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from boilercut.lines import count_words, split_lines
from boilercut.metrics import best_word_f1, keep_metrics, removal_at_loss

REAL_SETS = ("realweb/dev-raw", "realweb/dev-fineweb", "wcxb/dev-raw", "wcxb/dev-fineweb")
BOOTSTRAP_ROUNDS = 200
LOSS_BUDGET = 0.01  # the "removed @1% loss" column


def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def site_of(record: dict) -> str:
    """The bootstrap's unit: the record's site field, else its URL's host, else its id."""
    if record.get("site"):
        return str(record["site"])
    url = record.get("url") or ""
    return url.split("/")[2] if url.count("/") >= 2 else str(record["id"])


class ScoredSet:
    """Per-line gold keep (None = unlabeled), keep score, words, page and site of one set."""

    def __init__(self, records: Sequence[dict], scores: np.ndarray, keep_labels: Sequence[str]):
        self.records = records
        labels = [lab for r in records for lab in r["labels"]]
        self.gold = np.asarray([-1 if g is None else int(g in keep_labels) for g in labels], dtype=np.int8)
        self.labels = labels
        self.score = np.asarray(scores, dtype=np.float64)
        self.words = np.asarray([count_words(line) for r in records for line in r["lines"]], dtype=np.float64)
        self.page = np.repeat(np.arange(len(records)), [len(r["lines"]) for r in records])
        site_ids: dict[str, int] = {}
        self.site = np.asarray([site_ids.setdefault(site_of(r), len(site_ids)) for r in records])[self.page] \
            if records else np.zeros(0, dtype=int)
        self.n_sites = len(site_ids)
        self._known_order = None  # the labeled lines in order of score, for the bootstrap

    def gold_keep(self, mask=None) -> list:
        g = self.gold if mask is None else self.gold[mask]
        return [None if v < 0 else bool(v) for v in g]

    def metrics(self, keep: np.ndarray, mask=None) -> dict:
        mask = np.ones(len(self.gold), dtype=bool) if mask is None else mask
        gold = self.gold_keep(mask)
        out = keep_metrics(gold, keep[mask], self.words[mask])
        out["removed_at_1pct"] = removal_at_loss(gold, self.score[mask], self.words[mask], LOSS_BUDGET) \
            if any(g is True for g in gold) else 0.0
        out["keep_all_f1"] = keep_metrics(gold, np.ones(int(mask.sum()), dtype=bool), self.words[mask])["word_f1"]
        # Whether any one threshold beats keeping everything (the ranking's ceiling at this
        # set), whatever the operating point chose.
        out["best_f1"], out["best_f1_threshold"] = best_word_f1(gold, self.score[mask], self.words[mask]) \
            if any(g is True for g in gold) else (0.0, 1.0)
        return out

    def bootstrap(self, keep: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0) -> dict:
        """95% intervals of word F1 and removed @1% loss, resampling sites with replacement."""
        figures = np.asarray([self._resampled(keep, sites) for sites in self.site_resamples(rounds, seed)])
        figures = figures.reshape(-1, 2)
        return {"word_f1_ci": np.percentile(figures[:, 0], [2.5, 97.5]).tolist(),
                "removed_at_1pct_ci": np.percentile(figures[:, 1], [2.5, 97.5]).tolist()}

    def site_resamples(self, rounds: int, seed: int = 0):
        """`rounds` draws of how often each site is taken (sites with replacement)."""
        rng = np.random.default_rng(seed)
        for _ in range(rounds):
            yield np.bincount(rng.integers(0, self.n_sites, self.n_sites), minlength=self.n_sites)

    def _resampled(self, keep: np.ndarray, sites: np.ndarray) -> tuple[float, float]:
        """(word F1, removed @1% loss) of the labeled lines, each site counted `sites[site]` times."""
        known = self.gold >= 0
        g, k = self.gold[known] == 1, keep[known]
        weight = sites[self.site[known]] * self.words[known]
        tp, fp, fn = weight[g & k].sum(), weight[~g & k].sum(), weight[g & ~k].sum()
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        # Dropping the lines below a threshold drops a prefix of the lines sorted by score.
        if self._known_order is None:
            self._known_order = np.argsort(self.score[known], kind="stable")
        wo, go = weight[self._known_order], g[self._known_order]
        lost = np.cumsum(wo * go) / max((wo * go).sum(), 1e-12)
        removed = np.cumsum(wo * ~go) / max((wo * ~go).sum(), 1e-12)
        ok = np.concatenate(([True], lost <= LOSS_BUDGET + 1e-12))
        return f1, float(np.concatenate(([0.0], removed))[ok].max())

    def breakdown(self, keep: np.ndarray, field: str) -> dict[str, dict]:
        groups: dict[str, list[int]] = defaultdict(list)
        for i, rec in enumerate(self.records):
            groups[str(rec.get(field))].append(i)
        return {value: {"pages": len(idx), **self.metrics(keep, np.isin(self.page, idx))}
                for value, idx in sorted(groups.items())}

    def lost_lines(self, keep: np.ndarray, n: int) -> list[tuple[float, int, str]]:
        """The n content lines lost with the most words: (score, words, text)."""
        lost = np.flatnonzero((self.gold == 1) & ~keep)
        lost = lost[np.argsort(-self.words[lost], kind="stable")][:n]
        lines = [line for r in self.records for line in r["lines"]]
        return [(float(self.score[i]), int(self.words[i]), lines[i]) for i in lost]


def paired_bootstrap(before: tuple["ScoredSet", np.ndarray], after: tuple["ScoredSet", np.ndarray],
                     rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0) -> dict:
    """How `after` (a ScoredSet and its keep decisions) differs from `before` on the same
    records: the differences of word F1 and removed @1% loss (after - before) with 95%
    intervals from the same site resamples for both, and the share of resamples where
    after is at least as good. Paired, the intervals are far narrower than the two models'
    own: most of a set's spread is which sites it holds, and both models see the same."""
    (a, keep_a), (b, keep_b) = before, after
    if a.records is not b.records and len(a.records) != len(b.records):
        raise ValueError("paired_bootstrap: the two scored sets hold different records")
    diffs = np.asarray([np.subtract(b._resampled(keep_b, sites), a._resampled(keep_a, sites))
                        for sites in a.site_resamples(rounds, seed)]).reshape(-1, 2)
    return {name: {"ci": np.percentile(diffs[:, i], [2.5, 97.5]).tolist(),
                   "share_not_worse": float(np.mean(diffs[:, i] >= 0))}
            for i, name in enumerate(("word_f1", "removed_at_1pct"))}


def example_checks(folder: Path, keep: Callable[[list[str]], np.ndarray]) -> dict[str, dict]:
    """The two real pages of ../shared/examples, judged as issue 13 states (no labels ship
    with them, so what must be kept is found by the pages' own markers):
    the mirror keeps exactly its headline (line 2) and the paragraphs between its "Date:"
    line and the author bio; the news page keeps every other line and drops its three
    inline promos ("Watch: ...", "Flashback ...", "Follow ... on ...")."""
    out = {}
    mirror = folder / "ascend-wealth-mirror.txt"
    if mirror.is_file():
        lines = split_lines(mirror.read_text(encoding="utf-8"))
        date = next(i for i, line in enumerate(lines) if line.startswith("Date:"))
        bio = next(i for i in range(date + 1, len(lines)) if "is a " in lines[i] and "reporter" in lines[i])
        wanted = np.zeros(len(lines), dtype=bool)
        wanted[[1, *range(date + 1, bio)]] = True
        out["mirror"] = _example_result(lines, wanted, keep(lines))
    news = folder / "news-article.txt"
    if news.is_file():
        lines = split_lines(news.read_text(encoding="utf-8"))
        wanted = np.asarray([not line.startswith(("Watch:", "Flashback", "Follow ")) for line in lines])
        out["news"] = _example_result(lines, wanted, keep(lines))
    return out


def _example_result(lines: list[str], wanted: np.ndarray, kept: np.ndarray) -> dict:
    return {"lines": len(lines), "content_lines": int(wanted.sum()),
            "content_dropped": [int(i) + 1 for i in np.flatnonzero(wanted & ~kept)],
            "boilerplate_kept": [int(i) + 1 for i in np.flatnonzero(~wanted & kept)],
            "pass": bool((wanted == kept).all())}

