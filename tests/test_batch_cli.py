"""`python -m predict` on corpora, as a user runs it: subprocesses from a temporary directory."""
import gzip
import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import TINY_PAGE

KEPT = "\n".join(TINY_PAGE.split("\n")[2:4])
DOCS = [{"text": TINY_PAGE, "id": f"d{i}", "url": f"https://example.org/{i}", "score": i / 10}
        for i in range(5)]
STATS = {"lines_kept": 2, "lines_removed": 6}


def run(args, cwd, stdin=None):
    return subprocess.run([sys.executable, "-m", "predict", "--quiet", *args], cwd=cwd, input=stdin,
                          capture_output=True, timeout=300)


def write_jsonl(path, records):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    return path


def read_jsonl(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def check_cleaned(rows, originals):
    assert len(rows) == len(originals)
    for row, original in zip(rows, originals):
        assert row["text"] == KEPT
        assert {k: row[k] for k in original if k != "text"} == {k: v for k, v in original.items() if k != "text"}
        assert {k: row[k] for k in STATS} == STATS and 0.5 < row["words_removed_share"] < 1


@pytest.mark.parametrize("name", ["c.jsonl", "c.jsonl.gz"])
def test_jsonl_round_trip(model_file, tmp_path, name):
    src = write_jsonl(tmp_path / name, DOCS)
    out = run(["--model", model_file, str(src), "--output", f"clean-{name}"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    check_cleaned(read_jsonl(tmp_path / f"clean-{name}"), DOCS)


def test_parquet_round_trip_keeps_types(model_file, tmp_path):
    pq.write_table(pa.Table.from_pylist(DOCS), tmp_path / "c.parquet")
    out = run(["--model", model_file, "c.parquet", "--output", "clean.parquet"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    table = pq.read_table(tmp_path / "clean.parquet")
    check_cleaned(table.to_pylist(), DOCS)
    assert table.schema.field("score").type == pa.float64() and table.schema.field("lines_kept").type == pa.int64()


def test_jsonl_to_parquet_by_output_format(model_file, tmp_path):
    write_jsonl(tmp_path / "c.jsonl", DOCS)
    out = run(["--model", model_file, "c.jsonl", "--output", "clean.data", "--output-format", "parquet"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    check_cleaned(pq.read_table(tmp_path / "clean.data").to_pylist(), DOCS)


def test_directory_of_pages(model_file, tmp_path):
    (tmp_path / "pages" / "sub").mkdir(parents=True)
    (tmp_path / "pages" / "a.txt").write_text(TINY_PAGE)
    (tmp_path / "pages" / "sub" / "b.txt").write_text(TINY_PAGE)
    (tmp_path / "pages" / "notes.md").write_text("not a page")
    out = run(["--model", model_file, "pages", "--output", "pages.jsonl"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    rows = read_jsonl(tmp_path / "pages.jsonl")
    assert [r["id"] for r in rows] == ["pages/a.txt", "pages/sub/b.txt"]
    check_cleaned([{k: v for k, v in r.items() if k != "id"} for r in rows], [{"text": TINY_PAGE}] * 2)


def test_directory_without_output_prints_kept_lines(model_file, tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "a.txt").write_text(TINY_PAGE)
    out = run(["--model", model_file, "pages"], cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.decode() == KEPT + "\n"


def test_stdin_jsonl_to_stdout(model_file, tmp_path):
    data = "".join(json.dumps(d) + "\n" for d in DOCS).encode()
    out = run(["--model", model_file, "--input-format", "jsonl", "-"], cwd=tmp_path, stdin=data)
    assert out.returncode == 0, out.stderr.decode()
    check_cleaned([json.loads(line) for line in out.stdout.decode().splitlines()], DOCS)


def test_two_jobs_give_the_same_output_as_one(model_file, tmp_path):
    pages = ["\n".join([f"Story {i}", *TINY_PAGE.split("\n")[i % 3:]]) for i in range(300)]
    write_jsonl(tmp_path / "c.jsonl", [{"text": p, "n": i} for i, p in enumerate(pages)])
    one = run(["--model", model_file, "c.jsonl", "--output", "one.jsonl"], cwd=tmp_path)
    # small batches, so that both workers get many and finish out of order
    two = run(["--model", model_file, "c.jsonl", "--output", "two.jsonl", "--jobs", "2", "--batch-lines", "50"],
              cwd=tmp_path)
    assert one.returncode == two.returncode == 0, two.stderr.decode()
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert [r["n"] for r in read_jsonl(tmp_path / "two.jsonl")] == list(range(300))


def _bad_lines(pages):
    lines = [json.dumps({"text": p, "n": i}) for i, p in enumerate(pages)]
    lines[7], lines[30], lines[45] = "{broken", '{"text": 3}', "[1]"
    return "".join(line + "\n" for line in lines)


def _write_inputs(tmp_path):
    """The corpora the --jobs 1 vs --jobs 2 runs read: good, with bad records, cut short."""
    pages = ["\n".join([f"Story {i}", *TINY_PAGE.split("\n")[i % 3:]]) for i in range(60)]
    records = [{"text": p, "n": i} for i, p in enumerate(pages)]
    write_jsonl(tmp_path / "c.jsonl", records)
    write_jsonl(tmp_path / "c.jsonl.gz", records)
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "c.parquet")
    (tmp_path / "bad.jsonl").write_text(_bad_lines(pages))
    whole = gzip.compress("".join(json.dumps(r) + "\n" for r in records * 20).encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    return "".join(json.dumps(r) + "\n" for r in records).encode()


# name: (arguments before --output, output suffix or None for stdout)
RUNS = {
    "jsonl to jsonl.gz": (["c.jsonl"], ".jsonl.gz"),
    "jsonl.gz to jsonl": (["c.jsonl.gz"], ".jsonl"),
    "parquet to parquet": (["c.parquet"], ".parquet"),
    "stdin to stdout": (["--input-format", "jsonl", "-"], None),
    "bad records stop the run": (["c.jsonl", "bad.jsonl"], ".jsonl.gz"),
    "bad records skipped, an unreadable input named in order": (
        ["bad.jsonl", "missing.jsonl", "cut.jsonl.gz", "bad.jsonl", "--skip-bad-records"], ".jsonl.gz"),
    "a truncated gzip input stops the run": (["c.jsonl", "cut.jsonl.gz"], ".jsonl"),
}


def _output(path):
    if not path.exists():
        return None
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return table.schema, table.to_pylist()
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


@pytest.mark.parametrize("name", RUNS)
def test_two_jobs_behave_as_one(model_file, tmp_path, name):
    """Same exit status, stderr (errors, warnings in input order) and decompressed output
    with --jobs 2 (workers parse, clean, encode and gzip) as with --jobs 1."""
    stdin = _write_inputs(tmp_path)
    args, suffix = RUNS[name]
    results = []
    for jobs in ("1", "2"):
        target = ["--output", f"o{jobs}{suffix}"] if suffix else []
        out = run(["--model", model_file, *args, *target, "--jobs", jobs, "--batch-lines", "50"], cwd=tmp_path,
                  stdin=stdin)
        assert b"Traceback" not in out.stderr
        results.append((out.returncode, out.stderr, out.stdout, suffix and _output(tmp_path / f"o{jobs}{suffix}")))
    assert results[0] == results[1]
    status, stderr, stdout, output = results[0]
    if "stop" in name:  # nothing written, no temporary file left
        assert status == 5 and output is None and b"record" in stderr
        assert not [p for p in tmp_path.iterdir() if p.name.startswith((".o", "o"))]
    elif "skipped" in name:
        assert status == 3 and stderr.decode().splitlines()[:4] == [
            "predict: warning: skipped bad.jsonl: record 8: not valid JSON (Expecting property name enclosed in "
            "double quotes at column 2)",
            "predict: warning: skipped bad.jsonl: record 31: field 'text' is int, not text",
            "predict: warning: skipped bad.jsonl: record 46: a JSON list, not an object",
            "predict: warning: missing.jsonl: no such file"]
        assert "cut.jsonl.gz: record" in stderr.decode().splitlines()[4]
        assert output.count(b"\n") == 57 + 57 + len(read_jsonl_prefix(tmp_path / "cut.jsonl.gz"))
    else:
        assert status == 0 and stderr == b"" and (stdout or output)


def read_jsonl_prefix(path):
    """The records of a truncated .jsonl.gz that predict's reader (ISA-L's) can read:
    how much of the last block comes out before the truncation shows depends on the
    decompressor (Python's gzip gave 5 more records of this file)."""
    from isal import igzip

    rows = []
    with igzip.open(path, "rt", encoding="utf-8") as f:
        try:
            rows.extend(json.loads(line) for line in f)
        except EOFError:
            pass
    return rows


def test_gzip_output_is_members_that_every_reader_takes_as_one_stream(model_file, tmp_path):
    """A .jsonl.gz output holds one gzip member per batch (compressed in the workers);
    gzip, zcat and Python's gzip module read them as one stream, and an output without
    records is one empty member, not an empty file."""
    _write_inputs(tmp_path)
    out = run(["--model", model_file, "c.jsonl", "--output", "o.jsonl.gz", "--jobs", "2", "--batch-lines", "50"],
              cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    data = (tmp_path / "o.jsonl.gz").read_bytes()
    assert data.count(b"\x1f\x8b\x08") > 1  # several members
    assert [r["n"] for r in read_jsonl(tmp_path / "o.jsonl.gz")] == list(range(60))
    zcat = subprocess.run(["gzip", "-dc", "o.jsonl.gz"], cwd=tmp_path, capture_output=True)
    assert zcat.returncode == 0 and zcat.stdout == gzip.decompress(data)
    (tmp_path / "empty.jsonl").write_text("")
    out = run(["--model", model_file, "empty.jsonl", "--output", "e.jsonl.gz", "--jobs", "2"], cwd=tmp_path)
    assert out.returncode == 0 and gzip.decompress((tmp_path / "e.jsonl.gz").read_bytes()) == b""


def test_trim_mode_and_guard(model_file, tmp_path):
    write_jsonl(tmp_path / "c.jsonl", DOCS[:2])
    out = run(["--model", model_file, "c.jsonl", "--output", "o.jsonl", "--max-removed-share", "0.1"], cwd=tmp_path)
    assert out.returncode == 0 and read_jsonl(tmp_path / "o.jsonl") == []
    trim = run(["--model", model_file, "c.jsonl", "--output", "t.jsonl", "--mode", "trim"], cwd=tmp_path)
    assert trim.returncode == 0 and read_jsonl(tmp_path / "t.jsonl")[0]["text"] == KEPT


def test_malformed_record_stops_and_writes_nothing(model_file, tmp_path):
    (tmp_path / "c.jsonl").write_text(json.dumps(DOCS[0]) + "\n{broken\n" + json.dumps(DOCS[1]) + "\n")
    (tmp_path / "o.jsonl").write_text("previous output\n")
    out = run(["--model", model_file, "c.jsonl", "--output", "o.jsonl"], cwd=tmp_path)
    assert out.returncode == 5
    assert "c.jsonl: record 2: not valid JSON" in out.stderr.decode() and b"Traceback" not in out.stderr
    assert (tmp_path / "o.jsonl").read_text() == "previous output\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "o.jsonl"]


def test_skip_bad_records_names_each_and_keeps_the_rest(model_file, tmp_path):
    (tmp_path / "c.jsonl").write_text(json.dumps(DOCS[0]) + "\n{broken\n" + json.dumps(DOCS[1]) + "\n")
    out = run(["--model", model_file, "c.jsonl", "--output", "o.jsonl", "--skip-bad-records"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    assert "skipped c.jsonl: record 2: not valid JSON" in out.stderr.decode()
    check_cleaned(read_jsonl(tmp_path / "o.jsonl"), DOCS[:2])


def test_parquet_null_text_is_a_bad_record(model_file, tmp_path):
    pq.write_table(pa.Table.from_pylist([{"text": TINY_PAGE}, {"text": None}]), tmp_path / "c.parquet")
    out = run(["--model", model_file, "c.parquet", "--output", "o.parquet"], cwd=tmp_path)
    assert out.returncode == 5 and "c.parquet: record 2: field 'text' is NoneType" in out.stderr.decode()
    assert not (tmp_path / "o.parquet").exists()


def test_output_equal_to_input_is_refused(model_file, tmp_path):
    src = write_jsonl(tmp_path / "c.jsonl", DOCS)
    before = src.read_bytes()
    out = run(["--model", model_file, "c.jsonl", "--output", "./c.jsonl"], cwd=tmp_path)
    assert out.returncode == 2 and "is also an input" in out.stderr.decode()
    assert src.read_bytes() == before


def test_labels_do_not_apply_to_corpora(model_file, tmp_path):
    write_jsonl(tmp_path / "c.jsonl", DOCS)
    out = run(["--model", model_file, "--labels", "c.jsonl"], cwd=tmp_path)
    assert out.returncode == 2 and b"do not apply to corpora" in out.stderr


def test_compression_level_sets_the_gzip_level_of_the_output(model_file, tmp_path):
    src = write_jsonl(tmp_path / "c.jsonl", DOCS * 40)
    sizes = {}
    for level in (0, 3):
        out = run(["--model", model_file, str(src), "--output", f"o{level}.jsonl.gz", "--compression-level",
                   str(level)], cwd=tmp_path)
        assert out.returncode == 0, out.stderr.decode()
        check_cleaned(read_jsonl(tmp_path / f"o{level}.jsonl.gz"), DOCS * 40)
        sizes[level] = (tmp_path / f"o{level}.jsonl.gz").stat().st_size
    assert sizes[3] < sizes[0] * 0.8  # ISA-L level 0 only Huffman-codes; 3 also finds the repeats


@pytest.mark.parametrize("args, message", [(["--compression-level", "5", "--output", "o.jsonl.gz"], "must be 0..3"),
                                           (["--compression-level", "2", "--output", "o.parquet"], "applies to a .jsonl.gz"),
                                           (["--compression-level", "2"], "not stdout")])
def test_a_bad_compression_level_is_a_usage_error(model_file, tmp_path, args, message):
    src = write_jsonl(tmp_path / "c.jsonl", DOCS)
    out = run(["--model", model_file, str(src), *args], cwd=tmp_path)
    assert out.returncode == 2 and message in out.stderr.decode()
    assert out.stderr.decode().count("\n") == 1 and not list(tmp_path.glob("o.*"))
