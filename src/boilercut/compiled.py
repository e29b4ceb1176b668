"""The compiled loops of _kernels.c, or None.

The install builds them when it finds a C compiler (setup.py: an optional
extension). fast_tfidf, line_shape, line_hash, page_rows and page_lines use them when
they are there, and otherwise run their numpy code, which gives the same results, bit
for bit, slower.
BOILERCUT_NO_KERNELS=1 asks for the numpy code: to compare the two, or to rule the
compiled part out.

    from boilercut.compiled import KERNELS   # the module, or None
"""
from __future__ import annotations

import os

try:
    from boilercut import _kernels as KERNELS
except ImportError:
    KERNELS = None
if os.environ.get("BOILERCUT_NO_KERNELS", "") not in ("", "0"):
    KERNELS = None
