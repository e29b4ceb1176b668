"""The safe model format: a Pipeline saved with skops, loaded without running pickled code.

    save_model(model, "models/boilercut.skops")   # persist.py picks skops by the suffix
    load_model("models/boilercut.skops")          # needs `pip install boilercut[safe]`

A .skops file is a zip of a JSON schema and .npy arrays. skops builds objects only from
types it is told to trust, but by default it trusts every scikit-learn estimator and
many numpy/scipy types. boilercut is stricter: every type named anywhere in the file's
schema must be in TRUSTED_TYPES, the project's own classes and functions plus exactly the
scikit-learn/numpy types a boilercut Pipeline contains; anything else is refused before
a single object is built. The list was computed by saving the default and the test
Pipelines and listing every type in their schemas (schema_types below); PROJECT_TYPES is
exactly what skops.io.get_untrusted_types reports for them. tests/test_model_files.py
checks both against a freshly fitted Pipeline, so a new estimator in model.py shows up
as a failing test, not as a model nobody can load.
"""
from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path

from boilercut.model_errors import ModelFileError

# The project's own types: skops does not know them and refuses them unless listed.
PROJECT_TYPES = (
    "boilercut.context_stage.ContextStage",
    "boilercut.features.ClipValues",
    "boilercut.features.LineShape",
    "boilercut.features.Neighbours",
    "boilercut.normalise.normalise_text",  # word TfidfVectorizer preprocessor (a function)
    "boilercut.normalise.normalise_head",  # char TfidfVectorizer preprocessor (a function)
)
# What a fitted boilercut Pipeline holds besides the project's types.
LIBRARY_TYPES = (
    "builtins.dict", "builtins.list", "builtins.str", "builtins.tuple",
    "numpy.float32", "numpy.float64", "numpy.int64", "numpy.ndarray",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
)
TRUSTED_TYPES = frozenset(PROJECT_TYPES + LIBRARY_TYPES)


def schema_types(data: bytes) -> set[str]:
    """Every "module.Class" (or "module.function") named in a skops file's schema."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack = [schema]
    while stack:  # iterative: a hostile schema may nest deeper than the recursion limit
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _refuse_untrusted(types: set[str], where: str) -> None:
    untrusted = sorted(types - TRUSTED_TYPES)
    if untrusted:
        raise ModelFileError(f"{where}: contains types boilercut does not trust: {', '.join(untrusted)}; "
                             "refusing it (see TRUSTED_TYPES in boilercut/safe_format.py)")


def _plain_vocabularies(obj, seen: set[int]) -> None:
    """Turn numpy-int vocabulary values into Python ints, in place. skops writes every
    numpy scalar as its own .npy file: the default model's 68,000 vocabulary entries made
    a 79 MB file, slow to save; as ints they are plain JSON (4 MB)."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple, dict)):
        for item in (obj.values() if isinstance(obj, dict) else obj):
            _plain_vocabularies(item, seen)
        return
    vocabulary = getattr(obj, "vocabulary_", None)
    if isinstance(vocabulary, dict):
        obj.vocabulary_ = {term: int(column) for term, column in vocabulary.items()}
    for value in getattr(obj, "__dict__", {}).values():
        _plain_vocabularies(value, seen)


def dumps_skops(stored) -> bytes:
    """The model (what persist.save_model stores) as skops bytes; refused if loading it back
    would be refused."""
    import skops.io as sio

    stored = copy.deepcopy(stored)  # the caller's model keeps its own vocabularies
    _plain_vocabularies(stored, set())
    data = sio.dumps(stored, compression=zipfile.ZIP_DEFLATED)
    _refuse_untrusted(schema_types(data), "model to save as .skops")
    return data


def loads_skops(data: bytes, name: str = "<model>"):
    """Build the Pipeline from skops bytes, refusing any type outside TRUSTED_TYPES."""
    try:
        import skops.io as sio
    except ImportError:
        raise ModelFileError(f"{name}: a .skops model needs skops: pip install 'boilercut[safe]'") from None
    try:
        types = schema_types(data)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{name}: not a valid .skops file ({err})") from None
    _refuse_untrusted(types, name)
    try:
        return sio.loads(data, trusted=sorted(TRUSTED_TYPES))
    except Exception as err:  # skops raises many kinds on a malformed but well-hashed file
        raise ModelFileError(f"{name}: cannot be read as a .skops model ({type(err).__name__}: {err})") from None


def load_skops(path: str | Path):
    path = Path(path)
    return loads_skops(path.read_bytes(), str(path))
