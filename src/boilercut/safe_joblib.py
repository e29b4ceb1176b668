"""Read a .joblib model file without running code from it, as torch.load(weights_only=True)
reads a checkpoint.

    load_stored(data, "models/boilercut.joblib")      # persist.load_model calls it
    load_restricted(data, "models/boilercut.joblib")  # the same, as real objects

A pickle runs code only through the globals it names: every callable it can call comes
from find_class. Here find_class hands out only ALLOWED_GLOBALS, what a boilercut model
holds (the project's classes and functions, the scikit-learn classes of the Pipeline,
numpy's arrays, dtypes and scalars); any other global (os.system, builtins.eval, an
unlisted estimator) raises RefusedGlobal before it is called. Two more ways a pickle
could act are closed as well:
- joblib stores an array of Python objects as a second pickle inside the file, which
  joblib before 1.6 read with the unrestricted pickle.load: a boilercut model holds no
  such array, so one is refused before it is read;
- BUILD sets the attributes of the object below it: on a global function or class (the
  only kind of global one can reach) it would change that function or class for the
  whole process, so it is refused there.
The lists come from safe_format (the same types, as skops names them) plus the names
joblib's and numpy's pickles use, and one function of the project a file calls: the
vectorizers' packed vocabularies (PACKED_FORMS), whose arguments are checked before
anything is built from them. tests/test_model_pickles.py loads freshly fitted models of
every feature option through them, so a new estimator shows up as a failing test.

The project's and scikit-learn's globals are handed out as stand-ins (stored.py): the file
loads without importing scikit-learn, and BUILD on such a global is refused by the
stand-in itself. numpy's globals are the real ones, which a file cannot change (BUILD on
them fails). That lets the file be read by pickle's C unpickler: joblib's own reader is
pickle's pure-Python one (it intercepts BUILD to read each array's bytes, which follow its
wrapper in the file), and on the default model it took most of the load, going opcode by
opcode through 180,000 vocabulary entries. Here each array wrapper is a small
object whose __setstate__ reads the bytes, which the C unpickler leaves exactly after
BUILD (joblib ends a pickle frame there, and a stream without peek() is read no further
than needed); the stand-ins then trade their wrappers for the arrays. The bytes are read
here too (_read_array, as joblib reads them), so loading a model imports no joblib.
"""
from __future__ import annotations

import io
import math
import pickle
import warnings

import numpy as np

from boilercut.packed_vocabulary import checked_vocabulary
from boilercut.safe_format import LIBRARY_TYPES, PROJECT_TYPES
from boilercut.stored import RefusedGlobal, Stored, materialize, stand_in

# How joblib and numpy pickles name what they build: joblib's stand-in for each array
# (replaced by the array's bytes, which follow it in the file), dtypes, and numpy scalars
# (vocabulary indices); "numpy.core" is how a file saved under numpy 1.x names them.
PICKLE_MACHINERY = (
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "numpy.dtype",
    "numpy._core.multiarray.scalar",
    "numpy.core.multiarray.scalar",
)
# The project's forms of what a model file holds, which only .joblib files use: a
# vectorizer's vocabulary_ packed into arrays (packed_vocabulary.py), which the file
# builds by calling unpack_vocabulary (answered here by _VocabularyUnpacker).
PACKED_FORMS = ("boilercut.packed_vocabulary.unpack_vocabulary",)
ALLOWED_GLOBALS = frozenset(PROJECT_TYPES + PICKLE_MACHINERY + PACKED_FORMS
                            + tuple(name for name in LIBRARY_TYPES if not name.startswith("builtins.")))
# (module, name) pairs: a name is matched exactly as the file spells it, so that
# "boilercut" + "features.LineShape" cannot reach around the list through attributes.
_ALLOWED_PAIRS = frozenset(tuple(name.rsplit(".", 1)) for name in ALLOWED_GLOBALS)


_ARRAY_WRAPPER = ("joblib.numpy_pickle", "NumpyArrayWrapper")
_UNPACK_VOCABULARY = ("boilercut.packed_vocabulary", "unpack_vocabulary")
# The project's functions (the vectorizers' preprocessors); its other names are classes.
_FUNCTIONS = frozenset({"boilercut.normalise.normalise_text", "boilercut.normalise.normalise_head"})


