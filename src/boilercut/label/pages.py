"""The pages of a corpus to label: read with predict's readers, one `Page` per record.

Any input `predict` reads works (page files, folders of .txt pages, JSONL or .jsonl.gz,
parquet); a record may hold its text in `text_field` or, in the project's own format, a
list of `lines`. Blank lines are left out: the training data has none (data.py refuses
them), and a labeled page is written back as training data.

A page is named by its record's `id` (a page file's path), or `page-<hash>` without one,
and known by the hash of its lines too, so that a finished page is recognised after a
restart even when the corpus gave it no id.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from boilercut.corpus_io import BadRecord, Notice, RawRecord, expand_input, read_source
from boilercut.jsonl_codec import JSONLineError, decode_json_line
from boilercut.lines import split_lines

# Fields of an input record that the labeled record replaces.
REPLACED_FIELDS = ("lines", "labels", "labeled_by", "labeled_at")


@dataclass
class Page:
    id: str
    lines: list[str]
    record: dict             # the record's other fields, written back with the labels
    site: str                # pages of one site are spread out in the queue
    digest: str              # hash of the lines: finished pages are known by it too
    labels: list[str] = field(default_factory=list)     # the model's label of each line
    scores: list[float] = field(default_factory=list)   # keep score (probability of a kept label)
    strength: list[float] = field(default_factory=list)  # probability of the model's label
    uncertainty: float = 0.0  # 0..1, see queue.page_uncertainty


def lines_digest(lines: list[str]) -> str:
    return hashlib.sha1("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def site_of(record: dict, source: str) -> str:
    """A record's site: its `site` field, else the host of its `url`, else (a page file)
    its folder, else its source file."""
    if isinstance(record.get("site"), str) and record["site"]:
        return record["site"]
    if isinstance(record.get("url"), str) and urlsplit(record["url"]).hostname:
        return urlsplit(record["url"]).hostname
    return str(Path(source).parent) if source.endswith(".txt") else source


def _lines_of(data: dict, text_field: str) -> list[str] | str:
    """The record's lines, or the reason it has none."""
    if isinstance(data.get(text_field), str):
        lines = split_lines(data[text_field])
    elif isinstance(data.get("lines"), list) and all(isinstance(x, str) for x in data["lines"]):
        lines = list(data["lines"])
    else:
        return f"no text in field {text_field!r} (see --text-field) and no list of 'lines'"
    return [line for line in lines if line.strip()]


def read_pages(inputs: list[str], text_field: str = "text", input_format: str | None = None,
               limit: int | None = None) -> list[Page]:
    """The pages of `inputs`, in order, without repeats (a page whose lines an earlier
    page has is left out); at most `limit`. ValueError (one line, naming the source and
    record) for an input that cannot be read or a record that cannot be used; a record
    whose text is blank is skipped."""
    pages: list[Page] = []
    seen_digests: set[str] = set()
    seen_ids: set[str] = set()
    for name in inputs:
        for path, fmt in expand_input(name, input_format):
            # "text" is the reader's field for a page file; JSONL is parsed here, so that
            # a record in the project's format (with "lines") is accepted too.
            for item in read_source(path, fmt, text_field, parse=False):
                if limit is not None and len(pages) >= limit:
                    return pages
                if isinstance(item, Notice):
                    continue
                if isinstance(item, BadRecord):
                    raise ValueError(str(item))
                data = _decode(item) if isinstance(item, RawRecord) else item.data
                source, number = item.source, item.number
                if isinstance(data, str):
                    raise ValueError(f"{source}: record {number}: {data}")
                lines = _lines_of(data, text_field)
                if isinstance(lines, str):
                    raise ValueError(f"{source}: record {number}: {lines}")
                if not lines:
                    continue
                digest = lines_digest(lines)
                if digest in seen_digests:
                    continue
                seen_digests.add(digest)
                page_id = data.get("id") if isinstance(data.get("id"), str) and data["id"].strip() else None
                page_id = page_id or f"page-{digest}"
                if page_id in seen_ids:  # same id, other lines: both kept, told apart
                    page_id = f"{page_id}#{digest[:8]}"
                seen_ids.add(page_id)
                record = {k: v for k, v in data.items()
                          if k not in REPLACED_FIELDS and k != text_field and k != "id"}
                pages.append(Page(page_id, lines, record, site_of(data, source), digest))
    return pages


def _decode(raw: RawRecord) -> dict | str:
    """A JSONL record's fields, or the reason it cannot be used."""
    try:
        data = decode_json_line(raw.raw)
    except JSONLineError as err:
        return str(err)
    return data if isinstance(data, dict) else f"a JSON {type(data).__name__}, not an object"
