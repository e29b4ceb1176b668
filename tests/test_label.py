"""The labeling app (python -m boilercut.label): pages, queue, output file, server, CLI."""
from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request

import pytest

from boilercut.label.cli import main
from boilercut.label.pages import Page, read_pages
from boilercut.label.queue import line_uncertainty, order_pages, page_uncertainty
from boilercut.label.server import make_server
from boilercut.label.session import LabelSession
from boilercut.label.store import LabelFile, LabelFileError
from conftest import TINY_PAGE, tiny_records, write_jsonl

LABELS = ["content", "nav", "clickbait", "footer"]


def corpus_file(tmp_path, n=6):
    """A FineWeb-style corpus (field text) of tiny pages, two sites."""
    rows = [{"id": r["id"], "text": "\n".join(r["lines"]), "site": f"site{i % 2}", "lang": "en"}
            for i, r in enumerate(tiny_records(n))]
    return write_jsonl(tmp_path / "corpus.jsonl", rows)


def labeled(page_id, lines=("a", "b"), labels=("content", "nav"), **extra):
    return {"id": page_id, "lines": list(lines), "labels": list(labels), **extra}


def read_out(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# Pages -------------------------------------------------------------------------------

def test_read_pages_accepts_text_lines_and_page_files(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"id": "x", "text": "one\n\n  \ntwo", "url": "https://ex.org/p"},
                                       {"id": "y", "lines": ["three", "four"], "labels": ["nav", "nav"]},
                                       {"id": "z", "text": "one\ntwo"}])  # the same lines as x
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "p.txt").write_text("five\nsix\n", encoding="utf-8")
    pages = read_pages([str(tmp_path / "a.jsonl"), str(tmp_path / "pages")])
    assert [p.lines for p in pages] == [["one", "two"], ["three", "four"], ["five", "six"]]
    assert pages[0].site == "ex.org" and pages[0].record == {"url": "https://ex.org/p"}
    assert pages[2].id.endswith("p.txt")
    assert read_pages([str(tmp_path / "a.jsonl")], limit=1)[0].id == "x"


def test_read_pages_names_a_bad_record(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "text": "fine"}\n{"id": "y", "body": "no text"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl: record 2: no text in field 'text'"):
        read_pages([str(path)])


def test_pages_without_id_are_named_by_their_lines(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"text": "one\ntwo"}])
    first, again = read_pages([str(tmp_path / "a.jsonl")]), read_pages([str(tmp_path / "a.jsonl")])
    assert first[0].id.startswith("page-") and first[0].id == again[0].id


# Queue -------------------------------------------------------------------------------

def test_line_uncertainty_is_one_at_the_threshold_and_zero_at_the_ends():
    assert line_uncertainty([0.3, 0.0, 1.0, 0.65], 0.3).round(3).tolist() == [1.0, 0.0, 0.0, 0.5]


def test_page_uncertainty_weights_lines_by_words():
    lines = ["one", "a long line of many words here"]
    sure_long = page_uncertainty(lines, [0.5, 1.0], 0.5)   # the long line is certain
    sure_short = page_uncertainty(lines, [1.0, 0.5], 0.5)  # the short line is certain
    assert sure_long < sure_short


def make_page(i, site, uncertainty):
    return Page(f"p{i}", ["x"], {}, site, f"d{i}", uncertainty=uncertainty)


def test_uncertain_order_puts_uncertain_pages_first_and_spreads_sites():
    pages = [make_page(i, "a" if i < 4 else "b", u) for i, u in
             enumerate([0.9, 0.8, 0.7, 0.6, 0.5, 0.1])]
    order = [p.id for p in order_pages(pages, "uncertain")]
    assert order == ["p0", "p4", "p1", "p5", "p2", "p3"]  # a, b, a, b while b lasts
    many = [make_page(i, "a", 1 - i / 100) for i in range(45)]
    ranked = [p.uncertainty for p in order_pages(many, "uncertain")]
    assert ranked == sorted(ranked, reverse=True)


def test_random_and_file_orders():
    pages = [make_page(i, "a", i / 10) for i in range(8)]
    assert order_pages(pages, "file") == pages
    assert order_pages(pages, "random", seed=1) == order_pages(pages, "random", seed=1)
    assert sorted(p.id for p in order_pages(pages, "random", seed=1)) == sorted(p.id for p in pages)
    assert order_pages(pages, "random", seed=1) != order_pages(pages, "random", seed=2)
    with pytest.raises(ValueError, match="order must be one of"):
        order_pages(pages, "best")


# Output file -------------------------------------------------------------------------

