"""Load and validate labeled pages, and split them by page.

A record is one page: {"id": str, "lines": [str, ...], "labels": [str | None, ...], ...}.
labels[i] labels lines[i]; None means unknown (context only, never trained or scored).
Files are JSON Lines (.jsonl, .jsonl.gz) or parquet, read with HuggingFace `datasets`.
"""
from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_LABELS = ("content", "nav", "clickbait", "footer")
REQUIRED_FIELDS = ("id", "lines", "labels")


class DataError(ValueError):
    """A labeled record or file that cannot be used; the message names the file and record."""


def _where(record: dict, index: int) -> str:
    origin = record.get("_file", "records")
    return f"{origin}: record {index + 1} (id={record.get('id')!r})"


def validate_records(records: Sequence[dict], labels: Iterable[str] | None = None,
                     allow_empty_lines: bool = False, duplicate_pages: str = "error") -> None:
    """Raise DataError naming the first bad record: fields, lengths, labels, ids, duplicates.

    duplicate_pages: "error" (training data: a page twice would sit in two splits) or
    "warn" (evaluation sets: real corpora hold pages with identical lines, and scoring
    them twice is what happens to them in use)."""
    if duplicate_pages not in ("error", "warn"):
        raise ValueError(f"duplicate_pages must be 'error' or 'warn', got {duplicate_pages!r}")
    if not records:
        raise DataError("no records: the dataset is empty")
    known = set(labels) if labels is not None else None
    seen_ids: dict[str, int] = {}
    seen_pages: dict[str, str] = {}
    duplicates = 0
    for i, rec in enumerate(records):
        where = _where(rec, i)
        missing = [f for f in REQUIRED_FIELDS if f not in rec or rec[f] is None]
        if missing:
            raise DataError(f"{where}: missing field(s) {', '.join(missing)}")
        if not isinstance(rec["id"], str) or not rec["id"].strip():
            raise DataError(f"{where}: id must be a non-empty string")
        lines, labs = rec["lines"], rec["labels"]
        if not isinstance(lines, list) or not isinstance(labs, list):
            raise DataError(f"{where}: lines and labels must be lists")
        if len(lines) != len(labs):
            raise DataError(f"{where}: {len(lines)} lines but {len(labs)} labels")
        if not lines:
            raise DataError(f"{where}: page has no lines")
        for j, (line, lab) in enumerate(zip(lines, labs)):
            if not isinstance(line, str):
                raise DataError(f"{where}: line {j + 1} is {type(line).__name__}, not a string")
            if not allow_empty_lines and not line.strip():
                raise DataError(f"{where}: line {j + 1} is empty")
            if lab is not None and (not isinstance(lab, str) or (known is not None and lab not in known)):
                raise DataError(f"{where}: line {j + 1} has label {lab!r}, not one of {sorted(known or [])}")
        if rec["id"] in seen_ids:
            raise DataError(f"{where}: duplicate id, first used by record {seen_ids[rec['id']] + 1}")
        seen_ids[rec["id"]] = i
        digest = hashlib.sha1("\n".join(lines).encode("utf-8")).hexdigest()
        if digest in seen_pages:
            message = f"{where}: same lines as page {seen_pages[digest]!r} (duplicate page)"
            if duplicate_pages == "error":
                raise DataError(message)
            duplicates += 1
            if duplicates == 1:
                logger.warning("%s; duplicates are scored as they are", message)
            continue
        seen_pages[digest] = rec["id"]
    if duplicates > 1:
        logger.warning("%d pages repeat the lines of an earlier page", duplicates)


