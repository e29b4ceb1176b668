"""Build the line classifier Pipeline, and the LineModel that applies it to pages.

The first stage is one scikit-learn Pipeline:
    line table -> FeatureUnion(word TF-IDF of line and neighbours, char TF-IDF of the
    line, shape features of line and neighbours + run averages) -> LogisticRegression
and an optional second stage (context_stage.ContextStage) rereads its class probabilities
of each line and its neighbours. persist.py saves both as one object.

Scoring imports neither scikit-learn nor pandas (most of the start-up): a LineModel loaded
from a model file holds stand-ins of the fitted objects (stored.py), which the scorer reads,
and builds the real Pipeline and context stage only when `model.pipeline` or
`model.context_stage` is read. Building a Pipeline (training) imports scikit-learn.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np

from boilercut.context_features import stage_proba
from boilercut.line_scores import LineScores
from boilercut.line_shape import word_counts
from boilercut.operating_points import BALANCED, OperatingPoints
from boilercut.page_lines import MAX_FEATURE_CHARS, line_batch, whole_page_columns
from boilercut.page_rows import PageRows
from boilercut.scorer import NEIGHBOURS, LinearScorer, pipeline_steps
from boilercut.stored import Stored, is_a, materialize

if TYPE_CHECKING:
    from sklearn.pipeline import FeatureUnion, Pipeline

    from boilercut.context_stage import ContextStage
    from boilercut.site_repeats import RepeatCounts
    from boilercut.site_stage import SiteStage

_UNBUILT = object()  # LineModel._scorer before its first use

# Lines featurised per model call: about 10 KB of features each, so ~200 MB per chunk.
CHUNK_LINES = 20_000


def build_features(word_ngram_max: int = 2, char_ngram_min: int = 3, char_ngram_max: int = 4,
                   min_df: int = 2, max_word_features: int | None = 200_000,
                   max_char_features: int | None = 200_000, context_window: int = 3,
                   context_text_window: int = 1, smooth: int = 6,
                   sublinear_tf: bool = True, position: bool = False,
                   shape_weight: float = 0.5, shape_clip: float | None = None,
                   line_head: bool = False) -> FeatureUnion:
    """The feature union; 0 for word_ngram_max or char_ngram_max turns that part off.

    shape_weight multiplies the standardised shape features: below 1 it regularises them
    harder than the TF-IDF columns (the L2 penalty on their weights grows by 1/w^2).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import StandardScaler

    from boilercut.features import HEAD_COLUMN, ClipValues, LineShape, Neighbours
    from boilercut.normalise import WORD_TOKEN_PATTERN, normalise_head, normalise_text

    if not shape_weight > 0:
        raise ValueError(f"features.shape_weight must be > 0, got {shape_weight}")
    for name, value in (("word_ngram_max", word_ngram_max), ("char_ngram_max", char_ngram_max),
                        ("context_window", context_window), ("smooth", smooth),
                        ("context_text_window", context_text_window)):
        if value < 0:
            raise ValueError(f"features.{name} must be >= 0, got {value}")
    if min_df < 1:
        raise ValueError(f"features.min_df must be >= 1, got {min_df}")
    parts = []
    if word_ngram_max:
        words = TfidfVectorizer(preprocessor=normalise_text, token_pattern=WORD_TOKEN_PATTERN,
                                ngram_range=(1, word_ngram_max), min_df=min_df,
                                max_features=max_word_features, sublinear_tf=sublinear_tf,
                                dtype=np.float32)
        parts.append(("words", Neighbours(words, column="text", window=context_text_window)))
    if char_ngram_max:
        if not 1 <= char_ngram_min <= char_ngram_max:
            raise ValueError(f"features.char_ngram_min must be in 1..char_ngram_max, got {char_ngram_min}")
        chars = TfidfVectorizer(preprocessor=normalise_head, analyzer="char_wb",
                                ngram_range=(char_ngram_min, char_ngram_max), min_df=min_df,
                                max_features=max_char_features, sublinear_tf=sublinear_tf,
                                dtype=np.float32)
        parts.append(("chars", Neighbours(chars, column="text", window=0)))
    if line_head:
        # The first words and marks of each line (normalise.line_head), uni- and bigrams.
        head = TfidfVectorizer(preprocessor=normalise_text, token_pattern=WORD_TOKEN_PATTERN,
                               ngram_range=(1, 2), min_df=min_df, sublinear_tf=sublinear_tf,
                               dtype=np.float32)
        parts.append(("head", Neighbours(head, column=HEAD_COLUMN, window=0)))
    steps = [LineShape(position=position), StandardScaler()]
    if shape_clip is not None:
        steps.append(ClipValues(shape_clip))
    shape = make_pipeline(*steps)
    parts.append(("shape", Neighbours(shape, column=None, window=context_window, smooth=smooth)))
    return FeatureUnion(parts, transformer_weights={"shape": shape_weight})