def test_append_is_read_back_and_the_later_record_wins(tmp_path):
    out = tmp_path / "labels.jsonl"
    store = LabelFile(out, LABELS)
    store.append(labeled("x"))
    store.append(labeled("x", labels=("nav", "nav")))
    store.close()
    again = LabelFile(out, LABELS)
    assert again.records["x"]["labels"] == ["nav", "nav"]
    assert len(read_out(out)) == 2


def test_a_torn_last_line_is_moved_aside_and_appending_goes_on(tmp_path):
    out = tmp_path / "labels.jsonl"
    whole = json.dumps(labeled("x")) + "\n"
    out.write_text(whole + '{"id": "y", "lines": ["a"', encoding="utf-8")
    store = LabelFile(out, LABELS)
    assert list(store.records) == ["x"] and "cut short" in store.torn[0]
    assert (tmp_path / "labels.jsonl.torn").read_text() == '{"id": "y", "lines": ["a"\n'
    store.append(labeled("z"))
    assert [r["id"] for r in read_out(out)] == ["x", "z"]


def test_a_whole_last_record_without_newline_is_kept(tmp_path):
    out = tmp_path / "labels.jsonl"
    out.write_text(json.dumps(labeled("x")), encoding="utf-8")
    store = LabelFile(out, LABELS)
    store.append(labeled("y"))
    assert [r["id"] for r in read_out(out)] == ["x", "y"]
    assert not (tmp_path / "labels.jsonl.torn").exists()


@pytest.mark.parametrize("content, message", [
    ('not json\n{"id": "x"}\n', r"line 1: not valid JSON"),
    (json.dumps(labeled("x", labels=("content", "boilerplate"))) + "\n", r"line 1: label 'boilerplate' is not one"),
    ('{"id": "x", "lines": ["a"]}\n', r"line 1: not a labeled page"),
])
def test_a_corrupt_output_file_is_refused_and_left_alone(tmp_path, content, message):
    out = tmp_path / "labels.jsonl"
    out.write_text(content, encoding="utf-8")
    with pytest.raises(LabelFileError, match=message):
        LabelFile(out, LABELS)
    assert out.read_text(encoding="utf-8") == content


