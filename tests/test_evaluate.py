"""The evaluation: all methods on the same lines, breakdowns, and the report folder."""
import json

import pytest

from boilercut.evaluation import evaluate
from boilercut.report import write_report
from conftest import tiny_records


def test_evaluate_scores_every_method_and_breaks_down(tiny_model):
    records = tiny_records(6, seed=5)
    result = evaluate(tiny_model, records, breakdown_by=["site_kind", "missing_field"],
                      use_justext=False, progress=False)
    assert set(result["methods"]) == {"boilercut", "keep-all", "c4-rule", "refinedweb-rule"}
    n_known = sum(lab is not None for r in records for lab in r["labels"])
    assert all(m["lines"] == n_known for m in result["methods"].values())
    assert result["methods"]["keep-all"]["content_words_lost"] == 0
    assert set(result["breakdowns"]) == {"site_kind"}
    groups = result["breakdowns"]["site_kind"]
    assert sum(g["pages"] for g in groups.values()) == 6 and set(groups) == {"news", "mirror"}
    assert result["classes"]["labels"] == tiny_model.labels


def test_report_folder_files_exist_and_parse(tiny_model, tmp_path):
    result = evaluate(tiny_model, tiny_records(4, seed=9), breakdown_by=["lang"], use_justext=False,
                      progress=False)
    folder = write_report(result, tmp_path / "report")
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["methods"]["boilercut"]["lines"] > 0
    md = (folder / "report.md").read_text()
    assert "| boilercut |" in md and "## boilercut by lang" in md
    for png in ("tradeoff.png", "confusion.png"):
        assert (folder / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_scores_the_operating_point_asked_for(tiny_model):
    from dataclasses import replace

    from boilercut.operating_points import OperatingPoints

    model = replace(tiny_model, points=OperatingPoints({"balanced": 0.5, "everything": 0.0}, default="balanced"))
    records = tiny_records(6, seed=5)
    everything = evaluate(model, records, keep="everything", use_justext=False, progress=False)
    assert everything["methods"]["boilercut"]["content_words_lost"] == 0
    assert everything["methods"]["boilercut"]["boilerplate_words_removed"] == 0
    assert everything["operating_point"] == "everything" and everything["threshold"] == 0.0
    default = evaluate(model, records, use_justext=False, progress=False)
    assert default["operating_point"] == "balanced" and default["threshold"] == 0.5
    assert default["methods"]["boilercut"]["boilerplate_words_removed"] > 0


def _saved_and_loaded(tiny_model, tmp_path):
    from boilercut import load_model
    from boilercut.persist import save_model

    return load_model(save_model(tiny_model, tmp_path / "m.joblib"))


def test_tradeoff_plot_names_set_and_model_marks_the_budget_and_shows_keep_all(tiny_model, tmp_path):
    pytest.importorskip("matplotlib")
    from boilercut.report import tradeoff_figure

    model = _saved_and_loaded(tiny_model, tmp_path)
    result = evaluate(model, tiny_records(6, seed=5), use_justext=False, progress=False)
    assert result["model"] == f"m.joblib {model.metadata['model_sha256'][:8]}" and result["max_content_loss"] == 0.01
    ax = tradeoff_figure(result, "boilercut on dev.jsonl").axes[0]
    assert "boilercut on dev.jsonl" in ax.get_title() and result["model"] in ax.get_title()
    assert any(list(line.get_xdata()) == [1.0, 1.0] for line in ax.get_lines())  # the 1% budget
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    best = result["methods"]["boilercut"]["removed_at_0.01_loss"]
    assert "content-loss budget 1%" in legend and f"best within the budget: {best:.1%} removed" in legend
    keep_all = next(c for c in ax.collections if c.get_label() == "keep-all")
    assert keep_all.get_offsets().tolist() == [[0.0, 0.0]]
    (x0, _), (y0, _) = ax.get_xlim(), ax.get_ylim()
    assert x0 < 0 and y0 < 0  # (0, 0) lies inside the frame, not on it


def test_confusion_plot_shows_counts_beside_shares_of_each_gold_row(tiny_model):
    pytest.importorskip("matplotlib")
    from boilercut.report import confusion_figure

    classes = evaluate(tiny_model, tiny_records(6, seed=5), use_justext=False, progress=False)["classes"]
    counts_ax, shares_ax = confusion_figure(classes, "set").axes[:2]
    k = len(classes["labels"])
    counts = [int(t.get_text()) for t in counts_ax.texts]
    assert counts == [n for row in classes["confusion"] for n in row]
    shares = [float(t.get_text().rstrip("%")) for t in shares_ax.texts]
    for i, row in enumerate(classes["confusion"]):
        if sum(row):
            assert sum(shares[i * k:(i + 1) * k]) == pytest.approx(100, abs=k)  # rounded to whole percents
            assert shares[i * k + i] == pytest.approx(100 * row[i] / sum(row), abs=0.5)
