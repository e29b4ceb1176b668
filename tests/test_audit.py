"""predict --audit: per document, every removed line with its number, label and score,
written with the output's guarantees (atomic, the same for any --jobs)."""
import gzip
import json

import pytest
from conftest import TINY_PAGE

from boilercut import classify_lines, score_lines

LINES = TINY_PAGE.split("\n")
KEPT = "\n".join(LINES[2:4])
DOCS = [{"id": "a", "text": TINY_PAGE}, {"id": "b", "text": KEPT}, {"text": TINY_PAGE.replace("99", "7")}]


def predict(*args) -> int:
    import predict as command

    return command.main(["--quiet", *map(str, args)])


def read_jsonl(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def corpus(tmp_path, docs=DOCS):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["audit.jsonl", "audit.jsonl.gz"])
def test_audit_lists_every_removed_line_of_each_document(model_file, tiny_model, tmp_path, name):
    src = corpus(tmp_path)
    assert predict("--model", model_file, src, "--output", tmp_path / "out.jsonl", "--audit", tmp_path / name) == 0
    audit = read_jsonl(tmp_path / name)
    # The second document loses nothing: no audit line. The third has no id: its position.
    assert [(a["source"], a["record"], a.get("id")) for a in audit] == [(str(src), 1, "a"), (str(src), 3, None)]
    scores, labels = score_lines(LINES, tiny_model), classify_lines(LINES, tiny_model)
    removed = audit[0]["removed"]
    assert [r["line"] for r in removed] == [1, 2, 5, 6, 7, 8]
    for r in removed:
        i = r["line"] - 1
        assert (r["text"], r["label"], r["score"]) == (LINES[i], labels[i], round(scores[i], 4))
        assert r["score"] < tiny_model.threshold
    assert not audit[0]["dropped"]
    out = read_jsonl(tmp_path / "out.jsonl")
    assert [o["lines_removed"] for o in out] == [len(removed), 0, len(audit[1]["removed"])]


def test_audit_marks_documents_the_guard_dropped(model_file, tmp_path):
    src = corpus(tmp_path)
    assert predict("--model", model_file, src, "--output", tmp_path / "o.jsonl", "--audit", tmp_path / "a.jsonl",
                   "--max-removed-share", "0.3") == 0
    audit = read_jsonl(tmp_path / "a.jsonl")
    assert [a["dropped"] for a in audit] == [True, True] and len(audit[0]["removed"]) == 6


def test_audit_is_the_same_with_two_workers(model_file, tmp_path):
    src = corpus(tmp_path, DOCS * 30)
    for jobs in (1, 2):
        assert predict("--model", model_file, src, "--output", tmp_path / f"o{jobs}.jsonl.gz",
                       "--audit", tmp_path / f"a{jobs}.jsonl.gz", "--jobs", jobs, "--batch-lines", 20) == 0
    assert (tmp_path / "a1.jsonl.gz").read_bytes() == (tmp_path / "a2.jsonl.gz").read_bytes()
    assert len(read_jsonl(tmp_path / "a2.jsonl.gz")) == 60


def test_a_failed_run_leaves_no_audit_and_keeps_the_old_one(model_file, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(DOCS[0]) + "\n{oops\n", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text("old audit\n")
    assert predict("--model", model_file, src, "--output", tmp_path / "o.jsonl", "--audit", tmp_path / "a.jsonl") == 5
    assert (tmp_path / "a.jsonl").read_text() == "old audit\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "in.jsonl"]  # no output, no temporary


@pytest.mark.parametrize("args, message", [
    (["{page}", "--audit", "{tmp}/a.jsonl"], "--audit records a corpus run; pass --output"),
    (["{src}", "--output", "{tmp}/o.jsonl", "--audit", "{tmp}/o.jsonl"], "--audit and --output are the same file"),
    (["{src}", "--output", "{tmp}/o.jsonl", "--audit", "{tmp}/a.parquet"], "--audit writes JSON Lines"),
    (["{src}", "--output", "{tmp}/o.jsonl", "--audit", "{src}"], "is also an input"),
])
def test_bad_audit_uses_are_one_line_usage_errors(model_file, tmp_path, capsys, args, message):
    src, page = corpus(tmp_path), tmp_path / "page.txt"
    page.write_text(TINY_PAGE, encoding="utf-8")
    args = [a.format(src=src, page=page, tmp=tmp_path) for a in args]
    assert predict("--model", model_file, *args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "a.jsonl").exists() and not (tmp_path / "o.jsonl").exists()
