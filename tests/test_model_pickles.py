"""Loading a .joblib model runs no code from the file: only what a boilercut model holds
is built, everything else is refused by name before it runs (issue 17, item 3).

Every forged file here comes with metadata that carries its true SHA-256, as from an
attacker who hands over both files: only the unpickler's allow-list stands in the way.
"""
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import joblib
import numpy as np
import pytest
from conftest import (
    CONF,
    TINY_CLASSIFIER,
    TINY_FEATURES,
    TINY_PAGE,
    tiny_records,
    write_jsonl,
)

from boilercut import load_model, score_lines
from boilercut.context_stage import ContextStage
from boilercut.model import LineModel
from boilercut.persist import (
    ModelFileError,
    metadata_path,
    save_model,
    sha256_file,
    stored_form,
)
from boilercut.training import fit_line_model

TESTS = Path(__file__).resolve().parent
LINES = TINY_PAGE.split("\n")


class RunsACommand:
    """Unpickling it calls os.system (the global 'posix.system' on Linux)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class QuietStage(ContextStage):
    """A harmless context stage of a class no boilercut model holds."""


def forge(path: Path, stored, compress: int = 3) -> Path:
    """Replace a saved model's file with `stored` and give its metadata the new SHA-256."""
    joblib.dump(stored, path, compress=compress)
    meta_file = metadata_path(path)
    meta = json.loads(meta_file.read_text())
    meta["model_sha256"] = sha256_file(path)
    meta_file.write_text(json.dumps(meta))
    return path


def forge_quiet_stage(model: LineModel, path: Path) -> Path:
    """The model saved with a QuietStage for context stage: a file only a trusting load accepts."""
    stage = QuietStage(**model.context_stage.get_params())
    stage.classifier_ = model.context_stage.classifier_
    return forge(path, {"pipeline": model.pipeline, "context_stage": stage})


def forge_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    meta_file = metadata_path(path)
    meta = json.loads(meta_file.read_text())
    meta["model_sha256"] = sha256_file(path)
    meta_file.write_text(json.dumps(meta))
    return path


@pytest.fixture
def model_path(tiny_model, tmp_path) -> Path:
    return save_model(tiny_model, tmp_path / "m.joblib")


