"""A datatrove pipeline step that removes boilerplate lines from each document.

    pip install -e .[datatrove]

    from datatrove.executor import LocalPipelineExecutor   # or SlurmPipelineExecutor, RayPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from boilercut.datatrove_step import BoilercutFilter

    LocalPipelineExecutor(pipeline=[
        JsonlReader("crawl/"),
        BoilercutFilter(model_path="models/boilercut.joblib", max_removed_share=0.8),
        JsonlWriter("clean/"),
    ], tasks=64, workers=8).run()

Like datatrove's C4 filter it rewrites doc.text (to the kept lines) and returns False with
a named reason to drop a document; it records lines_kept, lines_removed and
words_removed_share in doc.metadata. The model is loaded on first use, in the task that
runs the step, so the step pickles small for Slurm and Ray.

A document is dropped only by the guard (max_removed_share, reason too_much_boilerplate).
One with no line left is passed on with text "" and lines_kept 0, as predict,
clean_dataset and clean_texts keep it: the front ends give the same documents, and a
pipeline that wants such documents gone says so with max_removed_share (any value below
1 drops every document that lost all its words).
"""
from __future__ import annotations

from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from boilercut.batch import STATS_FIELDS, check_options, clean_batch
from boilercut.model import LineModel
from boilercut.persist import load_model

# Documents per model call: the model is much faster on one batch than on single pages.
BATCH_SIZE = 256


class BoilercutFilter(BaseFilter):
    name = "✂️ boilercut"

    def __init__(self, model_path: str | Path | None = None, threshold: float | None = None,
                 keep: str | None = None, mode: str = "lines", max_removed_share: float | None = None,
                 batch_size: int = BATCH_SIZE, exclusion_writer: DiskWriter = None,
                 trust_model_file: bool = False):
        super().__init__(exclusion_writer, batch_size=batch_size)
        check_options(threshold, mode, max_removed_share)
        self.model_path = model_path
        self.threshold = threshold
        self.keep = keep
        self.mode = mode
        self.max_removed_share = max_removed_share
        self.trust_model_file = trust_model_file  # load_model(trust_model_file=...): only for files you trust
        self._model: LineModel | None = None

    @property
    def model(self) -> LineModel:
        if self._model is None:
            self._model = load_model(self.model_path, trust_model_file=self.trust_model_file)
        return self._model

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]

    def clean(self, batch: list[Document]) -> list:
        """The batch.Cleaned of each document (datatrove_sites.SiteRepeatsFilter adds site counts)."""
        return self._clean_batch(batch)

    def _clean_batch(self, batch: list[Document], **site_options) -> list:
        return clean_batch(self.model, [doc.text for doc in batch], self.threshold, self.mode,
                           self.max_removed_share, self.keep, **site_options)

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        results = self.clean(batch)
        decisions = []
        for doc, cleaned in zip(batch, results):
            doc.metadata.update(cleaned.stats())
            self.stat_update("lines_kept", value=cleaned.lines_kept)
            self.stat_update("lines_removed", value=cleaned.lines_removed)
            if cleaned.dropped:
                decisions.append((False, "too_much_boilerplate"))
                continue
            doc.text = cleaned.text  # "" when no line is left: kept, as every front end keeps it
            decisions.append(True)
        return decisions


__all__ = ["BoilercutFilter", "STATS_FIELDS"]
