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


def normalise_text(line: str) -> str:
    """Lower-case and map every digit to 0, so "(9753)" and "(12)" share n-grams."""
    return _DIGITS.sub("0", line.lower())


def normalise_head(line: str) -> str:
    """normalise_text of the first CHAR_FEATURE_CHARS characters (for the char n-grams)."""
    return normalise_text(line[:CHAR_FEATURE_CHARS])