def test_two_writers_lose_no_record(tmp_path):
    out = tmp_path / "labels.jsonl"
    stores = [LabelFile(out, LABELS), LabelFile(out, LABELS)]

    def write(k):
        for i in range(40):
            stores[k].append(labeled(f"w{k}-{i}", lines=[f"line {k} {i}", "x" * 3000]))
    threads = [threading.Thread(target=write, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [r["id"] for r in read_out(out)]
    assert sorted(ids) == sorted(f"w{k}-{i}" for k in range(2) for i in range(40))
    stores[0].refresh()
    assert len(stores[0].records) == 80  # each writer sees the other's pages


# Session and server ------------------------------------------------------------------

@pytest.fixture
def served(tmp_path, tiny_model):
    """A server on a free port over a six-page corpus, pages scored; yields (call, out, session):
    call(path, body=None) fetches JSON (a POST with a body), call(path, raw=True) the bytes."""
    out = tmp_path / "labels.jsonl"
    session = LabelSession(tiny_model, read_pages([str(corpus_file(tmp_path))]), LabelFile(out, tiny_model.labels),
                           annotator="tester")
    session.score()
    server = make_server(session, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def call(path, body=None, raw=False):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(server.url.rstrip("/") + path, data=data,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                if raw:
                    return answer.status, answer.headers, answer.read()
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())
    yield call, out, session
    server.shutdown()
    server.server_close()
    session.store.close()


def test_next_page_has_model_labels_scores_and_state(served):
    call, _, _ = served
    status, answer = call("/api/next")
    page = answer["page"]
    assert status == 200 and answer["state"]["pages"] == 6 and answer["state"]["labeled"] == 0
    assert len(page["lines"]) == len(page["labels"]) == len(page["scores"]) == len(page["strength"])
    assert set(page["labels"]) <= set(answer["state"]["labels"])
    assert all(0 <= s <= 1 for s in page["scores"])


def test_accept_appends_one_record_and_moves_on(served):
    call, out, _ = served
    page = call("/api/next")[1]["page"]
    labels = ["footer"] * len(page["lines"])
    status, answer = call("/api/accept", {"id": page["id"], "labels": labels})
    assert status == 200 and answer["state"]["labeled"] == 1
    (record,) = read_out(out)
    assert record["id"] == page["id"] and record["labels"] == labels and record["lines"] == page["lines"]
    assert record["site"] == page["site"] and record["lang"] == "en" and "text" not in record
    assert record["labeled_by"] == "tester" and record["labeled_at"].endswith("+00:00")
    assert call("/api/next")[1]["page"]["id"] != page["id"]
    again = call("/api/page?id=" + page["id"])[1]["page"]  # a finished page, with the labels given
    assert again["finished"] and again["labels"] == labels
    assert call("/api/done")[1]["pages"][0]["id"] == page["id"]


def test_skip_puts_a_page_at_the_back(served):
    call, _, session = served
    first = call("/api/next")[1]["page"]["id"]
    second = call("/api/skip", {"id": first})[1]["page"]["id"]
    assert second != first
    for page in session.queue:
        if page.id != first:
            call("/api/accept", {"id": page.id, "labels": ["content"] * len(page.lines)})
    assert call("/api/next")[1]["page"]["id"] == first


@pytest.mark.parametrize("path, body, status, message", [
    ("/api/accept", {"id": "nope", "labels": []}, 404, "no page with id 'nope'"),
    ("/api/accept", {"id": "tiny-000", "labels": ["content"]}, 400, "has 13 lines; got 1 labels"),
    ("/api/accept", {"id": "tiny-000", "labels": ["spam"] * 13}, 400, r"\['spam'\] are not among"),
    ("/api/nothing", None, 404, "no such address"),
])
def test_bad_requests_get_an_error_and_write_nothing(served, path, body, status, message):
    call, out, _ = served
    got, answer = call(path, body)
    assert got == status and re.search(message, answer["error"])
    assert out.read_text() == ""


def test_the_page_view_is_served_from_the_package(served):
    call, _, _ = served
    for path, kind, needle in [("/", "text/html", b'src="/app.js"'), ("/app.js", "text/javascript", b"keydown"),
                               ("/app.css", "text/css", b".l.unsure")]:
        status, headers, body = call(path, raw=True)
        assert status == 200 and headers["Content-Type"].startswith(kind) and needle in body


def test_a_restart_resumes_and_never_shows_a_finished_page(tmp_path, tiny_model):
    corpus, out = corpus_file(tmp_path), tmp_path / "labels.jsonl"
    first = LabelSession(tiny_model, read_pages([str(corpus)]), LabelFile(out, tiny_model.labels))
    first.score()
    done = []
    for _ in range(3):
        page = first.next_page()["page"]
        first.accept(page["id"], page["labels"])
        done.append(page["id"])
    first.store.close()
    second = LabelSession(tiny_model, read_pages([str(corpus)]), LabelFile(out, tiny_model.labels))
    second.score()
    assert second.state()["remaining"] == 3
    seen = []
    while (page := second.next_page()["page"]) is not None:
        seen.append(page["id"])
        second.accept(page["id"], page["labels"])
    assert not set(seen) & set(done) and len(seen) == 3


# Command line ------------------------------------------------------------------------

def test_an_unreadable_corpus_stops_before_the_server(tmp_path, model_file, capsys):
    code = main([str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o.jsonl"), "--model", model_file])
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1 and "missing.jsonl" in err


def test_an_output_with_other_labels_stops_before_the_server(tmp_path, model_file, capsys):
    out = tmp_path / "o.jsonl"
    content = json.dumps(labeled("x", labels=("content", "boilerplate"))) + "\n"
    out.write_text(content)
    code = main([str(corpus_file(tmp_path)), "--out", str(out), "--model", model_file])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "'boilerplate' is not one of the model's labels" in err
    assert out.read_text() == content


def test_a_text_page_file_serves(tmp_path, tiny_model):
    (tmp_path / "page.txt").write_text(TINY_PAGE, encoding="utf-8")
    session = LabelSession(tiny_model, read_pages([str(tmp_path / "page.txt")]),
                           LabelFile(tmp_path / "o.jsonl", tiny_model.labels))
    session.score()
    assert session.next_page()["page"]["lines"] == TINY_PAGE.split("\n")


def test_the_command_prints_its_address_and_serves(tmp_path, model_file):
    import os
    import subprocess
    import sys

    from conftest import REPO

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "boilercut.label", str(corpus_file(tmp_path)), "--out",
                             str(tmp_path / "o.jsonl"), "--port", "0", "--model", model_file, "--quiet"],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline()
        url = re.search(r"open (http://127\.0\.0\.1:\d+/)", first).group(1)
        with urllib.request.urlopen(url + "api/state", timeout=30) as answer:
            assert json.loads(answer.read())["pages"] == 6
    finally:
        proc.terminate()
        proc.wait(timeout=30)
