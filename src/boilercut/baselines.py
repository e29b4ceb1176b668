"""Line rules that people use instead of a model, to compare boilercut against.

Each baseline maps a page's lines to keep decisions (True = keep), as boilercut does.
"""
from __future__ import annotations

import html
import re
from typing import Callable, Sequence

from boilercut.lines import count_words

C4_TERMINAL = (".", "!", "?", '"', "”", "'", "’", "。", "！", "？")
# Social counters as RefinedWeb describes them ("3 likes", "Share 1.2K", "12 Comments").
_COUNTER = re.compile(
    r"^\W*(\d[\d.,]*\s*[kKmM]?\s*(likes?|shares?|comments?|views?|replies|retweets?|followers?|votes?)"
    r"|(likes?|shares?|comments?|views?|replies|tweet|retweets?|votes?)\W*\d[\d.,]*\s*[kKmM]?)\W*$",
    re.IGNORECASE,
)
_MENU_SEPARATORS = (" | ", " > ", " » ", " › ", " · ", " • ", " :: ")


def keep_all(lines: Sequence[str]) -> list[bool]:
    return [True for _ in lines]


def c4_rule(lines: Sequence[str]) -> list[bool]:
    """C4: keep lines that end in terminal punctuation and have at least 3 words."""
    return [line.rstrip().endswith(C4_TERMINAL) and count_words(line) >= 3 for line in lines]


def refinedweb_keeps(line: str) -> bool:
    """RefinedWeb-style line corrections: False for lines they would remove."""
    text = line.strip()
    letters = [c for c in text if c.isalpha()]
    if count_words(text) < 2:
        return False
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.5:
        return False  # mostly uppercase: menus, shouted buttons
    if not letters and any(c.isdigit() for c in text):
        return False  # only numbers, dates, prices
    if _COUNTER.match(text):
        return False
    if sum(text.count(s) for s in _MENU_SEPARATORS) >= 2:
        return False  # breadcrumb or flattened menu
    return True


def refinedweb_rule(lines: Sequence[str]) -> list[bool]:
    return [refinedweb_keeps(line) for line in lines]


# jusText names its stoplists by language name.
JUSTEXT_LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish",
                     "pt": "Portuguese", "ru": "Russian", "it": "Italian", "cs": "Czech",
                     "nl": "Dutch", "pl": "Polish"}


def justext_available() -> bool:
    try:
        import justext  # noqa: F401
    except ImportError:
        return False
    return True


def justext_rule(lines: Sequence[str], lang: str = "en") -> list[bool]:
    """jusText on the lines, each line one <p> block; keeps what jusText calls good.

    Languages without a jusText stoplist (zh, ja, ko, ...) use the English one, which
    makes jusText drop almost everything there: that is jusText's real behaviour.
    """
    import justext

    if not lines:
        return []
    stoplist = justext.get_stoplist(JUSTEXT_LANGUAGES.get(lang or "en", "English"))
    body = "".join(f"<p>{html.escape(line)}</p>\n" for line in lines)
    paragraphs = justext.justext(f"<html><body>{body}</body></html>".encode("utf-8", "surrogatepass"),
                                 stoplist, encoding="utf-8")
    if len(paragraphs) != len(lines):
        # jusText drops blocks that are empty after whitespace normalisation; match by text.
        good = {" ".join(p.text.split()) for p in paragraphs if not p.is_boilerplate}
        return [" ".join(line.split()) in good for line in lines]
    return [not p.is_boilerplate for p in paragraphs]


BASELINES: dict[str, Callable] = {"keep-all": keep_all, "c4-rule": c4_rule, "refinedweb-rule": refinedweb_rule}