class _Stream:
    """The decompressed file for the C unpickler: read and readline only. Without peek()
    the unpickler reads no further ahead than the opcode or frame it needs, so that after
    an array wrapper's BUILD the stream stands at the array's bytes."""

    def __init__(self, data: bytes):
        self._buffer = io.BytesIO(data)
        self.read = self._buffer.read
        self.readline = self._buffer.readline
        self.readinto = self._buffer.readinto


# The state of joblib's array wrapper (NumpyArrayWrapper) as joblib writes it, which
# _read_array reads: importing joblib for its own reader took 50-80 ms of a start-up.
# (numpy_array_alignment_bytes is absent from files of joblib 1.1 and older.) A state
# with other keys, from another joblib, is read by joblib's NumpyArrayWrapper.read.
_WRAPPER_STATE = frozenset({"subclass", "shape", "order", "dtype", "allow_mmap", "numpy_array_alignment_bytes"})
_WRAPPER_STATE_NEEDED = frozenset({"subclass", "shape", "order", "dtype"})


class _ArrayReader:
    """joblib's wrapper of an array: built from the wrapper's state, it reads the array's
    bytes from the stream (_read_array, or joblib's NumpyArrayWrapper.read)."""

    stream: _Stream  # set on the subclass made for each load

    def __setstate__(self, state):
        if not (isinstance(state, dict) and isinstance(state.get("dtype"), np.dtype)
                and state.get("subclass") is np.ndarray):
            raise RefusedGlobal("load an array that is not a plain numpy array")
        if state["dtype"].hasobject:
            raise RefusedGlobal("load an array of Python objects")
        if _WRAPPER_STATE_NEEDED <= state.keys() <= _WRAPPER_STATE:
            self.array = _read_array(self.stream, state)
        else:
            self.array = self._read_with_joblib(state)

    def _read_with_joblib(self, state: dict) -> np.ndarray:
        from joblib.numpy_pickle import NumpyArrayWrapper

        wrapper = NumpyArrayWrapper.__new__(NumpyArrayWrapper)
        wrapper.__dict__.update(state)
        return wrapper.read(self, ensure_native_byte_order=True)

    # What NumpyArrayWrapper.read asks of the unpickler it is given.
    np = np
    mmap_mode = None

    @property
    def file_handle(self):
        return self.stream


def _read_array(stream: _Stream, state: dict) -> np.ndarray:
    """The array whose bytes follow its wrapper in the stream, read as joblib's
    NumpyArrayWrapper.read_array reads a plain (not object) array: a padding length byte
    and that much padding when the wrapper says the data is aligned, then the data (in
    `order`), made native-endian. A writable array of its own, as joblib's."""
    shape, order, dtype = state["shape"], state["order"], state["dtype"]
    if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape) and order in ("C", "F")):
        raise pickle.UnpicklingError(f"an array of shape {shape!r} and order {order!r}")
    if state.get("numpy_array_alignment_bytes") is not None:
        stream.read(int.from_bytes(stream.read(1), "little"))
    array = np.empty(math.prod(shape), dtype=dtype)
    if stream.readinto(array.view(np.uint8)) != array.nbytes:
        raise pickle.UnpicklingError("the file ends inside an array's data")
    array = array.reshape(shape[::-1]).transpose() if order == "F" else array.reshape(shape)
    if not array.dtype.isnative:
        array = array.byteswap().view(array.dtype.newbyteorder("="))
    return array


class _StoredUnpickler(pickle.Unpickler):
    """pickle's C unpickler, with ALLOWED_GLOBALS only, as stand-ins where they are the
    project's or scikit-learn's."""

    def __init__(self, stream: _Stream):
        super().__init__(stream)
        reader = type("ArrayReader", (_ArrayReader,), {"stream": stream})
        # BUILD on the reader class itself (a global): refused, as on any stand-in class.
        reader.__setstate__ = _ClassGuard(_ArrayReader.__setstate__, "joblib.numpy_pickle.NumpyArrayWrapper")
        self._array_reader = reader

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_PAIRS:
            raise RefusedGlobal(f"load global '{module}.{name}'")
        if (module, name) == _ARRAY_WRAPPER:
            return self._array_reader
        if (module, name) == _UNPACK_VOCABULARY:
            return _VocabularyUnpacker()
        if module.split(".", 1)[0] in ("boilercut", "sklearn"):
            full = f"{module}.{name}"
            return stand_in(full, is_function=full in _FUNCTIONS)
        return super().find_class(module, name)  # numpy's


