"""Named keep thresholds ("operating points") and the per-page "auto" choice among them.

A keep threshold trades content lost against boilerplate removed, and the right trade
depends on the text (issue 13): raw scraper output is half menus, so the threshold with
the best word F1 there costs a few percent of content; FineWeb-style extractor output is
mostly content, where that same threshold drops several times more content words than
boilerplate words. So a model carries several thresholds, each chosen on validation pages
by an objective (train.py, conf/train.yaml `operating_points`):

    conservative   the most boilerplate removed at <= 1% content words lost
    balanced       the best word F1 at <= 5% lost (the model's own `threshold`)
    aggressive     the most boilerplate removed at <= 10% lost

and "auto" picks one per page by the page's detected style (page_style.py): by default
balanced for raw pages and conservative for extracted ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from boilercut.page_style import STYLES, PageStyle

AUTO = "auto"
BALANCED = "balanced"


@dataclass
class OperatingPoints:
    thresholds: dict[str, float]                            # point name -> keep threshold
    default: str = BALANCED                                 # a name in thresholds, or AUTO
    auto: dict[str, str] = field(default_factory=dict)      # page style -> point name
    page_style: PageStyle | None = None

    def __post_init__(self):
        for name, t in self.thresholds.items():
            if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= 1:
                raise ValueError(f"operating point {name!r}: threshold {t!r} is not between 0 and 1")
        if self.auto or self.default == AUTO:
            if self.page_style is None or set(self.auto) != set(STYLES):
                raise ValueError(f"the auto point needs a page-style detector and a point for each "
                                 f"style {STYLES}, got {self.auto}")
            for point in self.auto.values():
                self.check(point, allow_auto=False)
        self.check(self.default)

    @property
    def names(self) -> list[str]:
        return list(self.thresholds) + ([AUTO] if self.auto else [])

    def check(self, name: str | None, allow_auto: bool = True) -> None:
        """ValueError unless name is None (the default point) or one of the points."""
        if name is None:
            return
        if name not in self.thresholds and not (allow_auto and name == AUTO and self.auto):
            raise ValueError(f"unknown operating point {name!r}; this model has {', '.join(self.names)}")

    def page_thresholds(self, pages: Sequence[Sequence[str]], scores: Sequence[Sequence[float]],
                        keep: str | None = None, words: Sequence[Sequence[int]] | None = None) -> np.ndarray:
        """The keep threshold of each page (scores: its lines' keep scores; words: their
        word counts, if counted already) at point `keep` (None: the default point)."""
        keep = self.default if keep is None else keep
        self.check(keep)
        if keep != AUTO:
            return np.full(len(pages), float(self.thresholds[keep]))
        extracted = self.page_style.is_extracted(pages, scores, words)
        return np.where(extracted, self.thresholds[self.auto["extracted"]], self.thresholds[self.auto["raw"]])

    def to_dict(self) -> dict:
        return {"thresholds": dict(self.thresholds), "default": self.default, "auto": dict(self.auto),
                "page_style": self.page_style.to_dict() if self.page_style is not None else None}

    @classmethod
    def from_dict(cls, d: dict) -> "OperatingPoints":
        if not isinstance(d, dict) or not isinstance(d.get("thresholds"), dict):
            raise ValueError("operating points must be an object with a 'thresholds' object")
        style = d.get("page_style")
        return cls(thresholds={str(k): v for k, v in d["thresholds"].items()}, default=str(d.get("default", BALANCED)),
                   auto=dict(d.get("auto") or {}), page_style=PageStyle.from_dict(style) if style else None)
