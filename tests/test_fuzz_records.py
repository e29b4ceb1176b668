"""Fuzzing the corpus reader and predict with hypothesis (issue 17): arbitrary bytes and
arbitrary JSON values as records. The reader yields a record or a bad record for each line
and never raises; predict (its main, in process) ends every run with its output or with
one error line, never an exception (a traceback). A few dozen examples each: seconds."""
import contextlib
import gzip
import io
import json
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
from conftest import TINY_PAGE
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from boilercut.corpus_io import BadRecord, Record, read_source
from boilercut.jsonl_codec import MAX_JSON_DEPTH
from boilercut.utf8_text import has_lone_surrogates

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)
# Records as JSON text: mostly objects with a "text" field, some any value at all, some
# nested far deeper than the limit, some with lone surrogates (undecodable input bytes).
records = st.one_of(
    st.fixed_dictionaries({"text": st.text(max_size=200) | st.sampled_from([TINY_PAGE, "caf\udce9\nok"])},
                          optional={"id": json_values, "meta": json_values}).map(json.dumps),
    json_values.map(json.dumps),
    st.integers(1, 3 * MAX_JSON_DEPTH).map(lambda d: '{"text": "x", "deep": ' + "[" * d + "]" * d + "}"),
)
# Lines of a JSONL file: records, or any bytes at all (which may hold line breaks).
lines = st.lists(records.map(str.encode) | st.binary(max_size=40), max_size=8)


def depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def expected_record(line: bytes) -> bool:
    """Whether the reader must give a Record for this line: json.loads reads it as an object
    with a text field, nested no deeper than the limit."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):  # not UTF-8 (or UTF-16/32), not JSON, too deep for json
        return False
    return isinstance(value, dict) and isinstance(value.get("text"), str) and depth(value) <= MAX_JSON_DEPTH


def read_all(data: bytes, name: str, max_record_bytes: int):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return list(read_source(str(path), "jsonl", max_record_bytes=max_record_bytes))


@SETTINGS
@given(data=st.binary(max_size=300), name=st.sampled_from(["c.jsonl", "c.jsonl.gz"]),
       max_record_bytes=st.integers(1, 400))
def test_reader_takes_any_bytes(data, name, max_record_bytes):
    items = read_all(data, name, max_record_bytes)
    assert all(isinstance(i, (Record, BadRecord)) for i in items)
    assert all(isinstance(i.data["text"], str) for i in items if isinstance(i, Record))
    numbers = [i.number for i in items]
    assert numbers == sorted(set(numbers)) and len(items) <= data.count(b"\n") + 1


@SETTINGS
@given(lines=lines)
def test_reader_gives_a_record_exactly_for_each_usable_json_object(lines):
    data = b"\n".join(lines) + b"\n"
    assume(not data.startswith(b"\x1f\x8b"))  # read as gzip whatever its name (test_reader_takes_any_bytes)
    split = data.split(b"\n")[:-1]
    items = read_all(data, "c.jsonl", 10_000)
    assert [i.number for i in items] == [n for n, line in enumerate(split, 1) if line and not line.isspace()]
    for item in items:
        assert isinstance(item, Record) == expected_record(split[item.number - 1]), item


def run_predict(args: list[str]) -> tuple[int, str]:
    import predict

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = predict.main(args)
    return code, err.getvalue()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=lines, skip=st.booleans(), jobs=st.sampled_from([1, 1, 1, 2]))
def test_predict_ends_with_output_or_one_error_line(model_file, lines, skip, jobs):
    data = b"\n".join(lines) + b"\n"
    with tempfile.TemporaryDirectory() as folder:
        src, out = Path(folder) / "c.jsonl", Path(folder) / "o.jsonl"
        src.write_bytes(data)
        code, err = run_predict(["--quiet", "--model", model_file, str(src), "--output", str(out),
                                 "--jobs", str(jobs), *(["--skip-bad-records"] if skip else [])])
        problems = [line for line in err.splitlines() if not line.startswith("predict: warning: skipped ")]
        if code == 0:
            good = sum(isinstance(i, Record) for i in read_source(str(src), "jsonl"))
            assert problems == [] and len(out.read_bytes().splitlines()) == good
        else:
            assert (code, len(problems)) == (5, 1) and problems[0].startswith("predict: error: ")
            assert not skip and not out.exists()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(min_size=1, max_size=80) | st.sampled_from([TINY_PAGE, "caf\udce9 au lait"]),
                      min_size=1, max_size=5),
       ids=st.text(max_size=8) | st.just("\udcff"))
def test_any_text_reaches_a_parquet_output(model_file, texts, ids):
    data = "".join(json.dumps({"id": ids, "text": text}) + "\n" for text in texts).encode()
    with tempfile.TemporaryDirectory() as folder:
        src, out = Path(folder) / "c.jsonl", Path(folder) / "o.parquet"
        src.write_bytes(data)
        code, err = run_predict(["--quiet", "--threshold", "0", "--model", model_file, str(src), "--output", str(out)])
        assert code == 0, err
        rows = pq.read_table(out).to_pylist()
    assert len(rows) == len(texts)
    for row, text in zip(rows, texts):
        assert all(not 0xD800 <= ord(c) <= 0xDFFF for c in row["text"] + row["id"])
        assert len(row["text"]) <= len(text)
    with_surrogates = sum(has_lone_surrogates(text + ids) for text in texts)  # every line is kept
    assert err.count("undecodable bytes written as U+FFFD") == with_surrogates