class _VocabularyUnpacker:
    """unpack_vocabulary as the safe loader answers the file's call of it: the arguments
    checked (packed_vocabulary.checked_vocabulary), and a PackedVocabulary instead of the
    dict, so that no str is built per term. Its attributes cannot be set (BUILD)."""

    def __call__(self, text, ends, columns, numpy_columns):
        return checked_vocabulary(text, _array_of(ends), _array_of(columns), numpy_columns)

    def __setstate__(self, state):
        raise RefusedGlobal("set the attributes of 'boilercut.packed_vocabulary.unpack_vocabulary'")


def _array_of(value):
    """The array an array reader read (the call comes before _unwrap), else value itself."""
    return getattr(value, "array", None) if isinstance(value, _ArrayReader) else value


class _ClassGuard:
    """A method that refuses when looked up on its class (BUILD on the global)."""

    def __init__(self, method, name: str):
        self.method, self.name = method, name

    def __get__(self, obj, cls):
        if obj is None:
            raise RefusedGlobal(f"set the attributes of '{self.name}'")
        return self.method.__get__(obj, cls)


def _unwrap(obj, seen: set[int]):
    """obj with every array reader replaced by its array, inside lists, tuples, dicts and
    stand-ins' states (in place where they can change; a tuple is rebuilt)."""
    if isinstance(obj, _ArrayReader):
        return obj.array
    if id(obj) in seen:
        return obj
    if isinstance(obj, Stored):
        seen.add(id(obj))
        for k, v in list(obj.__dict__.items()):
            if k == "_stored_new":
                args, kwargs = v
                obj.__dict__[k] = (_unwrap(args, seen), _unwrap(kwargs, seen))
            else:
                obj.__dict__[k] = _unwrap(v, seen)
        return obj
    if isinstance(obj, list):
        seen.add(id(obj))
        obj[:] = [_unwrap(item, seen) for item in obj]
        return obj
    if isinstance(obj, dict):
        seen.add(id(obj))
        # (The types of the values, gathered in C: a vocabulary holds 90,000 numbers.)
        if any(issubclass(kind, _CONTAINERS) for kind in set(map(type, obj.values()))):
            for k, v in obj.items():
                obj[k] = _unwrap(v, seen)
        return obj
    if isinstance(obj, tuple):
        items = tuple(_unwrap(item, seen) for item in obj)
        return items if any(a is not b for a, b in zip(items, obj)) else obj
    return obj


_CONTAINERS = (list, tuple, dict, Stored, _ArrayReader)


def load_stored(data: bytes, name: str = "<model>"):
    """The object a joblib file (plain or compressed) holds, built from ALLOWED_GLOBALS only,
    the project's and scikit-learn's objects as stored.Stored stand-ins.

    RefusedGlobal names the first thing refused; other errors (a damaged file) come as
    pickle, joblib or numpy raise them."""
    raw = _inflated(data)
    if raw is None:
        # joblib's reader of its own container (compression detection and decompression):
        # private, but it is how joblib.load opens a file; tests cover the compressed and
        # plain formats.
        from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # joblib's note on a pre-0.10 file
            with _validate_fileobject_and_memmap(io.BytesIO(data), name, None) as (stream, _):
                if isinstance(stream, str):  # joblib < 0.10: read by its own, unrestricted unpickler
                    raise pickle.UnpicklingError("a joblib format older than 0.10")
                raw = stream.read()
    return _unwrap(_StoredUnpickler(_Stream(raw)).load(), set())


def _inflated(data: bytes) -> bytes | None:
    """The pickle of a file save_model wrote: the file itself (uncompressed, as save_model
    writes since format 4), or joblib's zlib container (one zlib stream, as it wrote
    before) decompressed by ISA-L in one call (faster than through joblib's reader); None
    for any other container, which joblib's reader then opens."""
    if data[:1] == b"\x80":  # a pickle's protocol opcode: joblib's uncompressed file is the pickle itself
        return data
    if data[:1] != b"\x78":  # joblib's zlib prefix
        return None
    from isal import isal_zlib

    inflate = isal_zlib.decompressobj()
    raw = inflate.decompress(data)
    return raw if inflate.eof and not inflate.unused_data else None


def load_restricted(data: bytes, name: str = "<model>"):
    """load_stored with the stand-ins made the real objects (stored.materialize)."""
    return materialize(load_stored(data, name))
