"""Save and load a LineModel: the Pipeline file plus a metadata JSON beside it.

models/boilercut.joblib       the fitted Pipeline (a pickle: it can run code when loaded)
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
import json
import logging
import os
import tempfile
from pathlib import Path

import joblib

from boilercut.model import LineModel

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_PATH = REPO_ROOT / "models" / "boilercut.joblib"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model file that is missing, corrupted, or incompatible; the message says what to do."""


def metadata_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + ".json")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict:
    import numpy
    import scipy
    import sklearn

    return {"scikit-learn": sklearn.__version__, "numpy": numpy.__version__,
            "scipy": scipy.__version__, "joblib": joblib.__version__}


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(model: LineModel, path: str | Path) -> Path:
    """Write the Pipeline and its metadata; returns the model path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".skops":
        import skops.io as sio
        _atomic_write(path, lambda tmp: tmp.write_bytes(sio.dumps(model.pipeline)))
    else:
        _atomic_write(path, lambda tmp: joblib.dump(model.pipeline, tmp, compress=3))
    meta = {**model.metadata, "format_version": FORMAT_VERSION, "labels": model.labels,
            "keep_labels": list(model.keep_labels), "threshold": model.threshold,
            "libraries": library_versions(), "model_file": path.name,
            "model_sha256": sha256_file(path)}
    _atomic_write(metadata_path(path), lambda tmp: tmp.write_text(
        json.dumps(meta, indent=2, ensure_ascii=False, default=str), encoding="utf-8"))
    logger.info("saved model to %s", path)
    return path


def read_metadata(path: str | Path) -> dict:
    path = Path(path)
    meta_file = metadata_path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no model file; train one with `python -m train`")
    if not meta_file.is_file():
        raise ModelFileError(f"{meta_file}: metadata missing; retrain with `python -m train`")
    try:
        return json.loads(meta_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{meta_file}: metadata is not valid JSON ({err})") from None


def load_model(path: str | Path | None = None) -> LineModel:
    """Load and verify a model: checksum, format and library versions, then unpickle."""
    path = Path(path) if path is not None else DEFAULT_MODEL_PATH
    meta = read_metadata(path)
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format {meta.get('format_version')!r}, "
                             f"this boilercut reads {FORMAT_VERSION}; retrain with `python -m train`")
    actual = sha256_file(path)
    if actual != meta.get("model_sha256"):
        raise ModelFileError(f"{path}: SHA-256 does not match its metadata (truncated, corrupted "
                             "or swapped file); refusing to load it")
    _check_versions(path, meta.get("libraries", {}))
    pipeline = _load_pipeline(path)
    model = LineModel(pipeline=pipeline, keep_labels=tuple(meta["keep_labels"]),
                      threshold=float(meta["threshold"]), metadata=meta)
    if model.labels != list(meta["labels"]):
        raise ModelFileError(f"{path}: model labels {model.labels} differ from metadata {meta['labels']}")
    return model


def _check_versions(path: Path, saved: dict) -> None:
    """scikit-learn pickles are only guaranteed to load in the same minor version."""
    current = library_versions()
    for lib in ("scikit-learn",):
        old, new = saved.get(lib), current[lib]
        if old and old.split(".")[:2] != new.split(".")[:2]:
            raise ModelFileError(f"{path}: trained with {lib} {old}, installed {new}; "
                                 "retrain with `python -m train` or install the same version")


def _load_pipeline(path: Path):
    if path.suffix == ".skops":
        from boilercut.safe_format import load_skops
        return load_skops(path)
    return joblib.load(path)
