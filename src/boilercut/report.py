"""Write an evaluation report folder: metrics.json, report.md and PNG plots."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from boilercut.metrics import removal_key
from boilercut.tables import class_table, keep_table, markdown_table

logger = logging.getLogger(__name__)


def write_report(result: dict, folder: str | Path, title: str = "boilercut evaluation") -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(result, indent=1, default=float), encoding="utf-8")
    plots = []
    try:
        plots.append(plot_tradeoff(result, folder / "tradeoff.png", title))
        if "classes" in result:
            plots.append(plot_confusion(result["classes"], folder / "confusion.png", plot_title(result, title)))
    except ImportError:
        logger.warning("matplotlib is not installed (pip install -e .[eval]): no plots")
    (folder / "report.md").write_text(markdown_report(result, title, [p.name for p in plots]), encoding="utf-8")
    return folder


def markdown_report(result: dict, title: str, plots: list[str]) -> str:
    model = f" (model {result['model']})" if result.get("model") else ""
    parts = [f"# {title}", "", f"{result['pages']} pages; boilercut{model} {setting(result)}.",
             "", keep_table(result["methods"]), ""]
    if "classes" in result:
        parts += ["## Fine labels", "", class_table(result["classes"]), "", "Confusion (rows gold, columns predicted):", "",
                  markdown_table([""] + result["classes"]["labels"],
                                 [[lab] + row for lab, row in zip(result["classes"]["labels"],
                                                                  result["classes"]["confusion"])]), "",
                  "The same, as shares of each gold row:", "",
                  markdown_table([""] + result["classes"]["labels"],
                                 [[lab] + [f"{v:.1%}" for v in row] for lab, row in
                                  zip(result["classes"]["labels"], row_shares(result["classes"]["confusion"]))]), ""]
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


def plot_title(result: dict, title: str) -> str:
    """The set (title) and the model the figures show, on two lines."""
    return f"{title}\nmodel {result['model']}" if result.get("model") else title


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def plot_tradeoff(result: dict, path: Path, title: str = "boilercut evaluation") -> Path:
    return _save(tradeoff_figure(result, title), path)


def tradeoff_figure(result: dict, title: str = "boilercut evaluation"):
    """Content words lost vs boilerplate words removed, across thresholds, with the other
    methods as points, the content-loss budget (max_content_loss, 1% by default) as a line
    with the curve's best point within it, and keep-all at (0, 0) drawn above the axes."""
    plt = _pyplot()
    curve = result["curve"]
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    ax.plot(np.asarray(curve["content_lost"]) * 100, np.asarray(curve["boilerplate_removed"]) * 100,
            label="boilercut (all thresholds)")
    budget = result.get("max_content_loss")
    if budget is not None:
        best = result["methods"]["boilercut"].get(removal_key(budget))
        ax.axvline(budget * 100, color="grey", linestyle="--", linewidth=1,
                   label=f"content-loss budget {budget:.0%}")
        if best is not None:
            ax.scatter([budget * 100], [best * 100], marker="D", s=50, color="grey", zorder=4,
                       label=f"best within the budget: {best:.1%} removed")
    chosen = result["methods"]["boilercut"]
    ax.scatter([chosen["content_words_lost"] * 100], [chosen["boilerplate_words_removed"] * 100], marker="*",
               s=160, color="red", zorder=5, label=f"boilercut, {setting(result)}")
    for name, m in result["methods"].items():
        if name == "boilercut":
            continue
        style = {"marker": "s", "s": 70, "color": "black", "zorder": 6, "clip_on": False} if name == "keep-all" else {}
        ax.scatter([m["content_words_lost"] * 100], [m["boilerplate_words_removed"] * 100], label=name, **style)
    ax.set_xlabel("content words lost (%)")
    ax.set_ylabel("boilerplate words removed (%)")
    ax.set_xscale("symlog", linthresh=1)
    # A margin below 0 on both axes: keep-all sits at (0, 0), which the frame would hide.
    ax.set_xlim(-0.05, 100)
    ax.set_ylim(-3, 100)
    ax.xaxis.set_major_formatter(lambda value, _: f"{value:g}")  # 1, 10, 100 rather than 10^0 ...
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")  # the curve rises to the upper left
    ax.set_title(plot_title(result, title), fontsize=9)
    return fig


def plot_confusion(classes: dict, path: Path, title: str = "boilercut evaluation") -> Path:
    return _save(confusion_figure(classes, title), path)


def row_shares(matrix) -> np.ndarray:
    """The confusion matrix normalised per row (gold label): each row sums to 1, or is 0."""
    matrix = np.asarray(matrix, dtype=float)
    return matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)


def confusion_figure(classes: dict, title: str = "boilercut evaluation"):
    """Counts (left) and the same matrix normalised per gold row (right), both shaded by
    the row share so that a small class's errors show as clearly as a large one's."""
    plt = _pyplot()
    labels, matrix = classes["labels"], np.asarray(classes["confusion"], dtype=float)
    share = row_shares(matrix)
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.6))
    for ax, values, name in ((axes[0], matrix, "counts"), (axes[1], share, "share of the gold row")):
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(labels)):
            for j in range(len(labels)):
                text = f"{int(values[i, j])}" if values is matrix else f"{values[i, j]:.0%}"
                ax.text(j, i, text, ha="center", va="center", color="white" if share[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(labels)), labels, rotation=30)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(name, fontsize=9)
    fig.suptitle(title, fontsize=9)
    return fig
