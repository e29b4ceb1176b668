"""The datatrove step in a LocalPipelineExecutor run over a corpus the test writes."""
import json

import pytest

pytest.importorskip("datatrove")

from datatrove.data import Document  # noqa: E402
from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from boilercut.datatrove_step import BoilercutFilter  # noqa: E402
from boilercut.persist import save_model  # noqa: E402
from conftest import TINY_PAGE  # noqa: E402

KEPT = "\n".join(TINY_PAGE.split("\n")[2:4])
DOCS = [{"id": "a", "text": TINY_PAGE, "url": "u1"}, {"id": "b", "text": TINY_PAGE.replace("99", "7"), "url": "u2"}]


def run_pipeline(tmp_path, model_file, **options):
    src = tmp_path / "in"
    src.mkdir()
    docs = DOCS
    (src / "part.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    step = BoilercutFilter(model_path=model_file, batch_size=8, **options)
    stats = LocalPipelineExecutor(
        pipeline=[JsonlReader(str(src)), step, JsonlWriter(str(tmp_path / "out"), compression=None)],
        tasks=1, logging_dir=str(tmp_path / "logs")).run()
    out = [json.loads(line) for f in sorted((tmp_path / "out").glob("*.jsonl")) for line in f.open()]
    return stats.stats[1].stats, out  # the executor runs a copy of the pipeline: its stats are the step's


def test_step_rewrites_text_and_records_statistics(tiny_model, tmp_path):
    model_file = save_model(tiny_model, tmp_path / "m.joblib")
    stats, out = run_pipeline(tmp_path, model_file)
    assert [d["id"] for d in out] == ["a", "b"]
    assert out[0]["text"] == KEPT
    meta = out[0]["metadata"]
    assert (meta["lines_kept"], meta["lines_removed"], meta["url"]) == (2, 6, "u1")
    assert 0.5 < meta["words_removed_share"] < 1
    assert stats["lines_kept"].total == 4 and stats["lines_removed"].total == 12


def test_step_guard_drops_with_its_reason(tiny_model, tmp_path):
    stats, out = run_pipeline(tmp_path, save_model(tiny_model, tmp_path / "m.joblib"), max_removed_share=0.1)
    assert out == [] and stats["dropped_too_much_boilerplate"].total == 2


class NothingIsContent:
    threshold = 0.5

    def score_pages_with_words(self, pages):
        from boilercut.line_shape import word_counts
        return [[0.0] * len(p) for p in pages], [word_counts(p) for p in pages]

    def page_thresholds(self, pages, scores, keep=None, threshold=None, words=None):
        return [self.threshold if threshold is None else threshold] * len(pages)


def test_step_drops_a_document_with_nothing_left():
    step = BoilercutFilter()
    step._model = NothingIsContent()
    doc = Document(text="Home | News\nLogin", id="x")
    assert step.filter(doc) == (False, "no_content_left")
    assert doc.metadata == {"lines_kept": 0, "lines_removed": 2, "words_removed_share": 1.0}


def test_step_loads_its_model_lazily(tmp_path):
    step = BoilercutFilter(model_path=tmp_path / "missing.joblib")  # no error until first use
    assert step._model is None
