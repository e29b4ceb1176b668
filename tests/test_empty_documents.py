"""One rule for a document with no line left, in every front end: it stays, with text ""
and its statistics (docs/corpus.md, "Documents left empty"); only the max_removed_share guard
drops documents."""
import json

import pytest
from conftest import TINY_PAGE

from boilercut import clean_dataset, clean_texts

MENU = "Home | Sport | Weather | Business | News\nPrivacy policy | Terms of use | Cookies"
EMPTIED = {"text": "", "lines_kept": 0, "lines_removed": 2, "words_removed_share": 1.0}
DOCS = [{"id": "page", "text": TINY_PAGE}, {"id": "menu", "text": MENU}, {"id": "blank", "text": ""}]


def statistics(row: dict) -> dict:
    return {name: row[name] for name in EMPTIED}


def test_the_tiny_model_keeps_no_line_of_the_menu(tiny_model):
    cleaned = clean_texts([MENU], model=tiny_model)[0]
    assert statistics(cleaned._asdict()) == EMPTIED and not cleaned.dropped


def test_predict_writes_the_emptied_document(model_file, tmp_path, capsys):
    import predict

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(d) + "\n" for d in DOCS), encoding="utf-8")
    assert predict.main(["--quiet", "--model", model_file, str(src), "--output", str(tmp_path / "out.jsonl")]) == 0
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["page", "menu", "blank"]
    assert statistics(rows[1]) == EMPTIED
    assert statistics(rows[2]) == {"text": "", "lines_kept": 0, "lines_removed": 0, "words_removed_share": 0.0}


def test_clean_dataset_keeps_the_emptied_row(tiny_model):
    from datasets import Dataset

    out = clean_dataset(Dataset.from_list(DOCS), model=tiny_model, keep_in_memory=True)
    assert list(out["id"]) == ["page", "menu", "blank"] and statistics(out[1]) == EMPTIED


def test_the_datatrove_step_passes_the_emptied_document_on(tiny_model):
    pytest.importorskip("datatrove")
    from datatrove.data import Document

    from boilercut.datatrove_step import BoilercutFilter

    step = BoilercutFilter()
    step._model = tiny_model
    docs = [Document(text=d["text"], id=d["id"]) for d in DOCS]
    assert step.filter_batch(docs) == [True, True, True]
    assert statistics({"text": docs[1].text, **docs[1].metadata}) == EMPTIED


def test_the_guard_is_what_drops_emptied_documents(tiny_model):
    results = clean_texts([MENU, ""], model=tiny_model, max_removed_share=0.99)
    assert results[0].dropped  # all its words went
    assert not results[1].dropped  # nothing to remove: never over the guard
