"""The state of one labeling server: the corpus pages, their order, the output file.

    session = LabelSession(model, pages, LabelFile(...), order="uncertain")
    session.start_scoring()        # the model's guesses, in a background thread
    session.next_page()            # the first page not finished nor skipped, as JSON
    session.accept("page-id", ["content", "nav", ...])

Methods return plain dicts (what the HTTP handler sends as JSON) and raise ValueError
for a request that cannot be served. They are called from the server's threads: page
state changes under one lock; the output file has its own.
"""
from __future__ import annotations

import getpass
import logging
import threading
import time
from datetime import datetime, timezone
from typing import Sequence

from boilercut.label.pages import Page, lines_digest
from boilercut.label.queue import UNSURE_MARGIN, order_pages, score_pages
from boilercut.label.store import LabelFile
from boilercut.model import LineModel

logger = logging.getLogger(__name__)


class LabelSession:
    def __init__(self, model: LineModel, pages: Sequence[Page], store: LabelFile, order: str = "uncertain",
                 seed: int = 0, annotator: str | None = None, adapt_command: str | None = None):
        self.model = model
        self.pages = list(pages)
        self.by_id = {p.id: p for p in self.pages}
        self.store = store
        self.order = order
        self.seed = seed
        self.annotator = annotator or getpass.getuser()
        self.adapt_command = adapt_command
        self.labels = display_labels(model)
        self.queue: list[Page] = []
        self.skipped: dict[str, None] = {}  # ids, in the order they were skipped
        self.scored = 0
        self.ready = threading.Event()
        self.error: str | None = None
        self._lock = threading.Lock()

    # Scoring --------------------------------------------------------------------------
    def start_scoring(self, progress=None) -> threading.Thread:
        """Score the pages not finished yet in a background thread, then order them;
        progress(n) is called after every n pages (a tqdm bar's update)."""
        thread = threading.Thread(target=self.score, args=(progress,), name="boilercut-label-scoring", daemon=True)
        thread.start()
        return thread

    def score(self, progress=None) -> None:
        todo = [p for p in self.pages if not self.store.is_done(p.id, p.digest)]
        self.scored = len(self.pages) - len(todo)

        def step(n: int) -> None:
            self.scored += n
            if progress is not None:
                progress(n)
        try:
            score_pages(self.model, todo, step)
            with self._lock:
                self.queue = order_pages(todo, self.order, self.seed)
        except Exception as err:  # shown in the page and the state, not lost in a thread
            logger.exception("scoring failed")
            self.error = f"scoring failed: {err}"
        self.ready.set()

    # Requests -------------------------------------------------------------------------
    def state(self) -> dict:
        self.store.refresh()
        labeled_here = sum(self.store.is_done(p.id, p.digest) for p in self.pages)
        return {
            "labels": self.labels, "keep_labels": list(self.model.keep_labels),
            "threshold": self.model.threshold, "unsure_margin": UNSURE_MARGIN,
            "pages": len(self.pages), "labeled": len(self.store.records), "labeled_here": labeled_here,
            "remaining": len(self.pages) - labeled_here, "skipped": len(self.skipped),
            "ready": self.ready.is_set(), "scored": self.scored, "error": self.error,
            "order": self.order, "output": str(self.store.path), "annotator": self.annotator,
            "adapt_command": self.adapt_command,
        }

    def next_page(self) -> dict:
        """The first page of the queue not finished (here or by another writer) and not
        skipped; skipped pages again once every other page is finished."""
        if not self.ready.is_set():
            return {"page": None, "state": self.state()}
        self.store.refresh()
        with self._lock:
            open_pages = [p for p in self.queue if not self.store.is_done(p.id, p.digest)]
            fresh = [p for p in open_pages if p.id not in self.skipped]
            page = (fresh or [self.by_id[i] for i in self.skipped if not self.store.is_done(i, self.by_id[i].digest)]
                    or [None])[0]
        return {"page": self._page_json(page) if page else None, "state": self.state()}

    def page(self, page_id: str) -> dict:
        """One page by id, with its latest labels when it is finished (to label again)."""
        self.store.refresh()
        page = self.by_id.get(page_id)
        record = self.store.latest(page_id, page.digest if page else None)
        if page is None and record is None:
            raise KeyError(f"no page with id {page_id!r}")
        if page is None:  # finished earlier, from another corpus: its lines are in the file
            page = Page(page_id, list(record["lines"]), _other_fields(record), "", lines_digest(record["lines"]))
        if not page.labels:
            score_pages(self.model, [page])
        return {"page": self._page_json(page, record), "state": self.state()}

    def done(self, limit: int = 200) -> dict:
        """The finished pages, the last labeled first."""
        self.store.refresh()
        recent = list(self.store.records.values())[::-1][:limit]
        return {"pages": [{"id": r["id"], "lines": len(r["lines"]), "labeled_at": r.get("labeled_at"),
                           "labeled_by": r.get("labeled_by")} for r in recent],
                "state": self.state()}

    def accept(self, page_id: str, labels: list) -> dict:
        """Append the page with these labels to the output (a finished page again: the
        later record wins)."""
        page = self.by_id.get(page_id)
        record = self.store.latest(page_id, page.digest if page else None)
        if page is None and record is None:
            raise KeyError(f"no page with id {page_id!r}")
        lines = page.lines if page is not None else record["lines"]
        fields = page.record if page is not None else _other_fields(record)
        if not isinstance(labels, list) or len(labels) != len(lines):
            raise ValueError(f"page {page_id!r} has {len(lines)} lines; got "
                             f"{len(labels) if isinstance(labels, list) else type(labels).__name__} labels")
        unknown = sorted({str(x) for x in labels if x not in self.labels})
        if unknown:
            raise ValueError(f"labels {unknown} are not among the model's labels {self.labels}")
        out = {"id": record["id"] if record is not None else page_id, **fields, "lines": lines,
               "labels": labels, "labeled_by": self.annotator,
               "labeled_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self.store.append(out)
        with self._lock:
            self.skipped.pop(page_id, None)
        return {"ok": True, "state": self.state()}

    def skip(self, page_id: str) -> dict:
        if page_id not in self.by_id:
            raise KeyError(f"no page with id {page_id!r}")
        with self._lock:
            self.skipped.pop(page_id, None)
            self.skipped[page_id] = None
        return self.next_page()

    def _page_json(self, page: Page, record: dict | None = None) -> dict:
        record = record if record is not None else self.store.latest(page.id, page.digest)
        return {"id": page.id, "site": page.site, "lines": page.lines, "model_labels": page.labels,
                "labels": list(record["labels"]) if record is not None else page.labels,
                "scores": page.scores, "strength": page.strength,
                "uncertainty": round(page.uncertainty, 4), "finished": record is not None,
                "labeled_at": record.get("labeled_at") if record is not None else None,
                "served_at": time.time()}


def display_labels(model: LineModel) -> list[str]:
    """The model's labels in the order of its training config (content, nav, clickbait,
    footer: keys 1-4), where it has one; else kept labels first, then the rest."""
    configured = model.metadata.get("config", {}).get("data", {}).get("labels") or []
    if sorted(configured) == sorted(model.labels):
        return list(configured)
    return sorted(model.labels, key=lambda x: (x not in model.keep_labels, x))


def _other_fields(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("id", "lines", "labels", "labeled_by", "labeled_at")}