def build_pipeline(features: dict, classifier: dict) -> Pipeline:
    """features: keyword arguments of build_features; classifier: of LogisticRegression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([("features", build_features(**features)),
                     ("classifier", LogisticRegression(**classifier))])


def check_long_line_words(value, where: str = "long_line_words") -> int | None:
    """None, or a whole number of words >= 1."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{where} must be a whole number >= 1 or null, got {value!r}")
    return value


class _Materialized:
    """A LineModel field that may hold stand-ins (stored.py): reading it gives the real
    objects, built on first read and kept; LineModel reads the value as stored through
    stored_value() (scoring needs no real objects)."""

    def __init__(self, default=None, required: bool = False):
        self.default, self.required = default, required

    def __set_name__(self, owner, name):
        self.slot = f"_{name}_value"

    def __get__(self, obj, owner=None):
        if obj is None:
            if self.required:  # dataclass asks the class for a default: there is none
                raise AttributeError(self.slot)
            return self.default
        value = obj.__dict__[self.slot]
        if isinstance(value, Stored):
            value = obj.__dict__[self.slot] = materialize(value)
        return value

    def __set__(self, obj, value):
        obj.__dict__[self.slot] = value

    def stored_value(self, obj):
        return obj.__dict__[self.slot]


@dataclass
class LineModel:
    """A fitted Pipeline (and context stage) plus what is needed to turn their output
    into keep/drop decisions.

    long_line_words: a line of at least this many words is given to the keep labels
    whatever the classifiers say (None = off). On real pages such a line is a merged
    block, typically a table-layout cell holding a whole article behind a menu or a
    byline; the classifiers read its head as boilerplate, and one wrong drop costs
    thousands of content words.
    """

    pipeline: Pipeline = _Materialized(required=True)
    keep_labels: tuple[str, ...] = ("content",)
    threshold: float = 0.5
    metadata: dict = field(default_factory=dict)
    context_stage: ContextStage | None = _Materialized(default=None)
    long_line_words: int | None = None
    points: OperatingPoints | None = None
    site_stage: SiteStage | None = None  # rereads lines with their site's repeat counts (site_stage.py)
    _scorer: object = field(default=None, init=False, repr=False, compare=False)
    # (the pipeline as held, keep_labels, labels, keep columns): read on every call of the
    # line API, and asking the pipeline for its classes costs a share of a small page.
    _columns: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        self._scorer = _UNBUILT
        self._columns = None

    def _stored(self, name: str):
        """The pipeline or context stage as held: real objects, or stand-ins."""
        return type(self).__dict__[name].stored_value(self)

    def __getstate__(self) -> dict:
        """Pickled (multiprocessing, datasets' map workers) with the real Pipeline and
        context stage, and without the scorer, which is built again on first use."""
        state = dict(self.__dict__)
        state["_pipeline_value"], state["_context_stage_value"] = self.pipeline, self.context_stage
        del state["_scorer"]
        state.pop("_columns", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._scorer = _UNBUILT
        self._columns = None

    @property
    def labels(self) -> list[str]:
        return list(self._labels_and_keep_columns()[0])

    def _keep_columns(self) -> np.ndarray:
        cols = self._labels_and_keep_columns()[1]
        if not len(cols):
            raise ValueError(f"none of keep_labels {list(self.keep_labels)} is a model label {self.labels}")
        return cols

    def _labels_and_keep_columns(self) -> tuple[tuple[str, ...], np.ndarray]:
        """The class labels, and the columns of the keep labels among them, kept until the
        pipeline or keep_labels is replaced."""
        pipeline, keep_labels = self._stored("pipeline"), tuple(self.keep_labels)
        known = self._columns
        if known is None or known[0] is not pipeline or known[1] != keep_labels:
            labels = tuple(str(c) for c in pipeline_classes(pipeline))
            cols = np.asarray([i for i, c in enumerate(labels) if c in keep_labels], dtype=np.intp)
            cols.flags.writeable = False  # shared by every call
            known = self._columns = (pipeline, keep_labels, labels, cols)
        return known[2], known[3]

    def context_reach(self) -> int:
        """How many lines away a line's scores look: the first stage's largest window or
        smooth radius, plus the context stage's reach over the first stage's scores."""
        reach = 1  # LineShape's contains_neighbour looks one line away
        for _, part in dict(self._stored("pipeline").steps)["features"].transformer_list:
            if is_a(part, NEIGHBOURS):
                reach = max(reach, part.window, part.smooth)
        stage = self._stored("context_stage")
        if stage is None:
            return reach
        return reach + (max([stage.shift, *stage.radii]) if isinstance(stage, Stored) else stage.reach)

    def score(self, pages: Sequence[Sequence[str]], chunk_lines: int = CHUNK_LINES,
              repeats: Sequence[RepeatCounts | None] | None = None) -> LineScores:
        """What the model says about every line of the pages (line_scores.LineScores: class
        probabilities, keep scores, labels, word counts), rows in page order, from one pass.

        Lines are scored chunk_lines at a time, so memory stays bounded whatever the
        input: small pages are grouped, and a page longer than a chunk is cut into
        windows that carry context_reach() extra lines on each side and the page-level
        values of the whole page (features.PAGE_COLUMNS: repeated lines, positions),
        which makes the result the same as scoring the page whole. A page scores the same,
        to the last bit, alone and among other pages (page_rows.py).

        repeats: per page, how many other pages of its site hold each line
        (site_repeats.SiteCounts.page_repeats; None for a page without a signal), read by
        the model's site stage when it has one. Pages without a signal, and every page of
        a model without a site stage, get the probabilities they get without repeats.
        """
        proba, words = self._predict_pages(pages, chunk_lines)
        if repeats is not None and self.site_stage is not None and any(r is not None for r in repeats):
            # The site stage, then the long-line guard again (it must have the last word).
            proba = self.site_stage.apply(proba, [len(p) for p in pages], repeats)
            if self.long_line_words is not None:
                proba = self._keep_long_lines(proba, words)
        cols = self._keep_columns()
        # A sum over one column is that column (the same numbers), taken without the reduction.
        keep = (proba[:, cols[0]].copy() if len(cols) == 1 else proba[:, cols].sum(axis=1)) if len(proba) else np.zeros(0)
        return LineScores(proba, keep, words, self.labels, [len(page) for page in pages])

    def _predict_pages(self, pages: Sequence[Sequence[str]],
                       chunk_lines: int = CHUNK_LINES) -> tuple[np.ndarray, np.ndarray]:
        """(class probabilities, word counts) of every line, rows in page order (score)."""
        if len(pages) == 1 and 0 < len(pages[0]) <= chunk_lines:  # one page (the line API): no chunking
            return self._predict(pages, None)
        out, words = [np.zeros((0, len(self.labels)))], [np.zeros(0, dtype=np.int64)]
        batch, keep_rows, size = [], [], 0
        for piece, rows, whole_page in _pieces(pages, chunk_lines, self.context_reach()):
            if size and (whole_page is not None or size + len(piece) > chunk_lines):
                proba, counts = self._predict(batch, keep_rows)
                out.append(proba)
                words.append(counts)
                batch, keep_rows, size = [], [], 0
            if whole_page is not None:  # a window of a long page: a table of its own
                proba, counts = self._predict([piece], [rows], whole_page)
                out.append(proba)
                words.append(counts)
                continue
            keep_rows.append(rows + size)
            batch.append(piece)
            size += len(piece)
        if batch:
            proba, counts = self._predict(batch, keep_rows)
            out.append(proba)
            words.append(counts)
        return np.concatenate(out), np.concatenate(words)

    def _predict(self, batch: list[Sequence[str]], keep_rows: list[np.ndarray] | None,
                 whole_page: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and word counts of the rows keep_rows (None: all) of the lines of
        the pages of batch, scored as one table."""
        lines = line_batch(batch, whole_page)
        rows = PageRows.one_page(len(lines.page)) if len(batch) == 1 else PageRows(lines.page)
        scorer = self._linear_scorer()
        if scorer:
            proba, words = scorer.predict_proba_and_words(lines, rows)
        else:
            from boilercut.features import batch_table

            proba, words = self.pipeline.predict_proba(batch_table(lines)), None
        stage = self._stored("context_stage")
        if stage is not None:  # a stand-in's numbers, or the real stage's own method
            proba = stage_proba(stage, proba, rows) if isinstance(stage, Stored) else stage.predict_proba(proba, rows)
        words = _words_of_lines([line for piece in batch for line in piece], words)
        if self.long_line_words is not None:
            proba = self._keep_long_lines(proba, words)
        if keep_rows is None:
            return proba, words
        kept = np.concatenate(keep_rows)
        return proba[kept], words[kept]

    def _keep_long_lines(self, proba: np.ndarray, words: np.ndarray) -> np.ndarray:
        """Move the probability of lines of long_line_words words or more onto the keep
        labels, in the proportions the model gave them (evenly if it gave them none)."""
        long_rows = np.flatnonzero(words >= self.long_line_words)
        if not len(long_rows):
            return proba
        cols = self._keep_columns()
        share = proba[np.ix_(long_rows, cols)]
        total = share.sum(axis=1, keepdims=True)
        share = np.divide(share, total, out=np.full_like(share, 1 / len(cols)), where=total > 0)
        proba = proba.copy()
        proba[long_rows] = 0.0
        proba[np.ix_(long_rows, cols)] = share
        return proba

    def _linear_scorer(self) -> LinearScorer | None:
        """The Pipeline's probabilities computed part by part (scorer.py): built once, on
        first use; None for a Pipeline it does not support, which scikit-learn then scores."""
        if self._scorer is _UNBUILT:
            self._scorer = LinearScorer.from_pipeline(self._stored("pipeline"))
        return self._scorer

    @property
    def default_point(self) -> str:
        return self.points.default if self.points is not None else BALANCED

    def page_thresholds(self, pages: Sequence[Sequence[str]], scores: Sequence[Sequence[float]],
                        keep: str | None = None, threshold: float | None = None,
                        words: Sequence[Sequence[int]] | None = None) -> np.ndarray:
        """The keep threshold of each page (scores: its lines' keep scores, as score(pages).keep
        gives them; words: their word counts when already counted): `threshold` for all
        when given, else that of operating point `keep` (None: the model's default point;
        see operating_points.py). A model without operating points has only its own
        threshold, named "balanced"."""
        if threshold is not None:
            return np.full(len(pages), float(threshold))
        if self.points is not None:
            return self.points.page_thresholds(pages, scores, keep, words)
        self.check_point(keep)
        return np.full(len(pages), float(self.threshold))

    def line_thresholds(self, pages: Sequence[Sequence[str]], scored: LineScores,
                        keep: str | None = None, threshold: float | None = None) -> np.ndarray:
        """page_thresholds of the pages as score(pages) scored them, repeated for every
        line of each page (one array, as scored.keep)."""
        cuts = self.page_thresholds(pages, scored.by_page(scored.keep), keep, threshold, scored.by_page(scored.words))
        return np.repeat(cuts, scored.page_sizes)

    def check_point(self, keep: str | None) -> None:
        """ValueError unless keep is None or one of the model's operating points."""
        if self.points is not None:
            self.points.check(keep)
        elif keep not in (None, BALANCED):
            raise ValueError(f"unknown operating point {keep!r}; this model has only {BALANCED!r}")


def pipeline_classes(pipeline) -> list:
    """The class labels of a fitted Pipeline (its last step's classes_), or of its stand-in."""
    if isinstance(pipeline, Stored):
        return list(pipeline_steps(pipeline)[-1].classes_)
    return list(pipeline.classes_)


def _pieces(pages: Sequence[Sequence[str]], chunk_lines: int, reach: int):
    """Yield (lines to featurise, indices of the rows whose scores are kept, None for a
    whole page or, for a window of a longer page, the page's PAGE_COLUMNS of its lines)
    in page order."""
    if chunk_lines <= 2 * reach:
        raise ValueError(f"chunk_lines must exceed twice the context reach ({reach}), got {chunk_lines}")
    for page in pages:
        n = len(page)
        if n <= chunk_lines:
            yield page, np.arange(n), None
            continue
        whole_page = whole_page_columns(page, chunk_lines)
        step = chunk_lines - 2 * reach
        for start in range(0, n, step):
            lo, hi = max(start - reach, 0), min(start + step + reach, n)
            yield (page[lo:hi], np.arange(start - lo, min(start + step, n) - lo),
                   {name: values[lo:hi] for name, values in whole_page.items()})


def _words_of_lines(lines: Sequence[str], clipped_words: np.ndarray | None) -> np.ndarray:
    """Word counts of the lines, from the counts the features took of their clipped text
    when there are some. Only lines clipped to their head and tail (longer than
    MAX_FEATURE_CHARS) are counted again: replacing lone surrogates by U+FFFD changes no
    count, both being neither space nor CJK."""
    if clipped_words is None:
        return word_counts(list(lines))
    words = clipped_words.astype(np.int64)
    if max(map(len, lines), default=0) > MAX_FEATURE_CHARS:
        # word_counts of the long lines alone, in one call: its arrays count lines of up to
        # LONG_LINE_CHARS faster than count_words (str.split and a regex per line), which it
        # agrees with and leaves the longer ones to.
        long_rows = [i for i, line in enumerate(lines) if len(line) > MAX_FEATURE_CHARS]
        words[long_rows] = word_counts([lines[i] for i in long_rows])
    return words
