"""Tiny labeled sites for the site-repeat tests: every page of a site shares its menu and
footer, and between its paragraphs shows a rotating pick of the site's teasers, written
like the paragraphs (same words, same length): alone, a teaser reads like the article."""
from __future__ import annotations

import random

WORDS = ["river", "council", "budget", "station", "harbour", "school", "museum", "bridge", "festival", "library", "market", "tram", "garden", "hospital", "theatre", "stadium", "factory", "airport", "village", "forest"]


def _sentence(rng: random.Random, n: int = 12) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def site_records(sites: int = 4, pages: int = 6, seed: int = 0) -> list[dict]:
    """sites x pages records with `site`, `url`, lines and labels."""
    rng = random.Random(seed)
    records = []
    for s in range(sites):
        host = f"site{s}.example"
        menu = f"Home | {WORDS[s].title()} | {WORDS[s + 1].title()} | Contact"
        footer = f"© 2024 {WORDS[s].title()} Media. All rights reserved."
        teasers = [_sentence(rng) for _ in range(5)]
        for p in range(pages):
            lines = [menu, f"{_sentence(rng, 6)[:-1]}"]
            labels = ["nav", "content"]
            for teaser in rng.sample(teasers, 3):
                lines += [_sentence(rng), teaser]
                labels += ["content", "clickbait"]
            lines.append(footer)
            labels.append("footer")
            records.append({"id": f"{host}/{p}", "site": host, "url": f"https://www.{host}/news/{p}",
                            "lines": lines, "labels": labels, "lang": "en", "site_kind": "news"})
    return records


def as_corpus(records: list[dict]) -> list[dict]:
    """The records as a FineWeb-style corpus: id, url, text."""
    return [{"id": r["id"], "url": r["url"], "text": "\n".join(r["lines"])} for r in records]
