"""The three datatrove stages of site-aware cleaning, with 2 tasks each, against predict --site-repeats."""
import gzip
import json

import pytest

pytest.importorskip("datatrove")

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from site_pages import as_corpus, site_records
from test_site_predict import predict, site_model_file  # noqa: F401  (the fixture too)

from boilercut.batch import SITE_STATS_FIELD
from boilercut.datatrove_sites import SiteCountsMerge, SiteRepeatsFilter, SiteSignatures

SHARDS = 2


def run_stages(corpus_dir, work, model_file, per_task=True):
    sigs, counts, out = work / "sigs", work / "counts", work / "out"
    LocalPipelineExecutor([JsonlReader(str(corpus_dir)), SiteSignatures(str(sigs), shards=SHARDS)],
                          tasks=2, logging_dir=str(work / "logs1")).run()
    LocalPipelineExecutor([SiteCountsMerge(str(sigs), str(counts), shards=SHARDS)],
                          tasks=SHARDS, logging_dir=str(work / "logs2")).run()
    LocalPipelineExecutor([JsonlReader(str(corpus_dir)),
                           SiteRepeatsFilter(str(counts), shards=SHARDS, model_path=model_file, batch_size=4,
                                             per_task=per_task),
                           JsonlWriter(str(out), compression=None)],
                          tasks=2, logging_dir=str(work / "logs3")).run()
    return [json.loads(line) for f in sorted(out.glob("*.jsonl")) for line in f.open()]


@pytest.mark.parametrize("per_task", [True, False])
def test_three_stages_give_the_one_machine_output(site_model_file, tmp_path, per_task):  # noqa: F811
    rows = as_corpus(site_records(sites=5, pages=5, seed=11))
    rows += [{"id": "no-url", "text": "Home | News\nA paragraph of its own about the harbour."}]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for part in range(2):  # two files: each task of a stage reads one
        (corpus / f"part{part}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[part::2]))
    staged = {d["id"]: d for d in run_stages(corpus, tmp_path, site_model_file, per_task)}

    single = tmp_path / "single.jsonl.gz"
    assert predict(*sorted(corpus.glob("*.jsonl")), "--output", single, "--model", site_model_file, "--quiet",
                   "--site-repeats") == 0
    with gzip.open(single, "rt", encoding="utf-8") as f:
        expected = {r["id"]: r for r in map(json.loads, f) if r["text"]}  # the step drops empty documents
    assert sum(r[SITE_STATS_FIELD] for r in expected.values()) > 0
    assert set(staged) == set(expected)
    for doc_id, row in expected.items():
        meta = staged[doc_id]["metadata"]
        assert staged[doc_id]["text"] == row["text"]
        assert (meta["lines_removed"], meta[SITE_STATS_FIELD]) == (row["lines_removed"], row[SITE_STATS_FIELD])


def test_the_merge_needs_one_task_per_shard(tmp_path):
    step = SiteCountsMerge(str(tmp_path / "a"), str(tmp_path / "b"), shards=3)
    with pytest.raises(ValueError, match="one task per shard"):
        list(step.run(rank=0, world_size=2))


def test_per_task_counts_hold_only_the_task_s_own_pairs(tmp_path):
    import numpy as np
    from datatrove.io import get_datafolder

    from boilercut.datatrove_sites import TaskCounts
    from boilercut.lines import split_lines
    from boilercut.site_repeats import SiteCounts, url_host

    rows = as_corpus(site_records(sites=4, pages=4, seed=3))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for part in range(2):
        (corpus / f"part{part}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[part::2]))
    sigs, counts = tmp_path / "sigs", tmp_path / "counts"
    LocalPipelineExecutor([JsonlReader(str(corpus)), SiteSignatures(str(sigs), shards=SHARDS)],
                          tasks=2, logging_dir=str(tmp_path / "l1")).run()
    LocalPipelineExecutor([SiteCountsMerge(str(sigs), str(counts), shards=SHARDS)],
                          tasks=SHARDS, logging_dir=str(tmp_path / "l2")).run()
    folder = get_datafolder(str(counts))
    whole = SiteCounts()
    for shard in range(SHARDS):
        with folder.open(f"shard_{shard:04d}.npz", "rb") as f:
            whole.add_counts(SiteCounts.from_arrays(dict(np.load(f))))
    per_task = [TaskCounts(folder, task, SHARDS).counts() for task in range(2)]
    assert all(0 < len(c.keys) < len(whole.keys) for c in per_task)
    for task, part in enumerate(range(2)):
        for row in rows[part::2]:  # every page of the task looks up what the whole counts say
            site, lines = url_host(row["url"]), split_lines(row["text"])
            expected, got = whole.page_repeats(site, lines), per_task[task].page_repeats(site, lines)
            assert (expected is None) == (got is None)
            if got is not None:
                assert got.other.tolist() == expected.other.tolist() and got.site_pages == expected.site_pages
    with pytest.raises(FileNotFoundError, match="number of tasks of SiteSignatures"):
        TaskCounts(folder, 5, SHARDS).counts()


def test_the_merge_refuses_signatures_of_another_line_hash(tmp_path):
    (tmp_path / "sigs" / "shard_0000").mkdir(parents=True)
    (tmp_path / "sigs" / "shard_0000" / "00000.sig").write_bytes(b"")  # an older boilercut's name
    step = SiteCountsMerge(str(tmp_path / "sigs"), str(tmp_path / "counts"), shards=1)
    with pytest.raises(ValueError, match="not a signature file of line hash version"):
        list(step.run(rank=0, world_size=1))
