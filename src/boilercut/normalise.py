"""How line text is normalised before the TF-IDF vectorizers see it.

Module-level functions (not lambdas) so that fitted vectorizers pickle, and in a module
of their own so that both the Pipeline (model.py) and the batch transforms
(fast_tfidf.py) use the very same functions.
"""
from __future__ import annotations

import re

_DIGITS = re.compile(r"\d")
# Word tokens: runs of word characters, single-letter words included ("a", "I", "é").
WORD_TOKEN_PATTERN = r"(?u)\b\w+\b"
# Char n-grams see only the head of a line: they tell what kind of line it is (menu,
# counter, date, sentence) from its first words, and more characters cost time.
CHAR_FEATURE_CHARS = 160


# The head of a line: its first words and the marks between them, the marks spelled as
# words so that the word vectorizer keeps them ("Watch: ..." -> "watch xcolon ...").
_HEAD_TOKEN = re.compile(r"\w+|[:|»›>—–]")
_HEAD_MARKS = {":": "xcolon", "|": "xbar", "»": "xarrow", "›": "xarrow", ">": "xarrow",
               "—": "xdash", "–": "xdash"}
HEAD_CHARS = 40  # the first words of a line sit in its first 40 characters


def line_head(line: str, tokens: int = 3) -> str:
    """The first `tokens` words and marks of a line ("Watch: Biden's ..." -> "Watch xcolon
    Biden"): a promo label, a byline's "By", a pager's "Previous" are told by how a line
    starts, which the word features of a long line dilute."""
    found = _HEAD_TOKEN.findall(line[:HEAD_CHARS])[:tokens]
    return " ".join(_HEAD_MARKS.get(t, t) for t in found)


def normalise_text(line: str) -> str:
    """Lower-case and map every digit to 0, so "(9753)" and "(12)" share n-grams."""
    return _DIGITS.sub("0", line.lower())


def normalise_head(line: str) -> str:
    """normalise_text of the first CHAR_FEATURE_CHARS characters (for the char n-grams)."""
    return normalise_text(line[:CHAR_FEATURE_CHARS])