def _builder_for(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz")):
        return "json"
    if name.endswith(".parquet"):
        return "parquet"
    raise DataError(f"{path}: unsupported file type (expected .jsonl, .jsonl.gz or .parquet)")


def load_records(files: Sequence[str | Path], cache_dir: str | None = None) -> list[dict]:
    """Read every record of `files` with `datasets`, tagging each with its file for error messages."""
    import datasets  # heavy import, only needed when loading data

    records: list[dict] = []
    for file in files:
        path = Path(file)
        if not path.is_file():
            raise DataError(f"{path}: no such data file")
        if path.stat().st_size == 0:  # datasets' error on it has no message
            raise DataError(f"{path}: no pages in this file")
        builder = _builder_for(path)
        _check_json_syntax(path) if builder == "json" else None
        try:
            # Without a cache_dir, datasets would still write Arrow files under ~/.cache:
            # build them in a throwaway folder and keep the table in memory instead.
            with tempfile.TemporaryDirectory(prefix="boilercut-ds-") as scratch:
                ds = datasets.load_dataset(builder, data_files=str(path), split="train",
                                           cache_dir=cache_dir or scratch,
                                           keep_in_memory=cache_dir is None)
        except Exception as err:  # datasets wraps parser errors in many types
            first_line = (str(err).splitlines() or [type(err).__name__])[0]
            raise DataError(f"{path}: cannot be read as {builder}: {first_line}") from err
        if len(ds) == 0:
            raise DataError(f"{path}: no pages in this file")
        for rec in ds.to_list():
            rec["_file"] = str(path)
            records.append(rec)
        logger.info("read %d pages from %s", len(ds), path)
    return records


def _check_json_syntax(path: Path) -> None:
    """Report the first unusable JSON line with its number (datasets' own error omits it):
    not UTF-8, not JSON, nested deeper than jsonl_codec.MAX_JSON_DEPTH, not an object; or a
    file without a record (datasets' error on it has no message)."""
    import gzip

    from boilercut.jsonl_codec import JSONLineError, decode_json_line

    opener = gzip.open if path.name.endswith(".gz") else open
    records = 0
    with opener(path, "rb") as f:
        for number, line in enumerate(f, start=1):
            if line.isspace():
                continue
            try:
                obj = decode_json_line(line)
            except JSONLineError as err:
                raise DataError(f"{path}:{number}: {err}") from None
            if not isinstance(obj, dict):
                raise DataError(f"{path}:{number}: expected a JSON object per line")
            records += 1
    if not records:
        raise DataError(f"{path}: no pages in this file")


GROUP_FIELD = "site"  # pages sharing this field's value always fall in the same split


def split_by_page(records: Sequence[dict], fractions: Sequence[float], seed: int) -> list[list[dict]]:
    """Shuffle pages with `seed` and cut them into len(fractions) disjoint splits (never by line).

    Pages with the same GROUP_FIELD value move together: the two views of one authored HTML
    page, and the pages of one site, share text and chrome, and a test page whose site was
    trained on would flatter the model. Pages without the field are groups of one, named
    by their id.

    The shuffle orders groups by a seeded hash of their name, not by a random permutation
    of their positions: adding a site then moves only the pages next to a split boundary,
    where a permutation re-dealt every page. With a permutation, comparing the model
    before and after a data change compared two different training sets as well (18 new
    sites moved realweb dev-raw's removal @1% by 8 points that the sites did not cause)."""
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions must be >= 0 and sum to 1, got {list(fractions)}")
    keys: dict = {}
    group = [keys.setdefault(group_name(r, i), len(keys)) for i, r in enumerate(records)]
    members: list[list[int]] = [[] for _ in keys]
    for i, g in enumerate(group):
        members[g].append(i)
    names = list(keys)
    order = sorted(range(len(names)), key=lambda g: _seeded_hash(seed, names[g]))
    bounds = np.cumsum([0.0, *fractions]) * len(records)
    splits: list[list[dict]] = [[] for _ in fractions]
    placed = 0
    for g in order:
        # A group goes to the split its middle page would fall in.
        middle = placed + len(members[g]) / 2
        k = min(int(np.searchsorted(bounds, middle, side="right")) - 1, len(fractions) - 1)
        splits[k] += [records[i] for i in members[g]]
        placed += len(members[g])
    return splits


def group_name(record: dict, index: int) -> str:
    """The name a page's split group is hashed by: its site, else its id, else its position."""
    if record.get(GROUP_FIELD):
        return f"site:{record[GROUP_FIELD]}"
    return f"id:{record['id']}" if record.get("id") is not None else f"page:{index}"


def _seeded_hash(seed: int, name: str) -> bytes:
    return hashlib.blake2b(f"{seed}\0{name}".encode("utf-8", "surrogatepass"), digest_size=8).digest()


def test_split_of(model_config: dict | None, cache_dir: str | None = None) -> tuple[list[dict], str]:
    """(the test pages a model was trained with, a description), from the config stored in
    its metadata: its explicit test files, or the test part of its seeded page split."""
    data = (model_config or {}).get("data")
    if not data or data.get("test_files"):
        files = (data or {}).get("test_files")
        if not files:
            raise ValueError("the model's metadata does not say how it was split; pass eval.files=[...]")
        return load_records(files, cache_dir), "test files"
    records = load_records(data["files"], cache_dir)
    test = split_by_page(records, data["split"], int(data["seed"]))[2]
    if not test:
        raise ValueError("the model's test split is empty; pass eval.files=[...]")
    return test, "test split of " + ", ".join(Path(f).name for f in data["files"])


def file_fingerprint(files: Sequence[str | Path]) -> list[dict]:
    """Name, size and SHA-256 of each data file, for the model's metadata."""
    out = []
    for file in files:
        path = Path(file)
        out.append({"file": str(path), "bytes": path.stat().st_size,
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    return out
