"""Read a .joblib model file without running code from it, as torch.load(weights_only=True)
reads a checkpoint.

    load_restricted(data, "models/boilercut.joblib")  # persist.load_model calls it

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
joblib's and numpy's pickles use; tests/test_model_pickles.py loads freshly fitted models
of every feature option through them, so a new estimator shows up as a failing test.
"""
from __future__ import annotations

import io
import pickle
import types
import warnings

import numpy as np
from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler

# joblib's reader of its own container (compression detection and decompression): private,
# but it is how joblib.load opens a file; tests cover the compressed and plain formats.
from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

from boilercut.safe_format import LIBRARY_TYPES, PROJECT_TYPES

# How joblib and numpy pickles name what they build: joblib's stand-in for each array
# (replaced by the array's bytes, which follow it in the file), dtypes, and numpy scalars
# (vocabulary indices); "numpy.core" is how a file saved under numpy 1.x names them.
PICKLE_MACHINERY = (
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "numpy.dtype",
    "numpy._core.multiarray.scalar",
    "numpy.core.multiarray.scalar",
)
ALLOWED_GLOBALS = frozenset(PROJECT_TYPES + PICKLE_MACHINERY
                            + tuple(name for name in LIBRARY_TYPES if not name.startswith("builtins.")))
# (module, name) pairs: a name is matched exactly as the file spells it, so that
# "boilercut" + "features.LineShape" cannot reach around the list through attributes.
_ALLOWED_PAIRS = frozenset(tuple(name.rsplit(".", 1)) for name in ALLOWED_GLOBALS)


class RefusedGlobal(pickle.UnpicklingError):
    """The file asks for something a boilercut model does not hold; the message says what,
    as the end of "refuses to ...": "load global 'posix.system'"."""


class _RestrictedUnpickler(NumpyUnpickler):
    dispatch = NumpyUnpickler.dispatch.copy()  # the pure-Python unpickler calls dispatch[opcode](self)

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_PAIRS:
            raise RefusedGlobal(f"load global '{module}.{name}'")
        return super().find_class(module, name)

    def load_build(self):
        target = self.stack[-2]
        if isinstance(target, (type, types.FunctionType, types.BuiltinFunctionType)):
            raise RefusedGlobal(f"set the attributes of '{target.__module__}.{target.__qualname__}'")
        pickle._Unpickler.load_build(self)  # sets the state: the object stays on the stack
        wrapper = self.stack[-1]
        if isinstance(wrapper, NumpyArrayWrapper):
            # As NumpyUnpickler.load_build, for plain arrays only.
            if not (isinstance(wrapper.dtype, np.dtype) and wrapper.subclass is np.ndarray):
                raise RefusedGlobal("load an array that is not a plain numpy array")
            if wrapper.dtype.hasobject:
                raise RefusedGlobal("load an array of Python objects")
            self.stack[-1] = wrapper.read(self, self.ensure_native_byte_order)

    dispatch[pickle.BUILD[0]] = load_build


def load_restricted(data: bytes, name: str = "<model>"):
    """The object a joblib file (plain or compressed) holds, built from ALLOWED_GLOBALS only.

    RefusedGlobal names the first thing refused; other errors (a damaged file) come as
    pickle, joblib or numpy raise them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # joblib's note on a pre-0.10 file
        with _validate_fileobject_and_memmap(io.BytesIO(data), name, None) as (stream, _):
            if isinstance(stream, str):  # joblib < 0.10: read by its own, unrestricted unpickler
                raise pickle.UnpicklingError("a joblib format older than 0.10")
            return _RestrictedUnpickler(name, stream, True).load()
