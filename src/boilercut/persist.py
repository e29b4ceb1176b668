"""Save and load a LineModel: the Pipeline file plus a metadata JSON beside it.

models/boilercut.joblib       {"pipeline": the fitted first-stage Pipeline, "context_stage":
                              the fitted ContextStage or None}, an uncompressed pickle with
                              each vectorizer's vocabulary packed into arrays
                              (packed_vocabulary.py), read by safe_joblib: only what a
                              boilercut model holds is built, and nothing from the file
                              runs (trust_model_file=True: any pickle)
models/boilercut.joblib.json  labels, keep labels, threshold, config, metrics, data
                              fingerprint, library versions, creation time, and the
                              SHA-256 of the Pipeline file, checked on every load.
A model file ending in .skops is written and read with skops instead, which loads only
trusted types and never runs pickled code (pip install boilercut[safe]).
Both files are written to temporary names and renamed, so a failed or interrupted save
never leaves a half-written model or destroys the previous one.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
from pathlib import Path

from boilercut.locations import metadata_path
from boilercut.model import LineModel, check_long_line_words, pipeline_classes
from boilercut.model_errors import ModelFileError
from boilercut.operating_points import OperatingPoints
from boilercut.packed_vocabulary import packed_vocabularies
from boilercut.safe_format import dumps_skops, loads_skops
from boilercut.safe_joblib import RefusedGlobal, load_stored
from boilercut.scorer import LOGISTIC_REGRESSION, PIPELINE, pipeline_steps
from boilercut.site_stage import SiteStage
from boilercut.stored import Stored, class_name, is_a

CONTEXT_STAGE = "boilercut.context_stage.ContextStage"

logger = logging.getLogger(__name__)

# Bumped whenever a saved Pipeline would compute different features under this code:
# 2 = line-shape marks read the first 300 characters (line_shape.py);
# 3 = the file holds {"pipeline", "context_stage"}; a format-2 file is the bare Pipeline,
#     with the same features, so it still loads (as a model without a context stage);
# 4 = a .joblib file's vectorizer vocabularies are packed into arrays (packed_vocabulary.py),
#     which a boilercut reading format 3 would refuse; format 2 and 3 files, with dicts,
#     load and score as before.
FORMAT_VERSION = 4
READABLE_FORMATS = (2, 3, 4)
PROBE_PAGE = ["Home | News | Contact", "The council met on Tuesday to discuss the new bus routes."]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict:
    import joblib
    import numpy
    import scipy

    return {"scikit-learn": scikit_learn_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "joblib": joblib.__version__}


def scikit_learn_version() -> str:
    """The installed scikit-learn's version, from its package metadata: importing
    scikit-learn to ask it costs most of a start-up, which loading a model no longer spends."""
    from importlib import metadata

    try:
        return metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:  # not installed as a distribution: ask the module
        import sklearn

        return sklearn.__version__


def _umask() -> int:
    """The process's umask. Reading it means setting it (as pip does): there is no getter."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        # mkstemp makes the file 0600, unreadable by the other users of a shared model
        # folder: give it the mode open() would, 0666 less the umask (0644 for umask 022).
        os.chmod(tmp, 0o666 & ~_umask())
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def stored_form(model: LineModel) -> dict:
    """What a model file holds (format 3)."""
    return {"pipeline": model.pipeline, "context_stage": model.context_stage}


def _dump_packed(stored: dict, path: Path) -> None:
    """joblib.dump with the vocabularies packed (loading them is reading arrays), not
    compressed: inflating the default model's 22 MB took 80 ms of a 0.7 s start-up, for a
    file of 13.6 MB instead (benchmarks/NOTES.md, "Start-up on branch startup")."""
    import joblib  # (imported where it is used: loading a model needs no joblib)

    with packed_vocabularies(stored):
        joblib.dump(stored, path, compress=0)


