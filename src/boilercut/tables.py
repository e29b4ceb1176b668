"""Plain-text / Markdown tables of metrics, for terminals and report files."""
from __future__ import annotations

KEEP_COLUMNS = (
    ("line_f1", "line F1"), ("word_precision", "word P"), ("word_recall", "word R"),
    ("word_f1", "word F1"), ("boilerplate_words_removed", "boiler removed"),
    ("content_words_lost", "content lost"),
)
REMOVAL_PREFIX = "removed_at_"  # removed_at_<budget>_loss: metrics.removal_at_loss at that content loss


def _removal_column(results: dict[str, dict]) -> list[tuple[str, str]]:
    """The "removed @ loss" column, titled with the budget the metrics were computed at."""
    keys = sorted({k for m in results.values() for k in m if k.startswith(REMOVAL_PREFIX)})
    return [(k, f"removed @{float(k[len(REMOVAL_PREFIX):-len('_loss')]):.0%} loss") for k in keys]


def markdown_table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def keep_table(results: dict[str, dict]) -> str:
    """One row per method or split: the keep/drop metrics."""
    columns = list(KEEP_COLUMNS) + _removal_column(results)
    header = ["", "lines"] + [title for _, title in columns]
    rows = [[name, m.get("lines", "")] + [m.get(key, "") for key, _ in columns]
            for name, m in results.items()]
    return markdown_table(header, rows)


def class_table(classes: dict) -> str:
    """Per-class precision/recall/F1/support plus macro-F1."""
    rows = [[lab, c["precision"], c["recall"], c["f1"], c["support"]]
            for lab, c in classes["per_class"].items()]
    rows.append(["macro", "", "", classes["macro_f1"], ""])
    return markdown_table(["label", "precision", "recall", "F1", "lines"], rows)
