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

1. SiteSignatures writes, per task, one file per shard (shard_SSSS/TTTTT.v2.sig, v2 the
   line hash version: the merge refuses files of another): for every page of a known
   site, its site hash, its number of distinct line hashes and the hashes (uint64 each).
   A site's pages all go to shard site_hash % shards.
2. SiteCountsMerge runs one task per shard and turns that shard's signatures into its
   site counts (site_repeats.SiteCounts, 12 bytes per distinct (site, line)), saved whole
   (shard_SSSS.npz), and, for every task of stage 1, the counts of that task's own pages'
   (site, line) pairs (task_TTTTT/shard_SSSS.npz), as datatrove's minhash dedup writes
   per-task results.
3. SiteRepeatsFilter is BoilercutFilter with the counts, and the model's site stage reads
   them. By default (per_task=True) task T loads task_TTTTT/*: memory in proportion to the
   distinct lines of its own pages, whatever the corpus; this needs stage 3 to read the
   same input with the same number of tasks as stage 1 (a missing file says so).
   per_task=False loads whole shards, each the first time one of its pages needs it (any
   input, but memory grows to every shard's counts in a task that sees every site).
   Output and statistics are those of `predict --site-repeats` either way (tested), plus
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
    LINE_HASH_VERSION,
    MIN_SITE_PAGES,
    SiteCounts,
    line_hashes,
    record_site,
    site_hash,
)


# Signature files name the line hash they hold: hashes of another version would count as
# other lines, silently.
SIGNATURE_SUFFIX = f".v{LINE_HASH_VERSION}.sig"


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
        files = [self.output_folder.open(f"shard_{s:04d}/{rank:05d}{SIGNATURE_SUFFIX}", mode="wb")
                 for s in range(self.shards)]
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
        names = self.input_folder.list_files(subdirectory=f"shard_{rank:04d}")
        other = [name for name in names if not name.endswith(SIGNATURE_SUFFIX)]
        if other:
            raise ValueError(f"{other[0]} is not a signature file of line hash version {LINE_HASH_VERSION} "
                             f"(*{SIGNATURE_SUFFIX}): run SiteSignatures again into an empty folder")
        for name in names:
            for site, hashes in self._pages(name):
                counts.add_hashes(site, hashes)
                self.stat_update("pages_counted")
        counts.compact()
        with self.output_folder.open(f"shard_{rank:04d}.npz", mode="wb") as f:
            np.savez(f, **counts.to_arrays())
        # The counts each task of stage 1 (and so of stage 3, run on the same input with
        # the same tasks) will look up: its own pages' pairs, read again from its file.
        for name in names:
            task = int(name.rsplit("/", 1)[-1].split(".")[0])  # NNNNN.v2.sig
            pages = list(self._pages(name))
            sites = np.array([site for site, _ in pages], dtype=np.uint64)
            pairs = np.concatenate([hashes ^ site for site, hashes in pages]) if pages else np.zeros(0, np.uint64)
            with self.output_folder.open(f"task_{task:05d}/shard_{rank:04d}.npz", mode="wb") as f:
                np.savez(f, **counts.subset(sites, pairs).to_arrays())
        self.stat_update("site_line_pairs", value=len(counts.keys))
        return
        yield

    def _pages(self, name: str):
        """(site hash, distinct line hashes) of every page of one signature file."""
        with self.input_folder.open(name, mode="rb") as f:
            values = np.frombuffer(f.read(), dtype=np.uint64)
        at = 0
        while at < len(values):
            n = int(values[at + 1])
            yield values[at], values[at + 2:at + 2 + n]
            at += 2 + n


class TaskCounts:
    """page_repeats over the counts stage 2 wrote for one task of stage 1: the pairs of
    that task's own pages, from every shard, loaded on first use."""

    def __init__(self, folder, task: int, shards: int, min_site_pages: int = MIN_SITE_PAGES):
        self.folder, self.task, self.shards, self.min_site_pages = folder, task, shards, min_site_pages
        self._counts: SiteCounts | None = None

    def counts(self) -> SiteCounts:
        if self._counts is None:
            merged = SiteCounts(self.min_site_pages)
            for shard in range(self.shards):
                name = f"task_{self.task:05d}/shard_{shard:04d}.npz"
                if not self.folder.exists(name):
                    raise FileNotFoundError(
                        f"{self.folder.path}/{name} is missing: SiteRepeatsFilter(per_task=True) must run with "
                        f"the input and the number of tasks of SiteSignatures (or per_task=False)")
                with self.folder.open(name, mode="rb") as f:
                    merged.add_counts(SiteCounts.from_arrays(dict(np.load(f)), self.min_site_pages))
            self._counts = merged
        return self._counts

    def page_repeats(self, site: str | None, lines):
        return None if site is None else self.counts().page_repeats(site, lines)


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

    def __init__(self, counts_folder: DataFolderLike, shards: int = 1, site_field: str | None = None,
                 per_task: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.counts_folder = get_datafolder(counts_folder)
        self.shards = _check_shards(shards)
        self.site_field = site_field
        self.per_task = per_task
        self._counts: TaskCounts | ShardedCounts | None = None
        self._rank = 0

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self._rank = rank  # per_task: which task's counts to read
        yield from super().run(data, rank, world_size)

    def clean(self, batch):
        if self._counts is None:
            stage = self.model.site_stage
            min_pages = stage.min_site_pages if stage is not None else MIN_SITE_PAGES
            self._counts = (TaskCounts(self.counts_folder, self._rank, self.shards, min_pages) if self.per_task
                            else ShardedCounts(self.counts_folder, self.shards, min_pages))
        sites = [record_site(doc.metadata, self.site_field) for doc in batch]
        return self._clean_batch(batch, sites=sites, site_counts=self._counts)
