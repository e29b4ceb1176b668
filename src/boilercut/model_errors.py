"""The error a model file that cannot be used raises, wherever it is found.

persist.py (metadata, checksum, versions, labels), safe_format.py (.skops files) and the
commands (exit code 4) all use it; it lives here so that those modules import it from
one place and not from each other.
"""
from __future__ import annotations


class ModelFileError(ValueError):
    """A model file that is missing, corrupted, or incompatible; the message says what to do."""
