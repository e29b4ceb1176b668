"""The bundled corpus: every record valid, and data/pages.jsonl in sync with data/authored/."""
import json
import sys

import pytest

from boilercut.authored import AuthoredFormatError, parse_authored
from boilercut.data import DEFAULT_LABELS, validate_records
from conftest import REPO

DATA = REPO / "data"
sys.path.insert(0, str(DATA))
from build import compile_pages, site_folders  # noqa: E402  (data/build.py is a script, not a package module)


def bundled_records():
    with (DATA / "pages.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_every_bundled_record_is_valid():
    records = bundled_records()
    validate_records(records, labels=DEFAULT_LABELS)  # fields, lengths, labels, ids, duplicates, empty lines
    assert len(records) >= 400
    assert sum(len(r["lines"]) for r in records) >= 20_000
    assert len({r["site_kind"] for r in records}) >= 10
    assert len({r["lang"] for r in records}) >= 6
    # Pages written as lines have 5 to 300; the extractors decide how many a rendered view has.
    assert all(5 <= len(r["lines"]) <= 300 for r in records if not r["id"].startswith("html-"))
    assert all(1 <= len(r["lines"]) <= 300 for r in records)


def test_bundled_data_covers_twelve_languages_with_40_pages_each():
    from collections import Counter

    pages = Counter(r["lang"] for r in bundled_records())
    assert len(pages) >= 12 and min(pages.values()) >= 40, pages


def test_authored_pages_outside_5_to_300_lines_are_refused(tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("### id=s lang=en site_kind=news style=raw\nC one\nC two\nN three\nF four\n", encoding="utf-8")
    with pytest.raises(ValueError, match="page s has 4 lines; authored pages have 5 to 300"):
        compile_pages([short])
    short.write_text(short.read_text(encoding="utf-8") + "F five\n", encoding="utf-8")
    assert len(compile_pages([short])[0]["lines"]) == 5


def test_pages_jsonl_is_the_compiled_authored_files():
    sites = site_folders()
    if sites:  # rendering the HTML sites needs the extractors of the [data] extra
        pytest.importorskip("trafilatura")
        pytest.importorskip("resiliparse")
    compiled = compile_pages(sorted((DATA / "authored").glob("*.txt")), sites)
    assert compiled == bundled_records(), "data/pages.jsonl is stale: run python data/build.py"


def test_authored_format_errors_name_file_and_line():
    with pytest.raises(AuthoredFormatError, match=r"x.txt:3: expected '<C\|N\|K\|F\|\?> <text>'"):
        parse_authored("### id=a lang=en\nC fine\nX not a label\n", "x.txt")
    with pytest.raises(AuthoredFormatError, match="x.txt:1: text before the first"):
        parse_authored("C orphan line\n", "x.txt")
    assert parse_authored("### id=a lang=en\nC one\n? two\n")[0]["labels"] == ["content", None]
