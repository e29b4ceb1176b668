"""Write an evaluation report folder: metrics.json, report.md and PNG plots."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from boilercut.tables import class_table, keep_table, markdown_table

logger = logging.getLogger(__name__)


def write_report(result: dict, folder: str | Path, title: str = "boilercut evaluation") -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(result, indent=1, default=float), encoding="utf-8")
    plots = []
    try:
        plots.append(plot_tradeoff(result, folder / "tradeoff.png"))
        if "classes" in result:
            plots.append(plot_confusion(result["classes"], folder / "confusion.png"))
    except ImportError:
        logger.warning("matplotlib is not installed (pip install -e .[eval]): no plots")
    (folder / "report.md").write_text(markdown_report(result, title, [p.name for p in plots]), encoding="utf-8")
    return folder


def markdown_report(result: dict, title: str, plots: list[str]) -> str:
    parts = [f"# {title}", "", f"{result['pages']} pages; boilercut {setting(result)}.",
             "", keep_table(result["methods"]), ""]
    if "classes" in result:
        parts += ["## Fine labels", "", class_table(result["classes"]), "", "Confusion (rows gold, columns predicted):", "",
                  markdown_table([""] + result["classes"]["labels"],
                                 [[lab] + row for lab, row in zip(result["classes"]["labels"],
                                                                  result["classes"]["confusion"])]), ""]
    for field, groups in result.get("breakdowns", {}).items():
        parts += [f"## boilercut by {field}", "", keep_table({f"{k} ({v['pages']} pages)": v for k, v in groups.items()}), ""]
    parts += [f"![{p}]({p})" for p in plots] + [""]
    for kind, heading in (("content_lost", "Pages losing the most content words"),
                          ("boilerplate_kept", "Pages keeping the most boilerplate words")):
        parts += [f"## {heading}", ""]
        for page in result["worst_pages"][kind]:
            parts.append(f"- **{page['id']}** ({page['words']} words)")
            parts += [f"  - line {ln['line']} ({ln['score']:.2f}): `{_code_span(ln['text'])}`"
                      for ln in page["lines"]]
        parts.append("")
    return "\n".join(parts)


def setting(result: dict) -> str:
    """How boilercut decided: "keep threshold 0.387" or "operating point auto"."""
    if result.get("threshold") is not None:
        return f"keep threshold {result['threshold']:.3f}"
    return f"operating point {result.get('operating_point')} (a threshold per page)"


def _code_span(text: str) -> str:
    return text[:160].replace("`", "'")


def plot_tradeoff(result: dict, path: Path) -> Path:
    """Content words lost vs boilerplate words removed, across thresholds; methods as points."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = result["curve"]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot(np.asarray(curve["content_lost"]) * 100, np.asarray(curve["boilerplate_removed"]) * 100,
            label="boilercut (all thresholds)")
    chosen = result["methods"]["boilercut"]
    ax.scatter([chosen["content_words_lost"] * 100], [chosen["boilerplate_words_removed"] * 100], marker="*",
               s=160, color="red", zorder=3, label=f"boilercut, {setting(result)}")
    for name, m in result["methods"].items():
        if name != "boilercut":
            ax.scatter([m["content_words_lost"] * 100], [m["boilerplate_words_removed"] * 100], label=name)
    ax.set_xlabel("content words lost (%)")
    ax.set_ylabel("boilerplate words removed (%)")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_confusion(classes: dict, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, matrix = classes["labels"], np.asarray(classes["confusion"], dtype=float)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center",
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=30)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