def refusal(path: Path, **kwargs) -> str:
    with pytest.raises(ModelFileError) as caught:
        load_model(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("compress", [0, 3], ids=["plain", "compressed-like-save_model"])
def test_a_file_that_runs_a_command_is_refused_before_it_runs(model_path, tmp_path, compress):
    marker = tmp_path / "marker"
    forge(model_path, {"pipeline": RunsACommand(marker), "context_stage": None}, compress)
    message = refusal(model_path)
    assert message == (f"{model_path}: refuses to load global 'posix.system' (not part of a boilercut "
                       "model); if you trust this file, pass --trust-model-file (evaluate: "
                       "eval.trust_model_file=true; Python: load_model(path, trust_model_file=True))")
    assert not marker.exists()


def test_a_harmless_object_of_an_unlisted_class_is_refused(model_path):
    forge(model_path, {"pipeline": Fraction(1, 3), "context_stage": None})
    assert "refuses to load global 'fractions.Fraction'" in refusal(model_path)


def test_an_unlisted_scikit_learn_estimator_is_refused(model_path):
    from sklearn.tree import DecisionTreeClassifier

    forge(model_path, {"pipeline": DecisionTreeClassifier(), "context_stage": None})
    assert "refuses to load global 'sklearn.tree._classes.DecisionTreeClassifier'" in refusal(model_path)


def test_an_array_of_python_objects_is_refused_unread(model_path, tmp_path):
    """joblib stores such an array as a second pickle inside the file (older joblib
    versions read it with the unrestricted pickle.load); no boilercut model holds one."""
    marker = tmp_path / "marker"
    forge(model_path, {"pipeline": np.array([RunsACommand(marker), 1], dtype=object), "context_stage": None})
    assert "refuses to load an array of Python objects" in refusal(model_path)
    assert not marker.exists()


def test_a_file_that_sets_attributes_of_a_global_is_refused(model_path):
    """BUILD on a global function or class would change it for the whole process."""
    from boilercut import normalise

    # normalise_text, then BUILD with the state (None, {"__defaults__": ("x",)}): setattr
    pickled = (b"\x80\x02cboilercut.normalise\nnormalise_text\nN}X\x0c\x00\x00\x00__defaults__"
               b"X\x01\x00\x00\x00x\x85s\x86b.")
    forge_bytes(model_path, pickled)
    try:
        assert "refuses to set the attributes of 'boilercut.normalise.normalise_text'" in refusal(model_path)
        assert normalise.normalise_text.__defaults__ is None
    finally:
        normalise.normalise_text.__defaults__ = None


def test_an_old_joblib_format_is_refused(model_path):
    """joblib < 0.10 files are read by joblib's own compatibility unpickler, unrestricted."""
    forge_bytes(model_path, b"ZF0x00000000000000a0" + b"x" * 40)
    assert "cannot be loaded" in refusal(model_path)


def test_an_unlisted_class_loads_when_the_file_is_trusted(tiny_model, model_path):
    forge_quiet_stage(tiny_model, model_path)
    assert "refuses to load global 'test_model_pickles.QuietStage'" in refusal(model_path)
    trusted = load_model(model_path, trust_model_file=True)
    assert isinstance(trusted.context_stage, QuietStage)
    assert score_lines(LINES, model=trusted) == score_lines(LINES, model=tiny_model)


def binary(records: list[dict]) -> list[dict]:
    return [{**r, "labels": [lab if lab in (None, "content") else "boilerplate" for lab in r["labels"]]}
            for r in records]


@pytest.mark.parametrize("features, stage, records", [
    ({}, None, tiny_records()),
    ({"position": True, "line_head": True, "shape_clip": None}, {"folds": 2, "radii": [2]}, tiny_records()),
    ({"char_ngram_max": 0}, {"folds": 2, "radii": [2]}, binary(tiny_records())),
], ids=["no-context-stage", "every-optional-feature", "binary-word-features-only"])
def test_freshly_fitted_models_load_through_the_allow_list(tmp_path, features, stage, records):
    """A new estimator or a new kind of attribute in model.py fails here, not in a user's hands."""
    pipeline, context_stage = fit_line_model(records, {**TINY_FEATURES, **features}, TINY_CLASSIFIER,
                                             context_stage=stage)
    model = LineModel(pipeline, context_stage=context_stage)
    loaded = load_model(save_model(model, tmp_path / "m.joblib"))
    assert score_lines(LINES, model=loaded) == score_lines(LINES, model=model)


def test_the_session_model_loads_from_an_uncompressed_file(tiny_model, model_path):
    forge(model_path, stored_form(tiny_model), compress=0)
    assert score_lines(LINES, model=load_model(model_path)) == score_lines(LINES, model=tiny_model)


def test_a_format_2_file_the_bare_pipeline_loads(tiny_model, model_path):
    forge(model_path, tiny_model.pipeline)
    meta = json.loads(metadata_path(model_path).read_text())
    metadata_path(model_path).write_text(json.dumps({**meta, "format_version": 2}))
    assert load_model(model_path).context_stage is None


@pytest.mark.parametrize("path", ["", "/", "."])
def test_a_path_that_cannot_name_a_model_file_is_a_model_file_error(path):
    with pytest.raises(ModelFileError, match="not a model file"):
        load_model(path)


def run_predict(*args, cwd):
    # The boilercut under test, and the tests folder, so that a trusted file can name a
    # class defined here.
    import boilercut

    path = [str(Path(boilercut.__file__).parents[1]), str(TESTS), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    return subprocess.run([sys.executable, "-m", "predict", *args], cwd=cwd, env=env, check=False,
                          capture_output=True, timeout=300)


def test_predict_refuses_the_file_in_one_line_and_runs_nothing(model_path, tmp_path):
    marker = tmp_path / "marker"
    forge(model_path, {"pipeline": RunsACommand(marker), "context_stage": None})
    page = tmp_path / "page.txt"
    page.write_text(TINY_PAGE + "\n")
    out = run_predict("--model", str(model_path), str(page), cwd=tmp_path)
    assert out.returncode == 4 and out.stdout == b""
    assert out.stderr.decode().startswith(f"predict: error: {model_path}: refuses to load global 'posix.system'")
    assert out.stderr.count(b"\n") == 1
    assert not marker.exists()


def test_predict_trust_model_file_loads_an_unlisted_class(tiny_model, model_path, tmp_path):
    forge_quiet_stage(tiny_model, model_path)
    page = tmp_path / "page.txt"
    page.write_text(TINY_PAGE + "\n")
    refused = run_predict("--model", str(model_path), str(page), cwd=tmp_path)
    assert refused.returncode == 4 and b"QuietStage" in refused.stderr
    trusted = run_predict("--model", str(model_path), "--trust-model-file", str(page), cwd=tmp_path)
    assert trusted.returncode == 0, trusted.stderr.decode()
    assert trusted.stdout.decode().split("\n")[:2] == LINES[2:4]


def compose_evaluate(overrides: list[str]):
    from hydra import compose, initialize_config_dir

    import boilercut.configs  # noqa: F401  registers the ${boilercut:...} resolver

    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        return compose(config_name="evaluate", overrides=overrides)


def test_evaluate_refuses_the_file_unless_the_config_trusts_it(tiny_model, model_path, tmp_path):
    from boilercut import evaluate

    forge_quiet_stage(tiny_model, model_path)
    data = write_jsonl(tmp_path / "eval.jsonl", tiny_records(4, seed=7))
    overrides = [f"eval.model_path={model_path}", f"eval.files=[{data}]", f"eval.report_dir={tmp_path / 'report'}",
                 "eval.justext=false", "eval.progress=false"]
    with pytest.raises(ModelFileError, match="QuietStage"):
        evaluate.run(compose_evaluate(overrides))
    result = evaluate.run(compose_evaluate([*overrides, "eval.trust_model_file=true"]))
    assert result["pages"] == 4


def test_workers_that_load_the_model_themselves_trust_it_as_the_caller_does(tiny_model, model_path, tmp_path):
    """Spawned workers (where fork does not exist, or given only a path) load the model
    file themselves: a file the caller trusts must load there too."""
    from boilercut.corpus import clean_corpus

    forge_quiet_stage(tiny_model, model_path)
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"text": "\n".join(LINES[i % 3:])}) + "\n" for i in range(12)))
    one, two = [], []
    clean_corpus([(str(corpus), "jsonl")], one.extend, model=tiny_model)
    totals = clean_corpus([(str(corpus), "jsonl")], two.extend, model_path=model_path, jobs=2,
                          trust_model_file=True)
    assert two == one and totals.written == 12
    with pytest.raises(ModelFileError, match="QuietStage"):
        clean_corpus([(str(corpus), "jsonl")], [].extend, model_path=model_path, jobs=1)


def test_clean_dataset_and_the_datatrove_step_load_a_trusted_file_only_when_told(tiny_model, model_path):
    datasets = pytest.importorskip("datasets")
    from boilercut import clean_dataset

    forge_quiet_stage(tiny_model, model_path)
    ds = datasets.Dataset.from_list([{"text": "\n".join(LINES)}])
    with pytest.raises(ModelFileError, match="QuietStage"):
        clean_dataset(ds, model=model_path, keep_in_memory=True)
    cleaned = clean_dataset(ds, model=model_path, trust_model_file=True, keep_in_memory=True)
    assert cleaned["text"] == clean_dataset(ds, model=tiny_model, keep_in_memory=True)["text"]
    pytest.importorskip("datatrove")
    from datatrove.data import Document

    from boilercut.datatrove_step import BoilercutFilter

    with pytest.raises(ModelFileError, match="QuietStage"):
        BoilercutFilter(model_path=model_path).model
    trusting = BoilercutFilter(model_path=model_path, trust_model_file=True)
    doc = Document(text="\n".join(LINES), id="d")
    trusting.filter(doc)
    assert doc.text == cleaned["text"][0]
