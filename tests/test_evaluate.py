"""The evaluation: all methods on the same lines, breakdowns, and the report folder."""
import json

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
