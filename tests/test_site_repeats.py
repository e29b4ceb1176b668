"""The site-repeat signal: normalised line hashes counted per site, a page counting once."""
from __future__ import annotations

import numpy as np
import pytest

from boilercut import site_repeats
from boilercut.site_repeats import (
    SiteCounts,
    normalise_line,
    record_site,
    records_repeats,
    url_host,
)

MENU = "Home | News | Sport"


def counted(pages_by_site: dict[str, list[list[str]]], **kwargs) -> SiteCounts:
    counts = SiteCounts(**kwargs)
    for site, pages in pages_by_site.items():
        for lines in pages:
            counts.add_page(site, lines)
    return counts


def test_normalisation_is_ccnet_like():
    assert normalise_line("  Home > News (12)  ") == "home news 00"
    assert normalise_line("Straße — Seite 3/4") == "straße seite 0 0"
    assert normalise_line("ÜBER_UNS") == "über uns"
    assert normalise_line("--- * ---") == ""


def test_the_ascii_shortcut_normalises_as_the_unicode_rules_do():
    import re

    every_ascii = "".join(chr(c) for c in range(128))
    samples = [every_ascii, every_ascii[::-1], "Home  >\tNews_(12)\x0b\x0cend", "a-b_c.d/e 0x1F"]
    for line in samples:
        by_rules = re.sub(r"\s+", " ", re.sub(r"[^\w\s]|_", " ", re.sub(r"\d", "0", line.lower()))).strip()
        assert normalise_line(line) == by_rules


def test_other_pages_are_counted_and_a_page_counts_a_line_once():
    counts = counted({"a.com": [[MENU, "story one", MENU], [MENU.upper(), "story two"], [MENU, "story three"]]})
    repeats = counts.page_repeats("a.com", [MENU, "story one", "story one"])
    assert repeats.site_pages == 3
    assert repeats.other.tolist() == [2, 0, 0]


def test_lines_with_nothing_left_after_normalisation_have_no_repeats():
    counts = counted({"a.com": [["***", "x"], ["***", "y"], ["***", "z"]]})
    assert counts.page_repeats("a.com", ["***", "x"]).other.tolist() == [0, 0]


@pytest.mark.parametrize("site", [None, "two-pages.com", "never-seen.com"])
def test_unknown_and_small_sites_get_no_signal(site):
    counts = counted({"two-pages.com": [[MENU], [MENU]], "big.com": [[MENU]] * 3})
    assert counts.page_repeats(site, [MENU]) is None
    assert counts.page_repeats("big.com", [MENU]).other.tolist() == [2]


def test_sites_are_counted_apart():
    counts = counted({"a.com": [[MENU]] * 3, "b.com": [[MENU], ["other"], ["other"]]})
    assert counts.page_repeats("b.com", [MENU]).other.tolist() == [0]


def test_compacting_often_gives_the_same_counts(monkeypatch):
    pages = {f"s{k}.com": [["line " + "abc"[j % 3], f"own {k} " + "abcde"[j], "shared"] for j in range(5)] for k in range(4)}
    once = counted(pages)
    monkeypatch.setattr(site_repeats, "COMPACT_PAIRS", 2)
    often = counted(pages)
    assert len(often._pending) < 20  # it did compact on the way
    once.compact()
    often.compact()
    assert np.array_equal(once.keys, often.keys) and np.array_equal(once.counts, often.counts)


def test_counts_of_two_halves_add_up_to_the_counts_of_all():
    pages = [("a.com", ["menu", f"story {c}"]) for c in "abcdef"] + [("b.com", ["menu"])] * 3
    whole, first, second = SiteCounts(), SiteCounts(), SiteCounts()
    for i, (site, lines) in enumerate(pages):
        whole.add_page(site, lines)
        (first if i % 2 else second).add_page(site, lines)
    first.add_counts(second)
    whole.compact()
    assert first.site_pages == whole.site_pages
    assert np.array_equal(first.keys, whole.keys) and np.array_equal(first.counts, whole.counts)


def test_memory_is_twelve_bytes_per_distinct_site_line_pair():
    counts = counted({"a.com": [[MENU, f"story {c}"] for c in "abcd"], "b.com": [[MENU]] * 3})
    counts.compact()
    assert len(counts.keys) == 1 + 4 + 1  # a's menu, its four stories, b's menu
    assert counts.nbytes == 12 * 6


def test_the_site_of_a_record_is_its_url_host_or_the_named_field():
    assert url_host("https://WWW.Example.com:8080/a?b") == "example.com"
    assert url_host("example.org/page") == "example.org"
    assert url_host(None) is None and url_host("") is None
    assert record_site({"url": "http://news.example.com/x"}) == "news.example.com"
    assert record_site({"url": "http://x.com/", "domain": "y"}, "domain") == "y"
    assert record_site({"domain": ""}, "domain") is None


def test_views_of_labeled_pages_are_counted_apart():
    raw = [{"site": "s", "view": "raw", "lines": [MENU, f"page {c}"]} for c in "abc"]
    fineweb = [{"site": "s", "view": "fineweb", "lines": [f"page {c}"]} for c in "abc"]
    repeats = records_repeats(raw + fineweb)
    assert repeats[0].other.tolist() == [2, 0]
    assert repeats[0].site_pages == 3 and repeats[3].site_pages == 3


def test_a_datasets_first_map_counts_as_counting_the_pages_one_by_one():
    """clean_dataset(site_repeats=True) counts from the hashes of a first map(), here in two
    processes; rows with no site or no text are not counted."""
    from datasets import Dataset

    from boilercut.hf_datasets import count_dataset_sites

    rows = [{"text": f"Menu\nStory {'abcdef'[i]}\nShared footer {('even', 'odd')[i % 2]}", "url": f"https://www.a.com/{i}"}
            for i in range(6)]
    rows += [{"text": "Menu\nElsewhere", "url": "https://b.org/x"}, {"text": None, "url": "https://a.com/9"},
             {"text": "Menu", "url": None}]
    counts = count_dataset_sites(Dataset.from_list(rows), min_site_pages=2, num_proc=2, batch_size=2,
                                 keep_in_memory=True)
    expected = SiteCounts(2)
    for row in rows:
        if row["text"] is not None and row["url"] is not None:
            expected.add_page(url_host(row["url"]), row["text"].split("\n"))
    expected.compact()
    assert counts.site_pages == expected.site_pages
    assert np.array_equal(counts.keys, expected.keys) and np.array_equal(counts.counts, expected.counts)
    assert counts.page_repeats("a.com", ["Menu", "Shared footer odd"]).other.tolist() == [5, 2]
