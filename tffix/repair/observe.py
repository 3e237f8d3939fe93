"""The observer that runs inside the user's program (`tffix run --fix`, `tffix repair`): it records, at the
user's own call sites, the shapes and dtypes of what reaches TensorFlow and Keras, and what crashed with
which local values. It never changes the user's files, and does not change what the program computes (its
wrappers call the originals with the same arguments and return their results).

Installed by `install()`: in a `tffix._exec` prelude (cold or warm runner) or from a `sitecustomize` (any
command). TensorFlow is patched as soon as it is imported (an import hook), never imported by the observer.

Environment:
    TFFIX_OBSERVE       where to write the record (JSON); nothing is observed without it
    TFFIX_OBSERVE_FILES os.pathsep-separated user files; default: the __main__ program's file
    TFFIX_REPAIR_STOP   "path:line": once an observed call at that line returns, the record says "passed"
                        (the repaired program got past the point where it crashed) and is written at once

The record: {"calls": [...], "crash": {...} | null, "passed": bool}; see `_call` and `_crash`.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import sys
import threading
import re
import traceback

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_STATE: dict = {"calls": [], "crash": None, "passed": False, "written": False}
_LOCK = threading.Lock()
_INSIDE = threading.local()  # inside an observed call: Keras calling its own observed methods is not the user
_MAX_CALLS = 200  # per (site, api): the first ones say what the program feeds; a training loop repeats itself
_counts: dict = {}
_USER: set[str] = set()
_OUT: str | None = None
_STOP: tuple[str, int] | None = None


# --- describing values -----------------------------------------------------------------------------------
def _shape(value) -> list | None:
    shape = getattr(value, "shape", None)
    if shape is None:
        return None
    try:
        dims = [getattr(d, "value", d) for d in tuple(shape)]  # TF1 behaviour: Dimension objects
        return [None if d is None else int(d) for d in dims]
    except (TypeError, ValueError):
        return None


def describe(value, depth: int = 0) -> dict | None:
    """Shape, dtype and a little more of a value that reaches TensorFlow; None for what says nothing."""
    if value is None:
        return None
    kind = type(value).__name__
    module = type(value).__module__
    try:
        if _is_model(value):
            return _model(value)
        shape = _shape(value)
        if shape is not None and hasattr(value, "dtype"):
            dtype = getattr(value.dtype, "name", None) or str(value.dtype)
            info: dict = {"kind": kind, "shape": shape, "dtype": str(dtype)}
            if "Placeholder" in str(getattr(getattr(value, "op", None), "type", "")):
                info["placeholder"] = getattr(value, "name", None)
            if module.startswith("numpy") and value.size and value.size <= 50_000_000:
                if value.dtype.kind in "iub":
                    info["min"], info["max"] = int(value.min()), int(value.max())
                    if value.size <= 1_000_000:
                        info["distinct"] = int(len(set(value.ravel()[:100_000].tolist())))
                elif value.dtype.kind == "f":
                    info["finite"] = bool(math.isfinite(float(value.sum())))
                    flat = value.ravel()[:100_000]
                    info["integral"] = bool(((flat == flat.round()).all()) and flat.min() >= 0) if flat.size else False
                    if info["integral"]:
                        info["min"], info["max"] = int(flat.min()), int(flat.max())
            return info
        if isinstance(value, (list, tuple)) and value and depth == 0:
            try:
                import numpy as np

                array = np.asarray(value)
                if array.dtype != object:
                    info = describe(array, 1) or {}
                    info["kind"] = kind
                    return info
            except Exception:  # noqa: BLE001 - ragged lists and the like
                pass
            return {"kind": kind, "items": [describe(v, depth + 1) for v in list(value)[:8]]}
        if isinstance(value, dict) and depth == 0:
            return {"kind": "dict", "items": [
                {"key": describe(k, 1) or {"repr": repr(k)[:80]}, "value": describe(v, 1)}
                for k, v in list(value.items())[:16]
            ]}
        if isinstance(value, bool):
            return {"kind": "bool", "value": value}
        if isinstance(value, int):
            return {"kind": "int", "value": value}
        if isinstance(value, float):
            return {"kind": "float", "value": value if math.isfinite(value) else str(value)}
        if isinstance(value, str) and len(value) < 200:
            return {"kind": "str", "value": value}
    except Exception:  # noqa: BLE001 - observing must never break the program
        return {"kind": kind}
    return None


def _is_model(value) -> bool:
    for klass in type(value).__mro__:
        if klass.__name__ == "Model" and klass.__module__.startswith(("keras", "tf_keras")):
            return True
    return False


def _model(model) -> dict:
    info: dict = {"kind": "model", "class": type(model).__name__, "name": getattr(model, "name", None)}
    for attr, key in (("input_shape", "input_shape"), ("output_shape", "output_shape")):
        try:
            value = getattr(model, attr)
            info[key] = _plain_shape(value)
        except Exception:  # noqa: BLE001 - not built yet
            pass
    try:
        loss = getattr(model, "loss", None)
        if loss is not None:
            info["loss"] = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
    except Exception:  # noqa: BLE001
        pass
    layers = []
    try:
        for layer in model.layers:
            entry = {"class": type(layer).__name__, "name": layer.name}
            try:
                config = layer.get_config()
                for key in ("units", "activation", "kernel_size", "pool_size", "padding", "filters", "return_sequences"):
                    if key in config:
                        entry[key] = config[key] if not isinstance(config[key], tuple) else list(config[key])
            except Exception:  # noqa: BLE001
                pass
            for attr in ("input", "output"):
                try:
                    entry[attr] = _shape(getattr(layer, attr))
                except Exception:  # noqa: BLE001
                    pass
            layers.append(entry)
    except Exception:  # noqa: BLE001
        pass
    info["layers"] = layers
    return info


def _plain_shape(value):
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
        return [_plain_shape(v) for v in value]
    if isinstance(value, (list, tuple)):
        return [None if d is None else int(d) for d in value]
    return _shape(value)


# --- where the user's code calls ---------------------------------------------------------------------------
_user_cache: dict[str, bool] = {}


def _is_user(filename: str) -> bool:
    known = _user_cache.get(filename)
    if known is None:
        known = _user_cache[filename] = os.path.abspath(filename) in _USER
    return known


def _user_site(depth: int = 2):
    frame = sys._getframe(depth)
    while frame is not None:
        if _is_user(frame.f_code.co_filename):
            return frame
        frame = frame.f_back
    return None


def _wrap(owner, attr: str, api: str, argnames: tuple[str, ...]):
    original = getattr(owner, attr, None)
    if original is None or getattr(original, "_tffix_observed", False):
        return
    def observed(*args, **kwargs):
        if getattr(_INSIDE, "active", False):
            return original(*args, **kwargs)
        site = _user_site()
        if site is None:
            return original(*args, **kwargs)
        record = _call(api, site, args, kwargs, argnames)
        at_stop = (_STOP is not None and site.f_lineno == _STOP[1]
                   and os.path.realpath(site.f_code.co_filename) == _STOP[0])
        if at_stop and api == "fit" and record is not None:
            kwargs = _with_first_step_callback(kwargs, record)
        _INSIDE.active = True
        try:
            result = original(*args, **kwargs)
        finally:
            _INSIDE.active = False
        if record is not None:
            _after(record, api, result, args)
        if at_stop and not _STATE["passed"]:
            _STATE["passed"] = True  # past the line where the program crashed before: say so now, in case
            _write()  # the rest of the run is cut short by the time budget
        return result
    observed._tffix_observed = True  # type: ignore[attr-defined]
    observed.__wrapped__ = original  # type: ignore[attr-defined]
    for name in ("__name__", "__qualname__", "__doc__"):
        try:
            setattr(observed, name, getattr(original, name))
        except (AttributeError, TypeError):
            pass
    try:
        setattr(owner, attr, observed)
    except (AttributeError, TypeError):
        pass


def _with_first_step_callback(kwargs: dict, record: dict) -> dict:
    """A repaired program's fit at the line that crashed is past it once one training step ran: a Keras
    callback says so (with that step's loss) at once, so that a long training need not finish in the time
    budget. Only in validation runs (TFFIX_REPAIR_STOP); the training itself is unchanged."""
    try:
        import keras
    except Exception:  # noqa: BLE001
        return kwargs

    class _FirstStep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if _STATE["passed"]:
                return
            try:
                loss = float((logs or {}).get("loss"))
                record["losses"] = [loss if math.isfinite(loss) else str(loss)]
            except (TypeError, ValueError):
                pass
            _STATE["passed"] = True
            _write()

    callbacks = kwargs.get("callbacks")
    kwargs = dict(kwargs)
    kwargs["callbacks"] = [*(callbacks or []), _FirstStep()]
    return kwargs


def _call(api: str, site, args, kwargs, argnames) -> dict | None:
    key = (api, site.f_code.co_filename, site.f_lineno)
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    if count >= _MAX_CALLS:
        return None
    values: dict = {}
    try:
        named = dict(zip(argnames, args))
        named.update({k: v for k, v in kwargs.items() if k in argnames or k in ("feed_dict",)})
        for name, value in named.items():
            if name == "self":
                values[name] = describe(value)
            elif name == "feed_dict" and isinstance(value, dict):
                values[name] = [
                    {"key": describe(k), "value": describe(v)} for k, v in list(value.items())[:32]
                ]
            else:
                values[name] = describe(value)
    except Exception:  # noqa: BLE001
        pass
    record = {"api": api, "file": os.path.abspath(site.f_code.co_filename), "line": site.f_lineno, "args": values, "n": count}
    with _LOCK:
        _STATE["calls"].append(record)
    return record


def _after(record: dict, api: str, result, args) -> None:
    try:
        if api == "fit":
            history = getattr(result, "history", None) or {}
            losses = [float(v) for v in history.get("loss", [])]
            record["losses"] = [v if math.isfinite(v) else str(v) for v in losses]
            if args and _is_model(args[0]):
                record["args"]["self"] = _model(args[0])  # built now: its layers' shapes are known
        elif api in ("run", "train_on_batch", "evaluate"):
            values = result if isinstance(result, (list, tuple)) else [result]
            scalars = []
            for value in values:
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    continue
                scalars.append(number if math.isfinite(number) else str(number))
            record["scalars"] = scalars[:8]
        elif api in ("matmul", "reshape", "predict"):
            record["result"] = describe(result)
    except Exception:  # noqa: BLE001
        pass


# --- the crash ---------------------------------------------------------------------------------------------
def _crash(exc: BaseException) -> None:
    if isinstance(exc, (SystemExit, KeyboardInterrupt)):
        return
    frames = []
    user = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        frames.append({"file": frame.f_code.co_filename, "line": line, "function": frame.f_code.co_name})
        if _is_user(frame.f_code.co_filename):
            user = (frame, line)
    crash = {
        "exception": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "message": _ANSI.sub("", str(exc))[:20_000],
        "frames": frames,
        "file": None, "line": None, "locals": {},
    }
    if user is not None:
        frame, line = user
        crash["file"], crash["line"] = os.path.abspath(frame.f_code.co_filename), line
        names = dict(frame.f_globals) if frame.f_code.co_name == "<module>" else {**frame.f_globals, **frame.f_locals}
        snapshot = {}
        for name, value in names.items():
            if name.startswith("__") or callable(value) and not _is_model(value):
                continue
            if type(value).__name__ == "module":
                continue
            info = describe(value)
            if info is not None and info.get("kind") not in ("str",):
                snapshot[name] = info
            if len(snapshot) >= 200:
                break
        crash["locals"] = snapshot
    _STATE["crash"] = crash


def _finish() -> None:
    if _STATE["written"]:
        return
    _STATE["written"] = True
    _write()


def _write() -> None:
    if _OUT is None:
        return
    try:
        tmp = _OUT + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump({k: _STATE[k] for k in ("calls", "crash", "passed")}, handle, default=str)
        os.replace(tmp, _OUT)
    except Exception:  # noqa: BLE001
        pass


# --- patching TensorFlow and Keras once they are imported -------------------------------------------------
def _patch() -> None:
    tf = sys.modules.get("tensorflow")
    keras = sys.modules.get("keras")
    if keras is None and tf is not None:
        try:
            import keras  # noqa: F811 - TensorFlow 2.16+ uses Keras 3, importable alongside
        except Exception:  # noqa: BLE001
            keras = None
    model = getattr(keras, "Model", None) if keras is not None else None
    if model is not None:
        for attr, argnames in (
            ("fit", ("self", "x", "y", "batch_size", "epochs")),
            ("evaluate", ("self", "x", "y")),
            ("predict", ("self", "x")),
            ("train_on_batch", ("self", "x", "y")),
            ("test_on_batch", ("self", "x", "y")),
            ("predict_on_batch", ("self", "x")),
        ):
            _wrap(model, attr, attr, argnames)
    if tf is not None:
        for owner in (tf, getattr(tf, "linalg", None)):
            if owner is not None:
                _wrap(owner, "matmul", "matmul", ("a", "b"))
        _wrap(tf, "reshape", "reshape", ("tensor", "shape"))
        v1 = getattr(getattr(tf, "compat", None), "v1", None)
        if v1 is not None:
            for owner in (v1, getattr(v1, "linalg", None)):
                if owner is not None:
                    _wrap(owner, "matmul", "matmul", ("a", "b"))
            _wrap(v1, "reshape", "reshape", ("tensor", "shape"))
            session = getattr(v1, "Session", None)
            if session is not None:
                base = session.__mro__[1] if len(session.__mro__) > 1 else session
                _wrap(base, "run", "run", ("self", "fetches", "feed_dict"))
        v1_nn = getattr(getattr(getattr(tf, "compat", None), "v1", None), "nn", None)
        for nn in (getattr(tf, "nn", None), v1_nn):
            if nn is None:
                continue
            for name in ("softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
                         "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits",
                         "weighted_cross_entropy_with_logits"):
                _wrap(nn, name, name, ("labels", "logits"))


class _Finder:
    """Patches TensorFlow/Keras right after their top-level import (the observer never imports them)."""

    def find_spec(self, name, path=None, target=None):
        if name not in ("tensorflow", "keras"):
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find else None
            if spec is not None and spec.loader is not None:
                loader = spec.loader
                original = loader.exec_module

                def exec_module(module, original=original):
                    original(module)
                    try:
                        _patch()
                    except Exception:  # noqa: BLE001
                        pass

                try:
                    loader.exec_module = exec_module
                except (AttributeError, TypeError):
                    return None
                return spec
        return None


def install(out: str | None = None, files: str | None = None) -> None:
    """Start observing (see the module doc); a no-op without an output path."""
    global _OUT, _STOP
    _OUT = out or os.environ.get("TFFIX_OBSERVE")
    if not _OUT:
        return
    files = files or os.environ.get("TFFIX_OBSERVE_FILES") or ""
    for file in filter(None, files.split(os.pathsep)):
        _USER.add(os.path.abspath(file))
    if not _USER and sys.argv and sys.argv[0].endswith(".py"):
        _USER.add(os.path.abspath(sys.argv[0]))
    stop = os.environ.get("TFFIX_REPAIR_STOP")
    if stop and ":" in stop:
        path, _, line = stop.rpartition(":")
        _STOP = (os.path.realpath(path), int(line))
    atexit.register(_finish)
    previous_hook = sys.excepthook

    def hook(kind, exc, tb):
        _crash(exc)
        _finish()
        previous_hook(kind, exc, tb)

    sys.excepthook = hook
    # tffix._exec runs the program with runpy.run_path and catches what it raises: see it first.
    import runpy

    run_path = runpy.run_path
    if not getattr(run_path, "_tffix_observed", False):
        def observed_run_path(path, *args, **kwargs):
            _USER.add(os.path.abspath(path))
            _user_cache.clear()
            try:
                return run_path(path, *args, **kwargs)
            except BaseException as exc:
                _crash(exc)
                _finish()
                raise
        observed_run_path._tffix_observed = True  # type: ignore[attr-defined]
        runpy.run_path = observed_run_path
    if "tensorflow" in sys.modules or "keras" in sys.modules:
        _patch()
    sys.meta_path.insert(0, _Finder())


PRELUDE = "import tffix.repair.observe as _o; _o.install()\n"
SITECUSTOMIZE = (
    "import os, sys\n"
    "if os.environ.get('TFFIX_OBSERVE'):\n"
    "    try:\n"
    "        import tffix.repair.observe as _o; _o.install()\n"
    "    except Exception:\n"
    "        pass\n"
    "# this file shadows any other sitecustomize on the path: run that one too, as Python would have\n"
    "try:\n"
    "    import importlib.machinery as _m, importlib.util as _u\n"
    "    _here = os.path.dirname(os.path.abspath(__file__))\n"
    "    _spec = _m.PathFinder.find_spec('sitecustomize', [p for p in sys.path if os.path.abspath(p or '.') != _here])\n"
    "    if _spec is not None and _spec.loader is not None:\n"
    "        _spec.loader.exec_module(_u.module_from_spec(_spec))\n"
    "except Exception:\n"
    "    pass\n"
)
