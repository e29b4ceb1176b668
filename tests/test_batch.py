"""Cleaning documents in batches, and streaming corpus readers and writers (in process)."""
import gzip
import json
import zlib

import pytest

from boilercut.batch import clean_batch, keep_decisions
from boilercut.corpus import BadRecordError, clean_corpus
from boilercut.corpus_io import BadRecord, CorpusWriter, read_source
from boilercut.lines import count_words
from conftest import TINY_PAGE

LINES = TINY_PAGE.split("\n")
KEPT = LINES[2:4]  # the two news sentences; the tiny model drops menus, teasers, footer


def test_clean_batch_keeps_content_and_counts(tiny_model):
    [doc] = clean_batch(tiny_model, [TINY_PAGE])
    assert doc.text == "\n".join(KEPT)
    assert (doc.lines_kept, doc.lines_removed, doc.dropped) == (2, 6, False)
    removed = sum(count_words(line) for line in LINES) - sum(count_words(line) for line in KEPT)
    assert doc.words_removed_share == pytest.approx(removed / sum(count_words(line) for line in LINES))


def test_clean_batch_empty_document_has_zero_share(tiny_model):
    assert clean_batch(tiny_model, [""])[0].stats() == {"lines_kept": 0, "lines_removed": 0, "words_removed_share": 0.0}


def test_trim_mode_keeps_the_inside_of_a_document():
    assert keep_decisions([0.1, 0.9, 0.2, 0.8, 0.1], 0.5, "trim") == [False, True, True, True, False]
    assert keep_decisions([0.1, 0.9, 0.2, 0.8, 0.1], 0.5, "lines") == [False, True, False, True, False]
    assert keep_decisions([0.1, 0.2], 0.5, "trim") == [False, False]


@pytest.mark.parametrize("mode", ["lines", "trim"])
@pytest.mark.parametrize("threshold", [None, 0.2, 0.5, 0.9])
def test_a_batch_is_cleaned_as_each_page_alone(tiny_model, mode, threshold):
    # The batch's decisions and word sums are computed for all pages at once: they must be
    # each page's own keep_decisions and summarise, empty pages and guard included.
    from boilercut.batch import summarise
    from boilercut.lines import split_lines

    pages = [TINY_PAGE, "", "Only one line here", TINY_PAGE.upper(), "\n".join(LINES[::-1]), "", LINES[2]]
    got = clean_batch(tiny_model, pages, threshold=threshold, mode=mode, max_removed_share=0.6)
    for page, cleaned in zip(pages, got):
        lines = split_lines(page)
        scores = tiny_model.score([lines]).keep
        cut = tiny_model.page_thresholds([lines], [scores], None, threshold)[0]
        assert cleaned == summarise(lines, keep_decisions(scores, cut, mode), 0.6)


def test_guard_drops_a_mostly_boilerplate_document(tiny_model):
    [doc] = clean_batch(tiny_model, [TINY_PAGE], max_removed_share=0.1)
    assert doc.dropped and doc.text == "" and doc.lines_kept == 2


@pytest.mark.parametrize("bad", [{"threshold": 2}, {"mode": "middle"}, {"max_removed_share": -0.1}])
def test_bad_options_are_value_errors(tiny_model, bad):
    with pytest.raises(ValueError):
        clean_batch(tiny_model, [TINY_PAGE], **bad)


def test_jsonl_reader_names_bad_records(tmp_path):
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write('{"text": "a"}\n{"text": 3}\n\n{oops\n[1]\n{"body": "x"}\n')
    items = list(read_source(str(path), "jsonl"))
    assert [type(i).__name__ for i in items] == ["Record", "BadRecord", "BadRecord", "BadRecord", "BadRecord"]
    assert [i.number for i in items] == [1, 2, 4, 5, 6]  # line numbers; the blank line is no record
    assert "'text' is int" in items[1].reason and "not valid JSON" in items[2].reason
    assert str(items[4]).startswith(f"{path}: record 6: no 'text' field")


