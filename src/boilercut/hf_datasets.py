"""Clean a HuggingFace `datasets.Dataset` with `Dataset.map(batched=True)`.

    from datasets import load_dataset
    from boilercut import clean_dataset
    ds = load_dataset("HuggingFaceFW/fineweb", name="sample-10BT", split="train")
    clean = clean_dataset(ds, text_column="text", num_proc=8)

The text column is replaced by the kept lines; the columns lines_kept, lines_removed and
words_removed_share are added. With max_removed_share the documents the guard drops are
left out of the result. With num_proc, each worker process loads the model once.
"""
from __future__ import annotations

from pathlib import Path

from boilercut.batch import STATS_FIELDS, check_options, clean_texts
from boilercut.model import LineModel
from boilercut.persist import load_model

# Documents per map() call; each call scores all its documents in one model call.
BATCH_SIZE = 1000

_loaded: dict[str, LineModel] = {}


def _model(model: LineModel | str) -> LineModel:
    """A model object as is; a path loaded once per process (map workers get the path only)."""
    if isinstance(model, LineModel):
        return model
    if model not in _loaded:
        _loaded[model] = load_model(model)
    return _loaded[model]


def _check_text_column(ds, text_column: str) -> None:
    """ValueError for a missing column; TypeError naming the column when its type is not
    text (ints, lists, ...): before any work, not from deep inside the cleaning."""
    if text_column not in ds.column_names:
        raise ValueError(f"text_column {text_column!r} is not a column of the dataset {ds.column_names}")
    feature = (ds.features or {}).get(text_column)
    kind = getattr(feature, "dtype", None) or type(feature).__name__.lower()
    if feature is not None and kind not in ("string", "large_string"):
        first = repr(ds[0][text_column])[:60] if len(ds) else "none"
        raise TypeError(f"text_column {text_column!r} holds {kind} values, not text (row 0: {first})")


def _check_texts(texts: list, rows: list[int], text_column: str) -> None:
    """TypeError naming the first row whose text is not a str: a null in a string column
    (a document without text) is refused, as predict refuses such a record, not cleaned to ""."""
    for row, text in zip(rows, texts):
        if not isinstance(text, str):
            what = "null" if text is None else f"a {type(text).__name__}"
            raise TypeError(f"text_column {text_column!r} is {what} in row {row}; drop such rows first, "
                             f"e.g. ds.filter(lambda r: r[{text_column!r}] is not None)")


def _clean_batch(batch: dict, rows: list[int], text_column: str, model, threshold, mode, max_removed_share,
                 keep=None) -> dict:
    _check_texts(batch[text_column], rows, text_column)
    results = clean_texts(_model(model), batch[text_column], threshold, mode, max_removed_share, keep)
    keep = [i for i, r in enumerate(results) if not r.dropped]
    out = {name: [values[i] for i in keep] for name, values in batch.items()}
    out[text_column] = [results[i].text for i in keep]
    for name in STATS_FIELDS:
        out[name] = [getattr(results[i], name) for i in keep]
    return out


def clean_dataset(ds, text_column: str = "text", model: LineModel | str | Path | None = None,
                  threshold: float | None = None, mode: str = "lines",
                  max_removed_share: float | None = None, num_proc: int | None = None,
                  keep: str | None = None,
                  batch_size: int = BATCH_SIZE, **map_kwargs):
    """The dataset cleaned, with the statistics columns; other map() options pass through.

    model: a LineModel, a model file, or None for the default model. threshold None uses
    the threshold of operating point `keep` (None: the model's default point). mode "trim" removes boilerplate only at the start and end of a document.
    A text column that is not text, or a null text, is a TypeError naming the column (and row).
    """
    from datasets import Features, Value

    check_options(threshold, mode, max_removed_share)
    _check_text_column(ds, text_column)
    if not isinstance(model, LineModel):
        if model is None:
            from boilercut.first_model import default_model_file  # trained here if absent, not in each worker

            model = default_model_file()
        model = str(model)
        _model(model)  # fail here, with a clear ModelFileError, rather than inside a worker
    features = Features({**ds.features, "lines_kept": Value("int64"), "lines_removed": Value("int64"),
                         "words_removed_share": Value("float64")})
    # The map function returns whole batches (possibly fewer rows when the guard drops
    # documents), so the input columns are replaced rather than extended.
    return ds.map(_clean_batch, batched=True, with_indices=True, batch_size=batch_size, num_proc=num_proc,
                  remove_columns=ds.column_names, features=features,
                  fn_kwargs={"text_column": text_column, "model": model, "threshold": threshold,
                             "mode": mode, "max_removed_share": max_removed_share, "keep": keep},
                  desc="boilercut", **map_kwargs)
