"""Site-aware cleaning with datatrove, in three stages, as datatrove's own dedup steps are built.

    pip install -e .[datatrove]

    from datatrove.executor import LocalPipelineExecutor   # or SlurmPipelineExecutor, RayPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from boilercut.datatrove_sites import SiteCountsMerge, SiteRepeatsFilter, SiteSignatures

    SHARDS = 4
    LocalPipelineExecutor([JsonlReader("crawl/"), SiteSignatures("sites/sigs", shards=SHARDS)],
                          tasks=64, logging_dir="logs/sigs").run()
    LocalPipelineExecutor([SiteCountsMerge("sites/sigs", "sites/counts", shards=SHARDS)],
                          tasks=SHARDS, logging_dir="logs/counts").run()
    LocalPipelineExecutor([JsonlReader("crawl/"), SiteRepeatsFilter("sites/counts", shards=SHARDS),
                           JsonlWriter("clean/")], tasks=64, logging_dir="logs/clean").run()

1. SiteSignatures writes, per task, one file per shard: for every page of a known site,
   its site hash, its number of distinct line hashes and the hashes (uint64 each). A
   site's pages all go to shard site_hash % shards.
2. SiteCountsMerge runs one task per shard and turns that shard's signatures into its
   site counts (site_repeats.SiteCounts, 12 bytes per distinct (site, line)).
3. SiteRepeatsFilter is BoilercutFilter with the counts: each task loads a shard's counts
   the first time one of its pages needs them (so memory grows to all shards' counts in
   a task that sees every site), and the model's site stage reads them. Output and
   statistics are those of `predict --site-repeats` (tested), plus
   lines_removed_site_repeated in doc.metadata.

A page's site is its metadata's site_field, or the host of its "url" metadata (the
readers put the record's other fields in doc.metadata).
"""
from __future__ import annotations

import numpy as np
from datatrove.data import DocumentsPipeline
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep

from boilercut.datatrove_step import BoilercutFilter
from boilercut.lines import split_lines
from boilercut.site_repeats import (
    MIN_SITE_PAGES,
    SiteCounts,
    line_hashes,
    record_site,
    site_hash,
)


def _check_shards(shards: int) -> int:
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise ValueError(f"shards must be a whole number >= 1, got {shards!r}")
    return shards


class SiteSignatures(PipelineStep):
    """Stage 1: (site hash, line hashes) of every page, sharded by site hash."""

    name = "🏷 site signatures"
    type = "✂️ - BOILERCUT"

    def __init__(self, output_folder: DataFolderLike, shards: int = 1, site_field: str | None = None):
        super().__init__()
        self.output_folder = get_datafolder(output_folder)
        self.shards = _check_shards(shards)
        self.site_field = site_field

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        files = [self.output_folder.open(f"shard_{s:04d}/{rank:05d}.sig", mode="wb") for s in range(self.shards)]
        try:
            for doc in data:
                with self.track_time():
                    site = record_site(doc.metadata, self.site_field)
                    if site is None:
                        self.stat_update("no_site")
                        continue
                    key = site_hash(site)
                    hashes = np.unique(line_hashes(split_lines(doc.text)))
                    hashes = hashes[hashes != 0]
                    header = np.array([key, len(hashes)], dtype=np.uint64)
                    files[int(key) % self.shards].write(header.tobytes() + hashes.tobytes())
                    self.stat_update("pages_signed")
        finally:
            for f in files:
                f.close()
        return
        yield  # a generator that yields nothing: the last step of its pipeline


class SiteCountsMerge(PipelineStep):
    """Stage 2: one task per shard merges the shard's signatures into its site counts."""

    name = "🧮 site counts"
    type = "✂️ - BOILERCUT"

    def __init__(self, input_folder: DataFolderLike, output_folder: DataFolderLike, shards: int = 1):
        super().__init__()
        self.input_folder = get_datafolder(input_folder)
        self.output_folder = get_datafolder(output_folder)
        self.shards = _check_shards(shards)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if world_size != self.shards:
            raise ValueError(f"SiteCountsMerge runs one task per shard: tasks={world_size}, shards={self.shards}")
        counts = SiteCounts()
        for name in self.input_folder.list_files(subdirectory=f"shard_{rank:04d}"):
            with self.input_folder.open(name, mode="rb") as f:
                values = np.frombuffer(f.read(), dtype=np.uint64)
            at = 0
            while at < len(values):
                n = int(values[at + 1])
                counts.add_hashes(values[at], values[at + 2:at + 2 + n])
                at += 2 + n
                self.stat_update("pages_counted")
        with self.output_folder.open(f"shard_{rank:04d}.npz", mode="wb") as f:
            np.savez(f, **counts.to_arrays())
        self.stat_update("site_line_pairs", value=len(counts.keys))
        return
        yield


class ShardedCounts:
    """page_repeats over the shards' counts in counts_folder, each loaded on first use."""

    def __init__(self, folder, shards: int, min_site_pages: int = MIN_SITE_PAGES):
        self.folder, self.shards, self.min_site_pages = folder, shards, min_site_pages
        self._loaded: dict[int, SiteCounts] = {}

    def shard(self, site: str) -> SiteCounts:
        index = int(site_hash(site)) % self.shards
        if index not in self._loaded:
            with self.folder.open(f"shard_{index:04d}.npz", mode="rb") as f:
                arrays = dict(np.load(f))
            self._loaded[index] = SiteCounts.from_arrays(arrays, self.min_site_pages)
        return self._loaded[index]

    def page_repeats(self, site: str | None, lines):
        return None if site is None else self.shard(site).page_repeats(site, lines)


class SiteRepeatsFilter(BoilercutFilter):
    """Stage 3: BoilercutFilter reading the site counts of stage 2."""

    name = "✂️ boilercut (site repeats)"

    def __init__(self, counts_folder: DataFolderLike, shards: int = 1, site_field: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.counts_folder = get_datafolder(counts_folder)
        self.shards = _check_shards(shards)
        self.site_field = site_field
        self._counts: ShardedCounts | None = None

    def clean(self, batch):
        if self._counts is None:
            stage = self.model.site_stage
            self._counts = ShardedCounts(self.counts_folder, self.shards,
                                         stage.min_site_pages if stage is not None else MIN_SITE_PAGES)
        sites = [record_site(doc.metadata, self.site_field) for doc in batch]
        return self._clean_batch(batch, sites=sites, site_counts=self._counts)
