"""predict's progress bar: bytes read of the input files' known total, so it has an ETA."""
import io
import json

from conftest import TINY_PAGE

from boilercut.corpus import clean_corpus
from boilercut.read_progress import ReadProgress, input_size


class Recorded(ReadProgress):
    """The bar's position after every batch."""

    def __init__(self, sources):
        super().__init__(sources, file=io.StringIO())
        self.positions = []

    def update(self, documents):
        super().update(documents)
        self.positions.append(self.bar.n)


def write_corpus(path, n):
    path.write_text("".join(json.dumps({"text": TINY_PAGE, "n": i}) + "\n" for i in range(n)), encoding="utf-8")
    return str(path)


def test_the_bar_counts_bytes_read_of_the_inputs_total_as_batches_are_written(tiny_model, tmp_path):
    sources = [(write_corpus(tmp_path / "a.jsonl", 30), "jsonl"), (write_corpus(tmp_path / "b.jsonl", 10), "jsonl")]
    total = (tmp_path / "a.jsonl").stat().st_size + (tmp_path / "b.jsonl").stat().st_size
    progress = Recorded(sources)
    assert progress.bar.total == total == input_size(sources)
    totals = clean_corpus(sources, lambda rows: None, model=tiny_model, batch_lines=40, progress=progress,
                          reading=progress)
    assert totals.documents == 40 and progress.documents == 40
    positions = progress.positions
    assert len(positions) >= 8 and positions == sorted(positions)  # batches of 5 pages
    assert 0 < positions[0] < total / 4  # moves within a file, not a file at a time
    assert positions[-1] == total


def test_standard_input_has_no_total_and_counts_documents():
    assert input_size([("-", "jsonl")]) is None
    progress = ReadProgress([("-", "jsonl")], file=io.StringIO())
    progress.update(3)
    assert progress.bar.total is None and progress.bar.n == 3
