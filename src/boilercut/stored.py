"""Model objects as a model file stores them, without importing the libraries they come from.

A boilercut model file pickles scikit-learn estimators and the project's transformers.
Rebuilding them means importing scikit-learn, which imports scipy.stats and pandas: most of
the start-up, more than loading the arrays and scoring a page. safe_joblib builds
each of them as a stand-in instead: a Stored object that keeps the name of its class and
the attributes the file gave it (its pickled state), which is all scoring reads
(scorer.py reads attributes the same way from stand-ins and real objects; class_name and
is_a name the class of either). materialize() builds the real objects, the very ones
unpickling would have built (cls.__new__ then __setstate__, as pickle does), when something
needs their methods: scikit-learn scoring a Pipeline the fast scorer does not know,
training, `model.pipeline` (model.LineModel materializes it on first access).

The stand-ins do nothing else: a file cannot set attributes of a class or function through
them (BUILD on a global is refused), nor call one.
"""
from __future__ import annotations

import importlib
import pickle
import sys

from boilercut.packed_vocabulary import PackedVocabulary


class RefusedGlobal(pickle.UnpicklingError):
    """The file asks for something a boilercut model does not hold; the message says what,
    as the end of "refuses to ...": "load global 'posix.system'"."""


class _StateGuard:
    """__setstate__ of the stand-ins. On an instance (BUILD of an object the file made), it
    keeps the state; looked up on the class itself (BUILD on a global), it refuses."""

    def __get__(self, obj, cls):
        if obj is None:
            raise RefusedGlobal(f"set the attributes of '{cls.stored_class}'")
        return obj._keep_state


class Stored:
    """A stand-in for an object of class `stored_class` (set on the subclass made per name):
    its attributes are those the file's state gave it."""

    stored_class = "builtins.object"
    __setstate__ = _StateGuard()

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.__dict__["_stored_new"] = (args, kwargs)   # NEWOBJ(_EX) arguments
        obj.__dict__["_stored_state"] = _NO_STATE
        return obj

    def __init__(self, *args, **kwargs):
        # Only a call of the class (REDUCE) runs __init__; NEWOBJ does not. No boilercut
        # model file calls a class.
        raise RefusedGlobal(f"call '{self.stored_class}'")

    def _keep_state(self, state) -> None:
        self.__dict__["_stored_state"] = state
        inner, slots = state if isinstance(state, tuple) and len(state) == 2 else (state, None)
        for part in (inner, slots):
            if isinstance(part, dict):
                self.__dict__.update((k, v) for k, v in part.items() if isinstance(k, str) and not k.startswith("_stored_"))

    def __repr__(self) -> str:
        return f"<stored {self.stored_class}>"

    def __reduce_ex__(self, protocol):
        # Pickled again (a worker process, a copy), a stand-in becomes the real object.
        return materialize(self).__reduce_ex__(protocol)


class StoredFunction:
    """A stand-in for a global function of a module of the project (the vectorizers'
    preprocessors). Nothing may call it or set its attributes while the file loads."""

    def __init__(self, name: str):
        self.stored_class = name

    def __call__(self, *args, **kwargs):
        raise RefusedGlobal(f"call '{self.stored_class}'")

    def __setstate__(self, state):
        raise RefusedGlobal(f"set the attributes of '{self.stored_class}'")

    def __repr__(self) -> str:
        return f"<stored {self.stored_class}>"

    def __reduce__(self):
        return _real_global, (self.stored_class,)  # pickled again: the real function


_NO_STATE = object()
_stand_in_classes: dict[str, type] = {}


def stand_in(name: str, is_function: bool = False):
    """The stand-in for the global `module.name`: a Stored subclass (one per name, kept for
    the process) or, for a function, a StoredFunction."""
    if is_function:
        return StoredFunction(name)
    if name not in _stand_in_classes:
        _stand_in_classes[name] = type(name.rsplit(".", 1)[1], (Stored,), {"stored_class": name})
    return _stand_in_classes[name]


def class_name(obj) -> str:
    """"module.Class" of an object, of a stand-in the class it stands for."""
    if isinstance(obj, (Stored, StoredFunction)):
        return obj.stored_class
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def is_a(obj, name: str) -> bool:
    """Whether obj is an instance of the class named `name` (or of a subclass), without
    importing it; a stand-in is only of its own class."""
    if isinstance(obj, Stored):
        return obj.stored_class == name
    return any(f"{c.__module__}.{c.__qualname__}" == name for c in type(obj).__mro__)


def same_function(obj, function) -> bool:
    """Whether obj is `function` or the stand-in of it."""
    if isinstance(obj, StoredFunction):
        return obj.stored_class == f"{function.__module__}.{function.__qualname__}"
    return obj is function


def is_stored(obj) -> bool:
    """Whether obj or anything it holds is a stand-in (containers and stand-ins are
    searched; real objects are taken as real throughout)."""
    return _find_stored(obj, set())


def _find_stored(obj, seen: set[int]) -> bool:
    if isinstance(obj, (Stored, StoredFunction)):
        return True
    if id(obj) in seen or not isinstance(obj, (list, tuple, dict)):
        return False
    seen.add(id(obj))
    items = obj.values() if isinstance(obj, dict) else obj
    return any(_find_stored(item, seen) for item in items if isinstance(item, (list, tuple, dict, Stored, StoredFunction)))


def _real_global(name: str):
    module, attribute = name.rsplit(".", 1)
    return getattr(importlib.import_module(module), attribute)


def materialize(obj, memo: dict | None = None):
    """obj with every stand-in replaced by the real object, as unpickling with the real
    globals builds it: cls.__new__(cls, *args), then the state as pickle's BUILD applies it
    (__setstate__ when the class has one, else the instance __dict__ and slot attributes).
    Objects shared in the file stay shared."""
    memo = {} if memo is None else memo
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, StoredFunction):
        memo[key] = real = _real_global(obj.stored_class)
        return real
    if isinstance(obj, PackedVocabulary):  # what a plain unpickler builds from it: the dict
        memo[key] = real = obj.to_dict()
        return real
    if isinstance(obj, Stored):
        cls = _real_global(obj.stored_class)
        args, kwargs = obj.__dict__["_stored_new"]
        real = cls.__new__(cls, *materialize(list(args), memo), **materialize(kwargs, memo))
        memo[key] = real
        state = obj.__dict__["_stored_state"]
        if state is not _NO_STATE:
            _build(real, materialize(state, memo))
        return real
    if isinstance(obj, list):
        memo[key] = real = []
        real.extend(materialize(item, memo) for item in obj)
        return real
    if isinstance(obj, dict):
        memo[key] = real = {}
        real.update((k, materialize(v, memo)) for k, v in obj.items())
        return real
    if isinstance(obj, tuple):
        real = tuple(materialize(item, memo) for item in obj)
        memo[key] = real = real if any(a is not b for a, b in zip(real, obj)) else obj
        return real
    return obj


def _build(inst, state) -> None:
    """pickle's BUILD (pickle._Unpickler.load_build) of state onto inst."""
    setstate = getattr(inst, "__setstate__", None)
    if setstate is not None:
        setstate(state)
        return
    slotstate = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slotstate = state
    if state:
        inst_dict = inst.__dict__
        for k, v in state.items():
            inst_dict[sys.intern(k) if type(k) is str else k] = v
    if slotstate:
        for k, v in slotstate.items():
            setattr(inst, k, v)
