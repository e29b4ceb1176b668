"""The audit trail of a corpus run: what cleaning removed from each document, line by line.

    python -m predict crawl.jsonl.gz --output clean.jsonl.gz --audit audit.jsonl.gz

One JSON line per document that lost at least one line (or was dropped by the guard), in
input order:

    {"source": "crawl.jsonl.gz", "record": 17, "id": "doc-17", "dropped": false,
     "removed": [{"line": 1, "label": "nav", "score": 0.0213, "text": "Home | News"}, ...]}

source and record (1-based: the JSONL line, the parquet row, 1 for a page file) give the
document's position in the input; id is its id field when it has one (--id-field, else
"id"). Each removed line has its number in the document (from 1), the most probable
label, the keep score (rounded to 4 digits, as `predict --json` writes it) and its text.
`dropped` is true when --max-removed-share dropped the whole document: its kept lines
went too, and are not listed.

The audit is written like the output (corpus_io.CorpusWriter: a temporary file renamed
when the run succeeds, multi-member gzip for .gz, the same --compression-level); its rows
are built and encoded where the batch is cleaned (the --jobs workers), in input order.
"""
from __future__ import annotations

from contextlib import nullcontext

from boilercut.batch import Cleaned
from boilercut.corpus_io import CorpusWriter, Record, format_of

SCORE_DIGITS = 4


def audit_row(record: Record, cleaned: Cleaned, id_field: str | None) -> dict | None:
    """The audit line of one cleaned document (clean_batch(audit=True)); None when it lost
    nothing."""
    if not cleaned.removed and not cleaned.dropped:
        return None
    row = {"source": record.source, "record": record.number}
    name = id_field or "id"
    if name in record.data:
        row["id"] = record.data[name]
    row["dropped"] = cleaned.dropped
    row["removed"] = [{"line": number, "label": label, "score": round(score, SCORE_DIGITS), "text": text}
                      for number, label, score, text in cleaned.removed or ()]
    return row


def check_audit_path(path: str) -> None:
    """ValueError unless path names a JSON Lines file (.jsonl or .jsonl.gz, say)."""
    if path == "-":
        raise ValueError("--audit needs a file name; standard output is for the cleaned corpus")
    if format_of(path) == "parquet":
        raise ValueError(f"--audit writes JSON Lines; name it .jsonl or .jsonl.gz, not {path}")


def open_audit(path: str | None, compression_level: int | None = None):
    """A CorpusWriter for the audit (a context manager), or a null context giving None."""
    if path is None:
        return nullcontext(None)
    level = compression_level if str(path).endswith(".gz") else None
    return CorpusWriter(path, "jsonl", None, level)