def test_truncated_gzip_is_a_bad_record(tmp_path):
    data = gzip.compress(b"".join(b'{"text": "line %d"}\n' % i for i in range(2000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    items = list(read_source(str(path), "jsonl"))
    assert isinstance(items[-1], BadRecord) and "rest of the file skipped" in items[-1].reason


def test_clean_corpus_stops_or_skips_on_bad_records(tmp_path, tiny_model):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"text": TINY_PAGE}) + "\nnot json\n" + json.dumps({"text": TINY_PAGE}) + "\n")
    with pytest.raises(BadRecordError, match="record 2: not valid JSON"):
        clean_corpus([(str(path), "jsonl")], lambda rows: None, model=tiny_model)
    rows, warnings = [], []
    totals = clean_corpus([(str(path), "jsonl")], rows.extend, model=tiny_model, skip_bad=True,
                          warn=warnings.append)
    assert (totals.documents, totals.skipped, len(rows)) == (2, 1, 2)
    assert warnings == [f"skipped {path}: record 2: not valid JSON (Expecting value at column 1)"]


def test_writer_is_atomic(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    with pytest.raises(KeyboardInterrupt):
        with CorpusWriter(str(out), "jsonl") as w:
            w.write([{"text": "new"}])
            raise KeyboardInterrupt
    assert out.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_parquet_writer_refuses_fields_it_would_drop(tmp_path):
    with pytest.raises(ValueError, match=r"\['extra'\]"):
        with CorpusWriter(str(tmp_path / "o.parquet"), "parquet") as w:
            w.write([{"text": "a"}])
            w.write([{"text": "b", "extra": 1}])
    assert not (tmp_path / "o.parquet").exists()


def test_parquet_writer_keeps_fields_that_only_later_rows_of_the_first_batch_have(tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "o.parquet"
    with CorpusWriter(str(out), "parquet") as w:
        w.write([{"text": "a"}, {"text": "b", "tags": ["x"]}])
    assert pq.read_table(out).to_pylist() == [{"text": "a", "tags": None}, {"text": "b", "tags": ["x"]}]


def test_parquet_writer_names_records_it_cannot_write(tmp_path):
    # An empty object is a struct without fields, which parquet cannot hold.
    out = tmp_path / "o.parquet"
    with pytest.raises(ValueError, match="cannot be written as parquet.*write jsonl instead"):
        with CorpusWriter(str(out), "parquet") as w:
            w.write([{"text": "a", "meta": {}}])
    assert not out.exists()


def _corpus_of_pages(path, n=40):
    path.write_text("".join(json.dumps({"text": "\n".join([f"Story {i}", *LINES[i % 3:]]), "n": i}) + "\n"
                            for i in range(n)))
    return [(str(path), "jsonl")]


@pytest.mark.parametrize("given", ["model", "path"])
def test_workers_forked_with_the_model_or_spawned_with_its_path_clean_as_one_process(tmp_path, tiny_model, given):
    from boilercut.persist import save_model

    sources = _corpus_of_pages(tmp_path / "c.jsonl")
    one, two = [], []
    clean_corpus(sources, one.extend, model=tiny_model, batch_lines=30)
    # A loaded model is inherited by forked workers; a model path alone is loaded by
    # each spawned worker (the fallback where fork does not exist).
    kwargs = {"model": tiny_model} if given == "model" else {"model_path": save_model(tiny_model, tmp_path / "m.joblib")}
    totals = clean_corpus(sources, two.extend, jobs=2, batch_lines=30, **kwargs)
    assert two == one and totals.written == 40


def test_encoded_rows_are_the_jsonl_writer_s_bytes(tmp_path, tiny_model):
    sources = _corpus_of_pages(tmp_path / "c.jsonl", n=5)
    with CorpusWriter(str(tmp_path / "rows.jsonl"), "jsonl") as out:
        clean_corpus(sources, out.write, model=tiny_model)
    with CorpusWriter(str(tmp_path / "bytes.jsonl"), "jsonl") as out:
        clean_corpus(sources, out.write_encoded, model=tiny_model, jobs=2, encode=out.encode)
    assert (tmp_path / "rows.jsonl").read_bytes() == (tmp_path / "bytes.jsonl").read_bytes()


def test_jsonl_lines_left_unparsed_parse_as_read_source_would(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "a\\nb"}\n\n{oops\n{"body": "x"}\n')
    raw = list(read_source(str(path), "jsonl", parse=False))
    assert [type(r).__name__ for r in raw] == ["RawRecord"] * 3 and raw[0].raw == b'{"text": "a\\nb"}\n'
    assert [r.parse("text") for r in raw] == list(read_source(str(path), "jsonl"))


def test_batches_of_unparsed_lines_are_sized_by_their_line_breaks(tmp_path):
    from boilercut.corpus import batch_items, iter_items

    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps({"text": "x\ny\nz"}) + "\n" for _ in range(10)))
    batches = list(batch_items(iter_items([(str(path), "jsonl")], "text", None), "text", max_lines=6))
    assert [len(b) for b in batches] == [2] * 5  # 3 lines a record


@pytest.mark.parametrize("jobs", [1, 2])
def test_bad_records_are_reported_in_input_order_by_the_workers(tmp_path, tiny_model, jobs):
    """Workers parse the JSONL lines; the parent reports what they found in input order,
    before a later problem it found itself (a truncated gzip, a missing file)."""
    good = _corpus_of_pages(tmp_path / "good.jsonl", n=40)
    lines = (tmp_path / "good.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "bad.jsonl").write_text("".join(lines[:25]) + "not json\n" + "".join(lines[25:]))
    whole = gzip.compress("".join(lines * 30).encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    sources = [*good, (str(tmp_path / "bad.jsonl"), "jsonl"), (str(tmp_path / "missing.jsonl"), "jsonl"),
               (str(tmp_path / "cut.jsonl.gz"), "jsonl")]
    with pytest.raises(BadRecordError, match="bad.jsonl: record 26: not valid JSON"):
        clean_corpus(sources, lambda rows: None, model=tiny_model, jobs=jobs, batch_lines=30)
    rows, warnings = [], []
    totals = clean_corpus(sources, rows.extend, model=tiny_model, jobs=jobs, batch_lines=30, skip_bad=True,
                          warn=warnings.append)
    assert warnings[:2] == [f"skipped {tmp_path}/bad.jsonl: record 26: not valid JSON (Expecting value at column 1)",
                            f"{tmp_path}/missing.jsonl: no such file"]
    assert len(warnings) == 3 and "cut.jsonl.gz: record" in warnings[2] and "rest of the file skipped" in warnings[2]
    assert (totals.skipped, totals.unreadable, totals.written) == (2, 1, len(rows))
    assert [r["n"] for r in rows[:80]] == list(range(40)) * 2


def test_gzip_output_is_one_member_per_write_and_reads_as_one_stream(tmp_path):
    out = tmp_path / "o.jsonl.gz"
    with CorpusWriter(str(out), "jsonl") as w:
        w.write([{"text": "a"}])
        w.write_encoded(w.encode([{"text": "b"}, {"text": "c"}]))
    members, data = [], out.read_bytes()
    while data:  # each member decompressed on its own
        member = zlib.decompressobj(wbits=31)
        members.append(member.decompress(data))
        assert member.eof
        data = member.unused_data
    assert members == [b'{"text":"a"}\n', b'{"text":"b"}\n{"text":"c"}\n']
    assert [json.loads(line)["text"] for line in gzip.open(out)] == ["a", "b", "c"]
    with CorpusWriter(str(tmp_path / "empty.jsonl.gz"), "jsonl"):
        pass
    assert gzip.decompress((tmp_path / "empty.jsonl.gz").read_bytes()) == b""
