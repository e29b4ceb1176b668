"""Clean a HuggingFace `datasets.Dataset` with `Dataset.map(batched=True)`.

    from datasets import load_dataset
    from boilercut import clean_dataset
    ds = load_dataset("HuggingFaceFW/fineweb", name="sample-10BT", split="train")
    clean = clean_dataset(ds, text_column="text", num_proc=8)

The text column is replaced by the kept lines; the columns lines_kept, lines_removed and
words_removed_share are added. With max_removed_share the documents the guard drops are
left out of the result. With num_proc, each worker process loads the model once.

datasets caches the result of map() under a fingerprint of the function and its
arguments. For a model file those would be its path only, and a model retrained into the
same path would silently get the old model's cached results: the fingerprint includes
the SHA-256 of the model's metadata file, which holds the model file's own SHA-256 (checked
on every load) and the thresholds.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from boilercut.batch import SITE_STATS_FIELD, STATS_FIELDS, check_options, clean_batch
from boilercut.lines import split_lines
from boilercut.model import LineModel
from boilercut.persist import ModelFileError, load_model, metadata_path, read_metadata
from boilercut.site_repeats import (
    LINE_HASH_VERSION,
    MIN_SITE_PAGES,
    SiteCounts,
    line_hashes,
    record_site,
    site_hash,
    url_host,
)

# Documents per map() call; each call scores all its documents in one model call.
BATCH_SIZE = 1000

_loaded: dict[tuple[str, str], LineModel] = {}


def model_key(path: str | Path) -> str:
    """The SHA-256 of a model's metadata file: it names the model file's SHA-256, which
    load_model checks, and the thresholds, so it changes whenever the model does."""
    read_metadata(path)  # a ModelFileError saying what is missing or broken
    return hashlib.sha256(metadata_path(Path(path)).read_bytes()).hexdigest()


def _model(model: LineModel | str, key: str | None = None, trust_model_file: bool = False) -> LineModel:
    """A model object as is; a path loaded once per process and model_key (map workers get
    the path and key only), refused when the file is no longer the model of that key."""
    if isinstance(model, LineModel):
        return model
    if (model, key) not in _loaded:
        loaded = load_model(model, trust_model_file=trust_model_file)
        if model_key(model) != key:
            raise ModelFileError(f"{model}: the model file changed while the dataset was being cleaned")
        _loaded[model, key] = loaded
    return _loaded[model, key]


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
                 keep=None, model_key=None, site_counts: SiteCounts | None = None,
                 site_column: str | None = None, trust_model_file: bool = False) -> dict:
    _check_texts(batch[text_column], rows, text_column)
    site_options = {}
    if site_counts is not None:
        site_options = {"site_counts": site_counts, "sites": _sites(batch, site_column)}
    results = clean_batch(_model(model, model_key, trust_model_file), batch[text_column], threshold, mode, max_removed_share, keep,
                          **site_options)
    keep = [i for i, r in enumerate(results) if not r.dropped]
    out = {name: [values[i] for i in keep] for name, values in batch.items()}
    out[text_column] = [results[i].text for i in keep]
    for name in STATS_FIELDS:
        out[name] = [getattr(results[i], name) for i in keep]
    if site_counts is not None:
        out[SITE_STATS_FIELD] = [results[i].site_repeated_removed for i in keep]
    return out


def _sites(batch: dict, site_column: str | None) -> list[str | None]:
    """The site of each row: its site_column, or the host of its "url" column."""
    if site_column is not None:
        return [record_site({site_column: value}, site_column) for value in batch[site_column]]
    return [url_host(url) for url in batch.get("url", [None] * len(next(iter(batch.values()))))]


def _signature_batch(batch: dict, text_column: str, site_column: str | None, line_hash_version: int) -> dict:
    """Each row's site hash, whether it is counted (it has a site and a text), and its
    distinct line hashes. (line_hash_version is in the map's arguments so that datasets'
    cache of signatures made by another version of the hash is not reused.)"""
    site_hashes, counted, hashes = [], [], []
    for site, text in zip(_sites(batch, site_column), batch[text_column]):
        counted.append(site is not None and isinstance(text, str))
        site_hashes.append(site_hash(site) if counted[-1] else np.uint64(0))
        line_hash = line_hashes(split_lines(text)) if counted[-1] else np.zeros(0, dtype=np.uint64)
        hashes.append(np.unique(line_hash[line_hash != 0]))
    # uint64 arrays, not Python ints (past 2**63 those overflow in datasets' workers),
    # and no nulls (a nullable uint64 column does not come back as integers).
    return {"site_hash": np.asarray(site_hashes, dtype=np.uint64), "counted": counted, "line_hashes": hashes}


def dataset_signatures(ds, text_column: str = "text", site_column: str | None = None,
                       batch_size: int = BATCH_SIZE, num_proc: int | None = None, **map_kwargs):
    """A Dataset of each row's site hash and distinct line hashes: the first map() of
    clean_dataset(site_repeats=True). Being a map, it runs in num_proc processes and is
    cached under the dataset's fingerprint (hashing does not depend on the model)."""
    from datasets import Features, Sequence, Value

    columns = [text_column] + ([site_column] if site_column else (["url"] if "url" in ds.column_names else []))
    return ds.select_columns(columns).map(
        _signature_batch, batched=True, batch_size=batch_size, num_proc=num_proc, remove_columns=columns,
        features=Features({"site_hash": Value("uint64"), "counted": Value("bool"),
                           "line_hashes": Sequence(Value("uint64"))}),
        fn_kwargs={"text_column": text_column, "site_column": site_column, "line_hash_version": LINE_HASH_VERSION},
        desc="boilercut: hashing lines per site", **map_kwargs)