def save_model(model: LineModel, path: str | Path) -> Path:
    """Write the Pipeline and its metadata; returns the model path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = stored_form(model)
    if path.suffix == ".skops":
        data = dumps_skops(stored)
        _atomic_write(path, lambda tmp: tmp.write_bytes(data))
    else:
        _atomic_write(path, lambda tmp: _dump_packed(stored, tmp))
    meta = {**model.metadata, "format_version": FORMAT_VERSION, "labels": model.labels,
            "keep_labels": list(model.keep_labels), "threshold": model.threshold,
            "long_line_words": model.long_line_words,
            "operating_points": model.points.to_dict() if model.points is not None else None,
            "site_stage": model.site_stage.to_dict() if model.site_stage is not None else None,
            "libraries": library_versions(), "model_file": path.name,
            "model_sha256": sha256_file(path)}
    _atomic_write(metadata_path(path), lambda tmp: tmp.write_text(
        json.dumps(meta, indent=2, ensure_ascii=False, default=str), encoding="utf-8"))
    logger.info("saved model to %s", path)
    return path


def read_metadata(path: str | Path) -> dict:
    if not Path(path).name:  # "", ".", "/": no file name to read, nor one for the metadata
        raise ModelFileError(f"{str(path)!r}: not a model file path; pass a file such as models/boilercut.joblib")
    path = Path(path)
    meta_file = metadata_path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no model file; train one with `python -m train`")
    if not meta_file.is_file():
        raise ModelFileError(f"{meta_file}: metadata missing; retrain with `python -m train`")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{meta_file}: metadata is not valid JSON ({err})") from None
    except OSError as err:
        raise ModelFileError(f"{meta_file}: cannot be read ({err.strerror})") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{meta_file}: metadata is not a JSON object")
    return meta


def load_model(path: str | Path | None = None, trust_model_file: bool = False) -> LineModel:
    """Load and verify a model: metadata, checksum, versions and labels, then unpickle.

    path None: the default model (locations.py says where), which the first call trains
    from the bundled pages when it does not exist yet (first_model.py).

    The file is read once and the checked bytes are the ones loaded, so it cannot be
    swapped between the check and the load. A .joblib file is unpickled with only the
    globals a boilercut model holds (safe_joblib); trust_model_file=True unpickles it with
    joblib.load, which runs whatever the file says: only for files you trust.
    """
    if path is None:  # the default model, trained on this first call if it does not exist
        from boilercut.first_model import default_model_file  # imports this module

        path = default_model_file()
    path = Path(path)
    meta = read_metadata(path)
    if meta.get("format_version") not in READABLE_FORMATS:
        raise ModelFileError(f"{path}: model format {meta.get('format_version')!r}, "
                             f"this boilercut reads {' or '.join(map(str, READABLE_FORMATS))}; retrain with `python -m train`")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelFileError(f"{path}: cannot be read ({err.strerror})") from None
    if hashlib.sha256(data).hexdigest() != meta.get("model_sha256"):
        raise ModelFileError(f"{path}: SHA-256 does not match its metadata (truncated, corrupted "
                             "or swapped file); refusing to load it")
    _check_versions(path, meta.get("libraries", {}))
    labels, keep, threshold = _check_labels(path, meta)
    pipeline, context_stage = _unpack(path, _load_pipeline(path, data, trust_model_file), meta["format_version"])
    found = [str(c) for c in _classes(pipeline)]
    if not _can_predict(pipeline) or found != labels:
        raise ModelFileError(f"{path}: model labels {found} differ from metadata {labels}; "
                             "retrain with `python -m train`")
    model = LineModel(pipeline=pipeline, keep_labels=keep, threshold=threshold, metadata=meta,
                      context_stage=context_stage, long_line_words=_long_line_words(path, meta),
                      points=_operating_points(path, meta), site_stage=_site_stage(path, meta, labels))
    _check_scores(path, model)
    return model


def _unpack(path: Path, stored, format_version: int) -> tuple:
    """(pipeline, context stage or None) from what the model file held."""
    if format_version == 2:
        return stored, None
    if not isinstance(stored, dict) or set(stored) != {"pipeline", "context_stage"}:
        raise ModelFileError(f"{path}: does not hold a boilercut model (expected pipeline and "
                             "context_stage); retrain with `python -m train`")
    stage = stored["context_stage"]
    if stage is not None and not is_a(stage, CONTEXT_STAGE):
        raise ModelFileError(f"{path}: context_stage is a {class_name(stage).rsplit('.', 1)[-1]}, not a "
                             "ContextStage; retrain with `python -m train`")
    return stored["pipeline"], stage


def _classes(pipeline) -> list:
    """The pipeline's class labels; none for an object that has none."""
    try:
        return pipeline_classes(pipeline)
    except (AttributeError, IndexError, TypeError):
        return []


def _can_predict(pipeline) -> bool:
    """Whether the pipeline has predict_proba: a real object's own, or a stand-in Pipeline
    ending in a LogisticRegression (the only classifier a model file may hold)."""
    if isinstance(pipeline, Stored):
        return is_a(pipeline, PIPELINE) and class_name(pipeline_steps(pipeline)[-1]) == LOGISTIC_REGRESSION
    return hasattr(pipeline, "predict_proba")


