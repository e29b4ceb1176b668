"""Hostile corpus records (issue 17): deep nesting, oversized records, text parquet cannot hold.

A deeply nested or oversized record is a bad record like any other: named by file and
record on one line (predict exits 5 and writes nothing, or skips it with a warning under
--skip-bad-records; train and evaluate exit 2). Text with undecodable input bytes is
written, with a warning naming the record. Never a traceback.
"""
import gzip
import json
import subprocess
import sys
import tracemalloc

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import TINY_PAGE, compose_train, tiny_records, tiny_train_overrides

from boilercut.corpus_io import BadRecord, Record, read_source
from boilercut.jsonl_codec import MAX_JSON_DEPTH

KEPT = "\n".join(TINY_PAGE.split("\n")[2:4])  # what the tiny model keeps of TINY_PAGE
GOOD = json.dumps({"id": "good", "text": TINY_PAGE})


def nested(depth: int, **fields) -> str:
    """A JSON record `depth` levels deep: the record is level 1, each list inside one more."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return json.dumps({"text": TINY_PAGE, **fields})[:-1] + f', "x": {inner}}}'


def predict(args, cwd):
    return subprocess.run([sys.executable, "-m", "predict", "--quiet", *map(str, args)], cwd=cwd,
                          capture_output=True, timeout=300, check=False)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# Item 5: deep nesting -------------------------------------------------------------------

def test_nesting_up_to_the_limit_is_read_and_deeper_is_a_bad_record(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join([nested(MAX_JSON_DEPTH), nested(MAX_JSON_DEPTH + 1), nested(100_000)]) + "\n")
    items = list(read_source(str(path), "jsonl"))
    assert [type(i).__name__ for i in items] == ["Record", "BadRecord", "BadRecord"]
    assert [str(i) for i in items[1:]] == [f"{path}: record {n}: nested deeper than {MAX_JSON_DEPTH} levels"
                                           for n in (2, 3)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_predict_stops_at_or_skips_a_deeply_nested_record(model_file, tmp_path, jobs):
    (tmp_path / "c.jsonl").write_text("\n".join([GOOD, nested(100_000), GOOD]) + "\n")
    (tmp_path / "o.jsonl").write_text("previous\n")
    args = ["--model", model_file, "c.jsonl", "--output", "o.jsonl", "--jobs", jobs]
    stopped = predict(args, tmp_path)
    assert stopped.returncode == 5
    assert stopped.stderr.decode() == (f"predict: error: c.jsonl: record 2: nested deeper than {MAX_JSON_DEPTH} "
                                       "levels (pass --skip-bad-records to skip such records); nothing was written\n")
    assert (tmp_path / "o.jsonl").read_text() == "previous\n"
    skipped = predict([*args, "--skip-bad-records"], tmp_path)
    assert skipped.returncode == 0
    assert skipped.stderr.decode() == (f"predict: warning: skipped c.jsonl: record 2: nested deeper than "
                                       f"{MAX_JSON_DEPTH} levels\n")
    assert [row["text"] for row in read_jsonl(tmp_path / "o.jsonl")] == [KEPT, KEPT]


def test_train_refuses_a_deeply_nested_record_naming_its_line(tmp_path):
    import train
    from boilercut.data import DataError

    data = tmp_path / "deep.jsonl"
    lines = [json.dumps(r) for r in tiny_records()]
    lines.insert(3, json.dumps(tiny_records(1)[0])[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}")
    data.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"deep.jsonl:4: nested deeper than {MAX_JSON_DEPTH} levels$"):
        train.train(compose_train(tiny_train_overrides(data, tmp_path / "m.joblib")))
    assert not (tmp_path / "m.joblib").exists()


def test_evaluate_reports_a_deeply_nested_record_on_one_line(model_file, tmp_path):
    data = tmp_path / "deep.jsonl"
    data.write_text(json.dumps(tiny_records(1)[0]) + "\n" + '{"id": "x", "lines": ' + "[" * 5000 + "]" * 5000 + "}\n")
    out = subprocess.run([sys.executable, "-m", "boilercut.evaluate", f"eval.model_path={model_file}",
                          f"eval.files=[{data}]", f"eval.report_dir={tmp_path / 'report'}"],
                         cwd=tmp_path, capture_output=True, timeout=300, check=False)
    assert out.returncode == 2
    assert out.stderr.decode() == f"evaluate: error: {data}:2: nested deeper than {MAX_JSON_DEPTH} levels\n"


# Item 6: a limit on the size of one record -------------------------------------------

@pytest.mark.parametrize("name", ["c.jsonl", "c.jsonl.gz"])
def test_record_over_the_limit_is_a_bad_record_and_the_next_one_is_read(tmp_path, name):
    at_limit = json.dumps({"text": "a" * 988})
    assert len(at_limit) == 1000  # bytes, without its newline
    over = json.dumps({"text": "b" * 5000})
    data = f'{at_limit}\n{over}\n{{"text": "last"}}'.encode()  # the last line has no newline
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    items = list(read_source(str(path), "jsonl", max_record_bytes=1000))
    assert [type(i).__name__ for i in items] == ["Record", "BadRecord", "Record"]
    assert [i.number for i in items] == [1, 2, 3] and items[2].data == {"text": "last"}
    assert str(items[1]) == (f"{path}: record 2: {len(over):,} bytes, over the record limit of 1,000 bytes "
                             "(--max-record-bytes)")


def test_reading_a_huge_line_never_holds_more_than_the_limit(tmp_path):
    path = tmp_path / "bomb.jsonl.gz"
    huge = 64 * 2 ** 20
    path.write_bytes(gzip.compress(b'{"text": "' + b"a" * huge + b'"}\n{"text": "after"}\n', compresslevel=1))
    tracemalloc.start()
    try:
        items = list(read_source(str(path), "jsonl", max_record_bytes=2 ** 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [type(i).__name__ for i in items] == ["BadRecord", "Record"]
    assert "over the record limit of 1,048,576 bytes" in items[0].reason
    assert peak < 8 * 2 ** 20  # the 64 MiB line is never held whole


def test_parquet_row_over_the_limit_is_a_bad_record(tmp_path):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.Table.from_pylist([{"text": "small", "url": "u"}, {"text": "é" * 600, "url": "v"},
                                         {"text": "also small", "url": "w"}]), path)
    items = list(read_source(str(path), "parquet", max_record_bytes=1000))
    assert [type(i).__name__ for i in items] == ["Record", "BadRecord", "Record"]
    assert items[1].reason.startswith("1,201 bytes, over the record limit of 1,000 bytes")  # 1,200 + "v"
    assert items[2].data == {"text": "also small", "url": "w"}


def test_predict_max_record_bytes_stops_skips_and_refuses_pages(model_file, tmp_path):
    big = json.dumps({"id": "big", "text": TINY_PAGE * 20})
    (tmp_path / "c.jsonl").write_text(f"{GOOD}\n{big}\n{GOOD}\n")
    stopped = predict(["--model", model_file, "c.jsonl", "--output", "o.jsonl", "--max-record-bytes", "1K"], tmp_path)
    assert stopped.returncode == 5 and not (tmp_path / "o.jsonl").exists()
    assert stopped.stderr.decode() == (f"predict: error: c.jsonl: record 2: {len(big):,} bytes, over the record "
                                       "limit of 1,024 bytes (--max-record-bytes) (pass --skip-bad-records to "
                                       "skip such records); nothing was written\n")
    skipped = predict(["--model", model_file, "c.jsonl", "--output", "o.jsonl", "--max-record-bytes", "1024",
                       "--skip-bad-records"], tmp_path)
    assert skipped.returncode == 0 and len(read_jsonl(tmp_path / "o.jsonl")) == 2
    assert skipped.stderr.decode().startswith("predict: warning: skipped c.jsonl: record 2: ")
    page_bytes = (TINY_PAGE * 20).encode()
    (tmp_path / "page.txt").write_bytes(page_bytes)
    page = predict(["--model", model_file, "page.txt", "--max-record-bytes", "1K"], tmp_path)
    assert page.returncode == 3 and page.stdout == b""
    assert page.stderr.decode() == (f"predict: error: page.txt: {len(page_bytes):,} bytes, over the page "
                                    "limit of 1,024 bytes (--max-record-bytes); split it or raise the limit\n")


def test_record_with_more_lines_than_the_limit_is_a_bad_record(tmp_path):
    rows = [{"text": "a\nb\r\nc"}, {"text": "a\nb\rc\nd\n"}, {"text": "\n\n\n"}]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "c.parquet")
    for name, fmt in (("c.jsonl", "jsonl"), ("c.parquet", "parquet")):
        items = list(read_source(str(tmp_path / name), fmt, max_record_lines=3))
        assert [type(i).__name__ for i in items] == ["Record", "BadRecord", "Record"]
        assert items[1].reason == "4 lines, over the record limit of 3 lines (--max-record-lines)"
    unparsed = read_source(str(tmp_path / "c.jsonl"), "jsonl", parse=False, max_record_lines=3)
    assert [r.parse("text") for r in unparsed] == list(read_source(str(tmp_path / "c.jsonl"), "jsonl",
                                                                   max_record_lines=3))


def test_predict_max_record_lines_for_records_and_pages(model_file, tmp_path):
    (tmp_path / "c.jsonl").write_text(GOOD + "\n")
    (tmp_path / "page.txt").write_text(TINY_PAGE)
    record = predict(["--model", model_file, "c.jsonl", "--max-record-lines", "7"], tmp_path)
    assert record.returncode == 5 and record.stdout == b""
    assert record.stderr.decode() == ("predict: error: c.jsonl: record 1: 8 lines, over the record limit of 7 lines "
                                      "(--max-record-lines) (pass --skip-bad-records to skip such records); "
                                      "nothing was written\n")
    page = predict(["--model", model_file, "page.txt", "--max-record-lines", "7"], tmp_path)
    assert page.returncode == 3 and page.stdout == b""
    assert page.stderr.decode() == ("predict: error: page.txt: 8 lines, over the page limit of 7 lines "
                                    "(--max-record-lines); split it or raise the limit\n")


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1.5M", "M"])
def test_bad_max_record_bytes_is_a_usage_error(value, capsys):
    import predict

    with pytest.raises(SystemExit) as exit_:
        predict.parse_args(["x.jsonl", "--max-record-bytes", value])
    assert exit_.value.code == 2
    assert "argument --max-record-bytes: expected a whole number of bytes >= 1" in capsys.readouterr().err


def test_max_record_bytes_takes_binary_units():
    import predict

    assert [predict.parse_args(["x", "--max-record-bytes", v]).max_record_bytes for v in ("1000", "2k", "3M", "1G")] \
        == [1000, 2048, 3 * 2 ** 20, 2 ** 30]
    assert predict.parse_args(["x"]).max_record_bytes == 256 * 2 ** 20


# Item 7: undecodable bytes and lone surrogates -------------------------------------------

LATIN1_PAGE = TINY_PAGE.replace("Tuesday", "Tuesday caf\u00e9").encode("latin-1")


def test_latin1_page_in_corpus_mode_warns_as_page_mode_does(model_file, tmp_path):
    (tmp_path / "page.txt").write_bytes(LATIN1_PAGE)
    out = predict(["--model", model_file, "page.txt", "--output", "o.jsonl"], tmp_path)
    assert out.returncode == 0
    assert out.stderr.decode() == ("predict: warning: page.txt: not valid UTF-8; undecodable bytes are kept "
                                   "(as \\udcXX escapes in JSON, U+FFFD in parquet)\n")
    [row] = read_jsonl(tmp_path / "o.jsonl")
    assert "Tuesday caf\udce9 to" in row["text"]  # the byte 0xE9, as the JSONL path keeps it


def test_latin1_page_to_parquet_is_written_with_replacement_characters(model_file, tmp_path):
    (tmp_path / "page.txt").write_bytes(LATIN1_PAGE)
    out = predict(["--model", model_file, "page.txt", "--output", "o.parquet"], tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    assert "predict: warning: page.txt: record 1: undecodable bytes written as U+FFFD (parquet text must be " \
           "valid UTF-8)\n" in out.stderr.decode()
    [row] = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert "caf\ufffd" in row["text"] and "\udce9" not in row["text"]


@pytest.mark.parametrize("skip", [[], ["--skip-bad-records"]])
def test_lone_surrogates_in_a_jsonl_record_do_not_abort_a_parquet_output(model_file, tmp_path, skip):
    bad = {"id": "caf\udce9", "text": TINY_PAGE.replace("Tuesday", "Tuesday caf\udce9"), "tags": ["\udcff"]}
    good = json.dumps({"id": "good", "text": TINY_PAGE, "tags": ["ok"]})
    (tmp_path / "c.jsonl").write_text(good + "\n" + json.dumps(bad) + "\n")
    out = predict(["--model", model_file, "c.jsonl", "--output", "o.parquet", *skip], tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stderr.decode() == ("predict: warning: c.jsonl: record 2: undecodable bytes written as U+FFFD "
                                   "(parquet text must be valid UTF-8)\n")
    rows = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert rows[1]["id"] == "caf\ufffd" and rows[1]["tags"] == ["\ufffd"] and "caf\ufffd" in rows[1]["text"]
    jsonl = predict(["--model", model_file, "c.jsonl", "--output", "o.jsonl"], tmp_path)
    assert jsonl.returncode == 0 and jsonl.stderr == b""  # JSON keeps them, as \udcXX escapes
    assert read_jsonl(tmp_path / "o.jsonl")[1]["id"] == "caf\udce9"


def test_json_error_names_the_column_once(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"text": "a\tb"}\n')
    [item] = read_source(str(path), "jsonl")
    assert item.reason == "not valid JSON (Invalid control character at column 12)"


def test_records_read_unchanged_when_nothing_is_hostile(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(GOOD + "\n\n" + json.dumps({"text": "x", "meta": {"a": [1, {"b": None}]}}) + "\n")
    assert list(read_source(str(path), "jsonl")) == [
        Record(str(path), 1, {"id": "good", "text": TINY_PAGE}),
        Record(str(path), 3, {"text": "x", "meta": {"a": [1, {"b": None}]}})]
    assert not any(isinstance(i, BadRecord) for i in read_source(str(path), "jsonl", max_record_bytes=len(GOOD)))