def count_dataset_sites(ds, text_column: str = "text", site_column: str | None = None,
                        min_site_pages: int = MIN_SITE_PAGES, batch_size: int = BATCH_SIZE,
                        num_proc: int | None = None, **map_kwargs) -> SiteCounts:
    """SiteCounts of a Dataset's rows (the first pass of clean_dataset(site_repeats=True)):
    the hashes come from a map() (dataset_signatures), the counting reads them as arrays."""
    counts = SiteCounts(min_site_pages)
    signatures = dataset_signatures(ds, text_column, site_column, batch_size, num_proc, **map_kwargs)
    # Arrow batches: the hashes of a batch are one uint64 array and its row offsets.
    for batch in signatures.with_format("arrow").iter(batch_size=batch_size):
        hashes = batch.column("line_hashes").combine_chunks()
        values = hashes.flatten().to_numpy(zero_copy_only=False).astype(np.uint64, copy=False)
        offsets = hashes.offsets.to_numpy()
        sites = batch.column("site_hash").to_numpy()
        for row in np.flatnonzero(batch.column("counted").to_numpy(zero_copy_only=False)):
            counts.add_hashes(sites[row], values[offsets[row]:offsets[row + 1]])
    counts.compact()
    return counts


def clean_dataset(ds, text_column: str = "text", model: LineModel | str | Path | None = None,
                  threshold: float | None = None, mode: str = "lines",
                  max_removed_share: float | None = None, num_proc: int | None = None,
                  keep: str | None = None,
                  batch_size: int = BATCH_SIZE, site_repeats: bool = False, site_column: str | None = None,
                  trust_model_file: bool = False, **map_kwargs):
    """The dataset cleaned, with the statistics columns; other map() options pass through.

    model: a LineModel, a model file, or None for the default model. threshold None uses
    the threshold of operating point `keep` (None: the model's default point). mode "trim" removes boilerplate only at the start and end of a document.
    A text column that is not text, or a null text, is a TypeError naming the column (and row).
    site_repeats: first count, per site (site_column, or the host of the "url" column), the
    rows holding each line, then clean with the counts (the model's site stage reads them)
    and add the column lines_removed_site_repeated.
    trust_model_file: load a model file as load_model(trust_model_file=True) does, here and
    in the map workers (any pickle: only for files you trust).
    """
    from datasets import Features, Value

    check_options(threshold, mode, max_removed_share)
    _check_text_column(ds, text_column)
    key = None
    if not isinstance(model, LineModel):
        if model is None:
            from boilercut.first_model import default_model_file  # trained here if absent, not in each worker

            model = default_model_file()
        model = str(model)
        key = model_key(model)  # part of map()'s fingerprint: a retrained model is not the cached one
        _model(model, key, trust_model_file)  # fail here, with a clear ModelFileError, rather than inside a worker
    features = Features({**ds.features, "lines_kept": Value("int64"), "lines_removed": Value("int64"),
                         "words_removed_share": Value("float64")})
    site_counts = None
    if site_repeats:
        if site_column is not None and site_column not in ds.column_names:
            raise ValueError(f"site_column {site_column!r} is not a column of the dataset {ds.column_names}")
        stage = _model(model, key, trust_model_file).site_stage
        # Only the map options that cannot clash with the cleaning map's (its cache file name).
        shared = {k: v for k, v in map_kwargs.items() if k in ("keep_in_memory", "load_from_cache_file")}
        site_counts = count_dataset_sites(ds, text_column, site_column,
                                          stage.min_site_pages if stage is not None else MIN_SITE_PAGES, batch_size,
                                          num_proc, **shared)
        features[SITE_STATS_FIELD] = Value("int64")
    elif site_column is not None:
        raise ValueError("site_column needs site_repeats=True")
    # The map function returns whole batches (possibly fewer rows when the guard drops
    # documents), so the input columns are replaced rather than extended.
    return ds.map(_clean_batch, batched=True, with_indices=True, batch_size=batch_size, num_proc=num_proc,
                  remove_columns=ds.column_names, features=features,
                  fn_kwargs={"text_column": text_column, "model": model, "threshold": threshold,
                             "mode": mode, "max_removed_share": max_removed_share, "keep": keep,
                             "model_key": key, "site_counts": site_counts, "site_column": site_column,
                             "trust_model_file": trust_model_file},
                  desc="boilercut", **map_kwargs)