def _check_scores(path: Path, model: LineModel) -> None:
    """Score a two-line probe page: a model pickled before the feature code changed loads
    fine and would otherwise fail with a traceback on the first real page."""
    try:
        model.score([PROBE_PAGE])
    except Exception as err:
        raise ModelFileError(f"{path}: does not work with this boilercut's feature code "
                             f"({type(err).__name__}: {err}); retrain with `python -m train`") from None


def _check_labels(path: Path, meta: dict) -> tuple[list[str], tuple[str, ...], float]:
    """The metadata's labels, keep labels and threshold, refused if they cannot work together."""
    labels, keep, threshold = meta.get("labels"), meta.get("keep_labels"), meta.get("threshold")
    if (not isinstance(labels, list) or len(labels) < 2 or len(set(labels)) != len(labels)
            or not all(isinstance(lab, str) for lab in labels)):
        raise ModelFileError(f"{path}: metadata labels {labels!r} are not a list of two or more distinct names")
    if not isinstance(keep, list) or not keep or not set(keep) <= set(labels):
        raise ModelFileError(f"{path}: keep labels {keep!r} are not among the model labels {labels}; "
                             "retrain with `python -m train`")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ModelFileError(f"{path}: threshold {threshold!r} in the metadata is not between 0 and 1")
    return labels, tuple(keep), float(threshold)


def _long_line_words(path: Path, meta: dict) -> int | None:
    """The long-line guard; absent in files written before it existed, which had none."""
    try:
        return check_long_line_words(meta.get("long_line_words"))
    except ValueError as err:
        raise ModelFileError(f"{path}: metadata {err}") from None


def _operating_points(path: Path, meta: dict) -> OperatingPoints | None:
    """The named thresholds; absent in files written before they existed (only "balanced")."""
    if meta.get("operating_points") is None:
        return None
    try:
        return OperatingPoints.from_dict(meta["operating_points"])
    except (ValueError, KeyError, TypeError) as err:
        raise ModelFileError(f"{path}: metadata operating_points: {err}; "
                             "retrain with `python -m train`") from None


def _site_stage(path: Path, meta: dict, labels: list[str]) -> SiteStage | None:
    """The site stage's numbers; absent in files written before it existed, or trained
    without one."""
    if meta.get("site_stage") is None:
        return None
    try:
        stage = SiteStage.from_dict(meta["site_stage"])
    except (ValueError, KeyError, TypeError) as err:
        raise ModelFileError(f"{path}: metadata site_stage: {err}; retrain with `python -m train`") from None
    if stage.classes != labels:
        raise ModelFileError(f"{path}: metadata site_stage has classes {stage.classes}, the model {labels}")
    return stage


def _check_versions(path: Path, saved: dict) -> None:
    """scikit-learn pickles are only guaranteed to load in the same minor version."""
    current = {"scikit-learn": scikit_learn_version()}
    for lib in current:
        old, new = saved.get(lib) if isinstance(saved, dict) else None, current[lib]
        if not isinstance(old, str):
            raise ModelFileError(f"{path}: metadata does not record the {lib} version; "
                                 "retrain with `python -m train`")
        if old.split(".")[:2] != new.split(".")[:2]:
            raise ModelFileError(f"{path}: trained with {lib} {old}, installed {new}; "
                                 "retrain with `python -m train` or install the same version")


def _load_pipeline(path: Path, data: bytes, trust_model_file: bool = False):
    if path.suffix == ".skops":
        return loads_skops(data, str(path))
    try:
        # Stand-ins (stored.py): scoring reads them as they are; LineModel builds the real
        # objects when they are asked for.
        if trust_model_file:
            import joblib

            return joblib.load(io.BytesIO(data))
        return load_stored(data, str(path))
    except RefusedGlobal as err:
        raise ModelFileError(f"{path}: refuses to {err} (not part of a boilercut model); if you trust this "
                             "file, pass --trust-model-file (evaluate: eval.trust_model_file=true; "
                             "Python: load_model(path, trust_model_file=True))") from None
    except Exception as err:  # a pickle whose checksum matches can still fail to build
        raise ModelFileError(f"{path}: cannot be loaded ({type(err).__name__}: {err}); "
                             "retrain with `python -m train`") from None
