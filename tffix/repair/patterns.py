"""The repair catalogue: each pattern reads what the program really had when it crashed (`Crash`, from the
observer) and the user's file (`Source`), and proposes candidate edits. A pattern proposes only where the
observed shapes show its cause; the search (`tffix.repair.search`) keeps a candidate only when a re-run proves
it. Patterns are listed in the order of how often each is the accepted answer to a real crashing program
(issue 15's count over 140 public Q&A programs), and that order ranks their candidates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from .source import Edit, Source, argument, literal, shape_text


@dataclass(frozen=True)
class Candidate:
    pattern: str
    title: str  # what the edit does, for the user
    edits: tuple[Edit, ...]
    rank: float = 0.0


@dataclass
class Crash:
    """What the observer saw: the exception, the user's line, the values in scope, the observed calls."""

    exception: str
    message: str
    file: str
    line: int
    locals: dict
    calls: list[dict] = field(default_factory=list)  # observed calls in this file, in order

    @classmethod
    def from_record(cls, record: dict, file: Path) -> Crash | None:
        crash = record.get("crash") or {}
        if not crash.get("line") or Path(crash.get("file") or "").resolve() != file.resolve():
            return None
        calls = [c for c in record.get("calls", []) if Path(c["file"]).resolve() == file.resolve()]
        return cls(crash["exception"], crash.get("message") or "", crash["file"], crash["line"],
                   crash.get("locals") or {}, calls)

    @property
    def name(self) -> str:
        return self.exception.rsplit(".", 1)[-1]

    def site(self, *apis: str) -> dict | None:
        """The last observed call at the crash line (the one that raised), when its API is one of `apis`."""
        here = [c for c in self.calls if c["line"] == self.line and (not apis or c["api"] in apis)]
        return here[-1] if here else None

    def model(self) -> dict | None:
        site = self.site()
        if site and isinstance(site["args"].get("self"), dict) and site["args"]["self"].get("kind") == "model":
            return site["args"]["self"]
        models = [v for v in self.locals.values() if isinstance(v, dict) and v.get("kind") == "model"]
        return models[-1] if len(models) == 1 else None

    def value(self, node: cst.BaseExpression, source: Source) -> dict | None:
        """What the observer knows of an expression: a name in scope at the crash."""
        if isinstance(node, cst.Name):
            return self.locals.get(node.value)
        return None


Pattern = Callable[[Source, Crash], list[Candidate]]


# --- helpers ----------------------------------------------------------------------------------------------
def _prod(dims: Sequence[int | None]) -> int | None:
    if any(d is None for d in dims):
        return None
    return math.prod(dims)  # type: ignore[arg-type]


def _shape(info: dict | None) -> list | None:
    return info.get("shape") if isinstance(info, dict) else None


def _is_integer_labels(info: dict | None) -> bool:
    if not isinstance(info, dict) or info.get("shape") is None:
        return False
    dtype = info.get("dtype", "")
    if dtype.startswith(("int", "uint")):
        return True
    return dtype.startswith("float") and bool(info.get("integral"))


def _training(crash: Crash) -> tuple[dict | None, dict | None]:
    """The observed training or evaluation call that crashed, and its model."""
    return crash.site("fit", "evaluate", "train_on_batch", "test_on_batch"), crash.model()


def _site_call(source: Source, crash: Crash, *leaves: str) -> cst.Call | None:
    calls = source.calls_named(*leaves, line=crash.line)
    return calls[-1] if calls else None


def _layer_calls(source: Source, model: dict) -> list[tuple[dict, cst.Call | None]]:
    """Each observed layer with the constructor call that made it: the k-th layer of a class is the k-th call
    in the file to a Keras layer class of that name (one model per file, as in the programs this repairs)."""
    seen: dict[str, int] = {}
    pairs = []
    for layer in model.get("layers", []):
        klass = layer["class"]
        k = seen.get(klass, 0)
        seen[klass] = k + 1
        calls = [c for c in source.calls_named(klass) if not isinstance(c.func, cst.Call)]
        calls = [c for c in calls if not any(n.startswith(("tf.", "numpy")) for n in source.callee(c))]
        pairs.append((layer, calls[k] if k < len(calls) else None))
    return pairs


def _wrap(source: Source, node: cst.CSTNode, template: str) -> Edit:
    return source.replace(node, template.format(source.code(node)))


def _units_arg(call: cst.Call) -> cst.Arg | None:
    return argument(call, 0, "units")


# --- 1. data shape differs from the model's declared input --------------------------------------------------
def declared_input(source: Source, crash: Crash) -> list[Candidate]:
    site = crash.site("fit", "evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch")
    model = crash.model()
    if site is None or model is None:
        return []
    declared = model.get("input_shape")
    data = _shape(site["args"].get("x"))
    if not declared or not data or isinstance(declared[0], list) or len(data) < 1:
        return []
    if list(data[1:]) == list(declared[1:]):
        return []
    if len(data) == len(declared) - 1 and list(data) == list(declared[1:]):
        return []  # one example without its batch axis: pattern 6
    call = _site_call(source, crash, site["api"])
    x_arg = argument(call, 0, "x") if call is not None else None
    candidates = []
    target = declared[1:]
    if x_arg is not None and _prod(data[1:]) is not None and _prod(data[1:]) == _prod(target):
        np_name, imports = source.numpy()
        new_shape = shape_text([-1, *target])
        candidates.append(Candidate(
            "declared-input", f"reshape the data to the model's declared input {shape_text(target)}",
            (_wrap(source, x_arg.value, np_name + ".reshape({}, " + new_shape + ")"), *imports), 1.0,
        ))
    # set the declaration from the data
    for call in source.calls:
        names = source.callee(call)
        if names & {"keras.Input", "keras.layers.Input", "keras.layers.InputLayer"}:
            arg = argument(call, 0, "shape", "input_shape")
            if arg is None:
                continue
            try:
                value = literal(arg.value)
            except ValueError:
                continue
            if isinstance(value, int):
                value = (value,)
            if list(value) == list(target):
                candidates.append(Candidate(
                    "declared-input", f"declare the input shape the data has, {shape_text(data[1:])}",
                    (source.replace(arg.value, shape_text(data[1:])),), 2.0,
                ))
        else:
            for keyword in ("input_shape", "input_dim"):
                arg = argument(call, None, keyword)
                if arg is None:
                    continue
                try:
                    value = literal(arg.value)
                except ValueError:
                    continue
                value = (value,) if isinstance(value, int) else value
                if list(value) != list(target):
                    continue
                if keyword == "input_dim" and len(data) == 2:
                    new = str(data[1])
                else:
                    new = shape_text(data[1:])
                    if keyword == "input_dim":
                        arg_edit = source.replace(arg, f"input_shape={new}")
                        candidates.append(Candidate("declared-input", f"declare input_shape={new} from the data",
                                                    (arg_edit,), 2.0))
                        continue
                candidates.append(Candidate(
                    "declared-input", f"declare {keyword}={new}, the shape the data has",
                    (source.replace(arg.value, new),), 2.0,
                ))
    return candidates


# --- 2. integer class labels with a categorical loss ---------------------------------------------------------
def integer_labels(source: Source, crash: Crash) -> list[Candidate]:
    site, model = _training(crash)
    if site is None or model is None:
        return []
    y = site["args"].get("y")
    out = model.get("output_shape")
    shape = _shape(y)
    if not _is_integer_labels(y) or not out or isinstance(out[0], list) or len(out) != 2 or not out[1] or out[1] < 2:
        return []
    if not shape or len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
        return []
    classes = out[1]
    if y.get("max") is not None and y["max"] >= classes:
        return []  # more classes than outputs: pattern 5
    candidates = []
    for call in source.calls_named("compile"):
        arg = argument(call, 1, "loss")
        if arg is None:
            continue
        edits = []
        value = arg.value
        softmax = (model.get("layers") or [{}])[-1].get("activation") == "softmax"
        sparse_from = ("categorical_crossentropy", "binary_crossentropy") if softmax else ("categorical_crossentropy",)
        if isinstance(value, cst.SimpleString) and value.evaluated_value in sparse_from:
            quote = value.value[0] if value.value[0] in "\"'" else '"'
            edits.append(source.replace(value, f"{quote}sparse_categorical_crossentropy{quote}"))
        elif isinstance(value, cst.Call) and source.leaf(value) == "CategoricalCrossentropy":
            edits.append(source.replace(value.func, source.code(value.func).rsplit("CategoricalCrossentropy", 1)[0]
                                        + "SparseCategoricalCrossentropy"))
        elif isinstance(value, (cst.Attribute, cst.Name)) and source.code(value).endswith("categorical_crossentropy"):
            edits.append(source.replace(value, source.code(value)[: -len("categorical_crossentropy")]
                                        + "sparse_categorical_crossentropy"))
        else:
            continue
        metrics = argument(call, 2, "metrics")
        if metrics is not None:
            for node in _strings(metrics.value):
                if node.evaluated_value == "categorical_accuracy":
                    edits.append(source.replace(node, repr("sparse_categorical_accuracy")))
        candidates.append(Candidate("integer-labels", "use the sparse loss, which takes integer class labels",
                                    tuple(edits), 1.0))
    # one-hot the labels where they are passed (at the crash, then at every such call)
    keras, imports = source.keras()
    sites = []
    for call in source.calls_named("fit", "evaluate", "train_on_batch", "test_on_batch"):
        y_arg = argument(call, 1, "y")
        if y_arg is not None and not (isinstance(y_arg.value, cst.Call) and source.leaf(y_arg.value) == "to_categorical"):
            sites.append((call, y_arg))
    here = [(c, a) for c, a in sites if source.on_line(c, crash.line)]
    template = keras + ".utils.to_categorical({}, " + str(classes) + ")"
    for chosen, title in ((sites, "every call"), (here, "the call that crashed")):
        if chosen:
            candidates.append(Candidate(
                "integer-labels", f"one-hot the integer labels ({classes} classes) at {title}",
                (*(_wrap(source, a.value, template) for _, a in chosen), *imports), 2.0 + (chosen is here) * 0.5,
            ))
    return candidates


def _strings(node: cst.BaseExpression) -> list[cst.SimpleString]:
    if isinstance(node, cst.SimpleString):
        return [node]
    if isinstance(node, (cst.List, cst.Tuple)):
        return [e.value for e in node.elements if isinstance(e.value, cst.SimpleString)]
    return []


# --- 3. TF1: integer labels fed to a one-hot placeholder, and 8. any fed array shaped unlike its placeholder ---


def _feeds(source: Source, crash: Crash) -> list[tuple[str, dict, dict, list[cst.DictElement]]]:
    """(variable, placeholder info, fed value info, the dict entries in the file that feed it) for each
    mismatched feed at the crash."""
    site = crash.site("run")
    if site is None:
        return []
    mismatched = []
    for item in site["args"].get("feed_dict") or []:
        key, value = item.get("key") or {}, item.get("value") or {}
        if not key.get("placeholder") or value.get("shape") is None or key.get("shape") is None:
            continue
        placeholder, fed = key["shape"], value["shape"]
        if len(placeholder) == len(fed) and all(p is None or p == f for p, f in zip(placeholder, fed)):
            continue
        variables = [n for n, v in crash.locals.items() if isinstance(v, dict) and v.get("placeholder") == key["placeholder"]]
        entries = []
        for mapping in source.dicts:
            for element in mapping.elements:
                if isinstance(element, cst.DictElement) and source.code(element.key) in variables:
                    entries.append(element)
        if entries:
            mismatched.append((variables[0], key, value, entries))
    return mismatched


def onehot_feed(source: Source, crash: Crash) -> list[Candidate]:
    candidates = []
    for variable, key, value, entries in _feeds(source, crash):
        placeholder, fed = key["shape"], value["shape"]
        if len(placeholder) != 2 or not placeholder[1] or placeholder[1] < 2 or not _is_integer_labels(value):
            continue
        if len(fed) > 2 or (len(fed) == 2 and fed[1] != 1) or value.get("max", 0) >= placeholder[1]:
            continue
        np_name, imports = source.numpy()
        dtype = key.get("dtype", "float32")
        index = "{}" if len(fed) == 1 and value["dtype"].startswith(("int", "uint")) else \
            np_name + ".asarray({}).reshape(-1).astype(int)"
        template = f"{np_name}.eye({placeholder[1]}, dtype={np_name}.{dtype})[" + index + "]"
        here = [e for e in entries if source.on_line(e, crash.line)]
        for chosen, title, rank in ((entries, "every feed", 1.0), (here, "the feed that crashed", 1.5)):
            if chosen:
                candidates.append(Candidate(
                    "onehot-feed", f"one-hot the integer labels fed to {variable} ({placeholder[1]} classes) at {title}",
                    (*(_wrap(source, e.value, template) for e in chosen), *imports), rank,
                ))
    return candidates


def feed_shape(source: Source, crash: Crash) -> list[Candidate]:
    candidates = []
    for variable, key, value, entries in _feeds(source, crash):
        placeholder, fed = key["shape"], value["shape"]
        if _is_integer_labels(value) and len(placeholder) == 2 and (placeholder[1] or 0) > 1 and len(fed) == 1:
            continue  # pattern 3
        np_name, imports = source.numpy()
        if placeholder[0] is None and None not in placeholder[1:] and _prod(fed) is not None \
                and _prod(fed) % max(1, _prod(placeholder[1:]) or 1) == 0 and \
                (len(fed) < 1 or _prod(fed[1:]) == _prod(placeholder[1:]) or list(fed) == list(placeholder[1:])):
            template = np_name + ".reshape({}, " + shape_text([-1, *placeholder[1:]]) + ")"
            candidates.append(Candidate(
                "feed-shape", f"reshape what is fed to {variable} to its placeholder's {shape_text(placeholder)}",
                (*(_wrap(source, e.value, template) for e in entries), *imports), 1.0,
            ))
        # or declare the placeholder with the data's shape
        for call in source.calls_named("placeholder"):
            statement = source.statement_of(call)
            if statement is None or not any(
                isinstance(s, cst.Assign) and any(source.code(t.target) == variable for t in s.targets)
                for s in statement.body
            ):
                continue
            arg = argument(call, 1, "shape")
            if arg is None:
                continue
            new = "[None, " + ", ".join(str(d) for d in fed[1:]) + "]"
            candidates.append(Candidate(
                "feed-shape", f"declare {variable}'s placeholder with the shape of the data, {new}",
                (source.replace(arg.value, new),), 2.0,
            ))
    return candidates


# --- 4. the head keeps spatial or time axes ------------------------------------------------------------------
_RECURRENT = {"LSTM", "GRU", "SimpleRNN", "Bidirectional"}


def flatten_head(source: Source, crash: Crash) -> list[Candidate]:
    site, model = _training(crash)
    if site is None or model is None:
        return []
    out = model.get("output_shape")
    y = _shape(site["args"].get("y"))
    if not out or isinstance(out[0], list) or len(out) <= 2 or y is None or len(y) >= len(out):
        return []
    pairs = _layer_calls(source, model)
    candidates = []
    for index, (layer, call) in enumerate(pairs):
        if layer["class"] != "Dense" or call is None or not layer.get("input") or len(layer["input"]) <= 2:
            continue
        previous = pairs[index - 1] if index else None
        if previous and previous[0]["class"] in _RECURRENT and previous[1] is not None:
            arg = argument(previous[1], None, "return_sequences")
            if arg is not None:
                candidates.append(Candidate(
                    "flatten-head", "return only the last step of the recurrent layer before the head",
                    (source.replace(arg.value, "False"),), 0.5,
                ))
        for layer_class, rank in (("Flatten", 1.0), (_pooling(len(layer["input"])), 2.0)):
            if layer_class is None:
                continue
            spelling, imports = source.layer_spelling(call, layer_class)
            edit = _insert_layer(source, call, spelling)
            if edit is not None:
                candidates.append(Candidate(
                    "flatten-head", f"insert {layer_class}() before the Dense head",
                    (edit, *imports), rank,
                ))
        break
    return candidates


def _pooling(rank: int) -> str | None:
    return {3: "GlobalAveragePooling1D", 4: "GlobalAveragePooling2D", 5: "GlobalAveragePooling3D"}.get(rank)


def _insert_layer(source: Source, layer_call: cst.Call, spelling: str) -> Edit | None:
    """Put a new layer before `layer_call`: in a Sequential list, before a model.add, or around a functional
    call's input."""
    for call in source.calls:
        if isinstance(call.func, cst.Call) and call.func is layer_call and call.args:
            arg = call.args[0].value
            return _wrap(source, arg, spelling + "()({})")
    for mapping in source.calls:
        for arg in mapping.args:
            if isinstance(arg.value, (cst.List, cst.Tuple)):
                for element in arg.value.elements:
                    if element.value is layer_call:
                        return source.insert_before(layer_call, f"{spelling}(), ")
    for call in source.calls_named("add"):
        if call.args and call.args[0].value is layer_call:
            statement = source.statement_of(call)
            if statement is not None:
                owner = source.code(call.func)
                return source.insert_before(call, f"{owner}({spelling}())\n{source.indent_of(call)}")
    return None


# --- 5. the head's width differs from the labels' ----------------------------------------------------------
def head_units(source: Source, crash: Crash) -> list[Candidate]:
    site, model = _training(crash)
    if site is None or model is None:
        return []
    y = site["args"].get("y")
    out = model.get("output_shape")
    shape = _shape(y)
    if not out or isinstance(out[0], list) or len(out) != 2 or not shape:
        return []
    binary = str(model.get("loss", "")).lower().replace("_", "") in ("binarycrossentropy", "binaryfocalcrossentropy")
    last = (model.get("layers") or [{}])[-1]
    if binary and _is_integer_labels(y) and (y.get("max") or 0) <= 1 and (len(shape) == 1 or shape[1] == 1) \
            and (out[1] or 0) > 1 and last.get("activation") != "softmax":
        width = 1  # 0/1 labels, a binary loss, a sigmoid head of several units: the binary head has one
    elif len(shape) == 2 and shape[1] and shape[1] > 1:
        width = shape[1]  # one-hot (or multi-label) targets
    elif "sparse" in str(model.get("loss", "")).lower() and _is_integer_labels(y) and y.get("max") is not None \
            and y["max"] >= (out[1] or 0):
        width = y["max"] + 1  # integer labels beyond the head of a sparse loss
    else:
        return []
    if width == out[1]:
        return []
    pairs = _layer_calls(source, model)
    if not pairs or pairs[-1][0]["class"] != "Dense" or pairs[-1][1] is None:
        return []
    arg = _units_arg(pairs[-1][1])
    if arg is None:
        return []
    title = ("give the binary head 1 unit (0/1 labels, a binary loss)" if width == 1
             else f"give the output layer {width} units, the number of classes in the labels")
    return [Candidate("head-units", title, (source.replace(arg.value, str(width)),), 0.5 if width == 1 else 1.0)]


# --- 6. one example without its batch axis ------------------------------------------------------------------
def batch_axis(source: Source, crash: Crash) -> list[Candidate]:
    model = crash.model()
    if model is None or not model.get("input_shape") or isinstance(model["input_shape"][0], list):
        return []
    declared = model["input_shape"][1:]
    candidates = []
    site = crash.site("predict", "fit", "evaluate", "predict_on_batch", "train_on_batch")
    nodes: list[cst.BaseExpression] = []
    if site is not None and list(_shape(site["args"].get("x")) or []) == list(declared):
        call = _site_call(source, crash, site["api"])
        arg = argument(call, 0, "x") if call is not None else None
        if arg is not None:
            nodes.append(arg.value)
    for call in source.calls:  # model(x) on the crash line
        if not source.on_line(call, crash.line) or not isinstance(call.func, cst.Name) or not call.args:
            continue
        if (crash.locals.get(call.func.value) or {}).get("kind") == "model":
            info = crash.value(call.args[0].value, source)
            if list(_shape(info) or [0]) == list(declared):
                nodes.append(call.args[0].value)
    np_name, imports = source.numpy()
    for node in nodes:
        candidates.append(Candidate("batch-axis", "add the batch axis to the single example",
                                    (_wrap(source, node, np_name + ".expand_dims({}, 0)"), *imports), 1.0))
    return candidates


# --- 7. matmul of vectors or with swapped dimensions ---------------------------------------------------------
def matmul(source: Source, crash: Crash) -> list[Candidate]:
    if "MatMul" not in crash.message and "matmul" not in crash.message.lower() and "In[0]" not in crash.message:
        return []
    candidates = []
    tf_name, imports = source.tensorflow()
    site = crash.site("matmul")
    for call in source.calls_named("matmul", line=crash.line):
        a_arg, b_arg = argument(call, 0, "a"), argument(call, 1, "b")
        if a_arg is None or b_arg is None:
            continue
        sa = _shape(site["args"].get("a")) if site else _shape(crash.value(a_arg.value, source))
        sb = _shape(site["args"].get("b")) if site else _shape(crash.value(b_arg.value, source))
        candidates.extend(_matmul_candidates(source, call, a_arg.value, b_arg.value, sa, sb, tf_name, imports, True))
    for binop in source.binops:
        if isinstance(binop.operator, cst.MatrixMultiply) and source.on_line(binop, crash.line):
            sa, sb = _shape(crash.value(binop.left, source)), _shape(crash.value(binop.right, source))
            candidates.extend(_matmul_candidates(source, binop, binop.left, binop.right, sa, sb, tf_name, imports, False))
    return candidates


def _transposed(tf_name: str, code: str, shape) -> str:
    """The last two axes swapped: tf.transpose for a matrix, matrix_transpose for a batch of them."""
    if shape is not None and len(shape) > 2:
        return f"{tf_name}.linalg.matrix_transpose({code})"
    return f"{tf_name}.transpose({code})"


def _matmul_candidates(source, node, a, b, sa, sb, tf_name, imports, is_call) -> list[Candidate]:
    options: list[tuple[str, tuple[Edit, ...], bool]] = []
    code_a, code_b = source.code(a), source.code(b)

    def fits(x, y) -> bool | None:
        if x is None or y is None:
            return None
        return len(x) >= 2 and len(y) >= 2 and x[-1] == y[-2]

    ta = [*sa[:-2], sa[-1], sa[-2]] if sa is not None and len(sa) >= 2 else sa
    tb = [*sb[:-2], sb[-1], sb[-2]] if sb is not None and len(sb) >= 2 else sb
    if sa is not None and len(sa) == 1:
        options.append(("make the vector a row: expand_dims(a, 0)",
                        (source.replace(a, f"{tf_name}.expand_dims({code_a}, 0)"),), fits([1, *sa], sb) is not False))
    if sb is not None and len(sb) == 1:
        options.append(("make the vector a column: expand_dims(b, -1)",
                        (source.replace(b, f"{tf_name}.expand_dims({code_b}, -1)"),), fits(sa, [*sb, 1]) is not False))
    if is_call:
        options.append(("transpose the second operand (transpose_b=True)",
                        (Edit(source.span(b)[1], source.span(b)[1], ", transpose_b=True"),), fits(sa, tb) is not False))
    else:
        options.append(("transpose the second operand", (source.replace(b, _transposed(tf_name, code_b, sb)),),
                        fits(sa, tb) is not False))
    options.append(("swap the operands", (source.replace(a, code_b), source.replace(b, code_a)), fits(sb, sa) is not False))
    if is_call:
        options.append(("transpose the first operand (transpose_a=True)",
                        (Edit(source.span(b)[1], source.span(b)[1], ", transpose_a=True"),), fits(ta, sb) is not False))
    else:
        options.append(("transpose the first operand", (source.replace(a, _transposed(tf_name, code_a, sa)),),
                        fits(ta, sb) is not False))
    return [
        Candidate("matmul", title, (*edits, *imports), 1.0 + index * 0.1 + (0 if plausible else 5))
        for index, (title, edits, plausible) in enumerate(options)
        if plausible
    ]


# --- 9. an elementwise op on tensors of different shapes -----------------------------------------------------
_INCOMPATIBLE = re.compile(r"Incompatible shapes|could not be broadcast|Dimensions must be equal")
_ELEMENTWISE = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)


def elementwise(source: Source, crash: Crash) -> list[Candidate]:
    if not _INCOMPATIBLE.search(crash.message):
        return []
    candidates = []
    pairs = []
    for binop in source.binops:
        if isinstance(binop.operator, _ELEMENTWISE) and source.on_line(binop, crash.line):
            pairs.append((binop.left, binop.right))
    for call in source.calls_named("add", "subtract", "multiply", "divide", "squared_difference", line=crash.line):
        if source.is_api(call, "tf.") and len(call.args) >= 2:
            pairs.append((call.args[0].value, call.args[1].value))
    for left, right in pairs:
        il, ir = crash.value(left, source), crash.value(right, source)
        sl, sr = _shape(il), _shape(ir)
        if sl is None or sr is None or sl == sr:
            continue
        for node, info, shape, other_node, other in ((right, ir, sr, left, sl), (left, il, sl, right, sr)):
            numpy = info.get("kind") == "ndarray"
            lib, imports = source.numpy() if numpy else source.tensorflow()
            code, other_code = source.code(node), source.code(other_node)
            if len(shape) == len(other) - 1 and list(other[: len(shape)]) == list(shape):
                candidates.append(Candidate("elementwise", f"add a trailing axis to {code} to line it up with {other_code}",
                                            (source.replace(node, f"{lib}.expand_dims({code}, -1)"), *imports), 1.0))
            if len(shape) == len(other) + 1 and shape[-1] == 1 and list(shape[:-1]) == list(other):
                candidates.append(Candidate("elementwise", f"drop {code}'s trailing axis of 1",
                                            (source.replace(node, f"{lib}.squeeze({code}, -1)"), *imports), 0.9))
            if len(shape) == 2 and list(reversed(shape)) == list(other):
                candidates.append(Candidate("elementwise", f"transpose {code}",
                                            (source.replace(node, f"{lib}.transpose({code})"), *imports), 1.5))
            elif _prod(shape) == _prod(other) and _prod(shape) is not None:
                new = shape_text(other)
                candidates.append(Candidate("elementwise", f"reshape {code} to {new}",
                                            (source.replace(node, f"{lib}.reshape({code}, {new})"), *imports), 2.0))
    return candidates


# --- 9b. the raw cross-entropy ops: labels shaped unlike the logits (elementwise over the two) ---------------
_CROSS_ENTROPY = ("sigmoid_cross_entropy_with_logits", "weighted_cross_entropy_with_logits",
                  "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
                  "sparse_softmax_cross_entropy_with_logits")


def _same(a: Sequence, b: Sequence) -> bool:
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def cross_entropy(source: Source, crash: Crash) -> list[Candidate]:
    candidates = []
    for call in source.calls_named(*_CROSS_ENTROPY, line=crash.line):
        if not source.is_api(call, "tf.") and source.callee(call):
            continue
        leaf = source.leaf(call)
        labels, logits = argument(call, 0, "labels"), argument(call, 1, "logits")
        if labels is None or logits is None:
            continue
        site = crash.site(leaf)
        il = (site or {}).get("args", {}).get("labels") or crash.value(labels.value, source)
        ig = (site or {}).get("args", {}).get("logits") or crash.value(logits.value, source)
        sl, sg = _shape(il), _shape(ig)
        if sl is None or sg is None:
            continue
        tf_name, imports = source.tensorflow()
        code = source.code(labels.value)
        if leaf.startswith("sparse"):
            if len(sl) == len(sg) and sl[-1] == 1:
                candidates.append(Candidate("elementwise", "drop the labels' trailing axis of 1 (sparse labels are (batch,))",
                                            (source.replace(labels.value, f"{tf_name}.squeeze({code}, -1)"), *imports), 1.0))
            continue
        if leaf.startswith("softmax") and len(sl) == len(sg) - 1 and _is_integer_labels(il):
            func = source.code(call.func)
            candidates.append(Candidate("elementwise", "integer class labels: the sparse softmax cross-entropy",
                                        (source.replace(call.func, func[: -len(leaf)] + "sparse_softmax_cross_entropy_with_logits"),),
                                        1.0))
            continue
        if len(sl) == len(sg) - 1 and sg[-1] == 1 and _same(sl, sg[:-1]):
            candidates.append(Candidate("elementwise", "give the labels the logits' trailing axis of 1",
                                        (source.replace(labels.value, f"{tf_name}.expand_dims({code}, -1)"), *imports), 1.0))
        elif len(sl) == len(sg) + 1 and sl[-1] == 1 and _same(sl[:-1], sg):
            candidates.append(Candidate("elementwise", "drop the labels' trailing axis of 1, as the logits have none",
                                        (source.replace(labels.value, f"{tf_name}.squeeze({code}, -1)"), *imports), 1.0))
    return candidates


# --- 10. a hard-coded reshape size -------------------------------------------------------------------------------
_RESHAPE_TF = re.compile(r"Input to reshape is a tensor with (?P<size>\d+) values")
_RESHAPE_NP = re.compile(r"cannot reshape array of size (?P<size>\d+) into shape")


def reshape_size(source: Source, crash: Crash) -> list[Candidate]:
    match = _RESHAPE_TF.search(crash.message) or _RESHAPE_NP.search(crash.message)
    if match is None:
        return []
    size = int(match.group("size"))
    candidates = []
    for call in source.calls_named("reshape", line=crash.line):
        is_method = isinstance(call.func, cst.Attribute) and not source.callee(call) & {"tf.reshape", "numpy.reshape"}
        positional = [a for a in call.args if a.keyword is None]
        if is_method:
            receiver = call.func.value  # type: ignore[union-attr]
            if len(positional) == 1 and isinstance(positional[0].value, (cst.Tuple, cst.List)):
                dims = [e.value for e in positional[0].value.elements]
            else:
                dims = [a.value for a in positional]
        else:
            receiver = positional[0].value if positional else None
            shape_arg = argument(call, 1, "shape", "newshape")
            if shape_arg is None or not isinstance(shape_arg.value, (cst.Tuple, cst.List)):
                continue
            dims = [e.value for e in shape_arg.value.elements]
        try:
            values = [literal(d) for d in dims]
        except ValueError:
            values = None
        # a literal that should follow the data: make it -1 (the batch first)
        if values is not None and -1 not in values:
            for index, (node, value) in enumerate(zip(dims, values)):
                rest = _prod([v for j, v in enumerate(values) if j != index])
                if rest and size % rest == 0:
                    candidates.append(Candidate("reshape-size", f"compute the dimension {value} from the data (-1)",
                                                (source.replace(node, "-1"),), 1.0 + 0.1 * index))
        # a batch size held in a variable (the last batch is smaller): take it from the tensor itself
        if values is None and receiver is not None and dims:
            try:
                rest = [literal(d) for d in dims[1:]]
            except ValueError:
                rest = None
            if rest is not None and -1 in rest and isinstance(dims[0], (cst.Name, cst.Attribute)):
                tf_call = bool(source.callee(call) & {"tf.reshape"})
                if tf_call:
                    tf_name, imports = source.tensorflow()
                    new = f"{tf_name}.shape({source.code(receiver)})[0]"
                else:
                    new, imports = f"{source.code(receiver)}.shape[0]", []
                candidates.append(Candidate("reshape-size", f"take the batch size from the data ({new})",
                                            (source.replace(dims[0], new), *imports), 1.5))
        # the sizes after the batch from the tensor's own shape
        site = crash.site("reshape")
        info = site["args"].get("tensor") if site else (crash.value(receiver, source) if receiver is not None else None)
        shape = _shape(info)
        if values is not None and shape and None not in shape and -1 in values[:1] and len(values) >= 2:
            if len(values) == 2:
                new = [-1, _prod(shape[1:])]
            elif len(values) == len(shape):
                new = [-1, *shape[1:]]
            else:
                new = None
            if new and new != list(values):
                edits = tuple(source.replace(node, str(v)) for node, v, old in zip(dims, new, values) if v != old)
                candidates.append(Candidate("reshape-size", f"reshape to {shape_text(new)}, from the tensor's shape",
                                            edits, 2.0))
    return candidates


# --- 11. a conv/pool window larger than its input ----------------------------------------------------------------
_NEGATIVE = re.compile(r"negative|Negative dimension|would be zero or negative|output size is too small", re.I)
_WINDOWED = ("Conv1D", "Conv2D", "Conv3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
             "AveragePooling2D", "AveragePooling3D", "MaxPool1D", "MaxPool2D", "AvgPool2D", "SeparableConv2D",
             "DepthwiseConv2D")


def conv_window(source: Source, crash: Crash) -> list[Candidate]:
    if not _NEGATIVE.search(crash.message):
        return []
    named = re.search(r"calling (\w+)\.call\(\)|layer '?(\w+)'?", crash.message)
    first = (named.group(1) or "") if named else ""
    layers = [c for c in source.calls_named(*_WINDOWED) if source.is_api(c, "keras.") or not source.callee(c)]
    layers.sort(key=lambda c: (source.leaf(c) != first, -source.span(c)[0]))
    candidates = []
    for index, call in enumerate(layers):
        padding = argument(call, None, "padding")
        if padding is not None:
            try:
                if literal(padding.value) == "same":
                    continue
            except ValueError:
                continue
            edit = source.replace(padding.value, '"same"')
        else:
            end = source.span(call)[1] - 1  # before the closing parenthesis
            separator = ", " if call.args else ""
            if call.args and call.args[-1].comma is not cst.MaybeSentinel.DEFAULT:
                separator = " "
            edit = Edit(end, end, f'{separator}padding="same"')
        candidates.append(Candidate("conv-window", f"pad {source.leaf(call)} (padding=\"same\") so its window fits",
                                    (edit,), 1.0 + 0.1 * index))
    if len(candidates) > 1:  # every window padded, when one is not enough
        edits = tuple(e for c in candidates for e in c.edits)
        candidates.append(Candidate("conv-window", "pad every conv/pool layer (padding=\"same\")", edits, 1.0 + 0.1 * len(candidates)))
    return candidates


# Ordered by how often each pattern is the accepted answer (issue 15: 32, 12, 9, 9, 8, 7, 7, 6, 5, 5, 4).
CATALOGUE: tuple[tuple[str, Pattern], ...] = (
    ("declared-input", declared_input),
    ("integer-labels", integer_labels),
    ("onehot-feed", onehot_feed),
    ("flatten-head", flatten_head),
    ("head-units", head_units),
    ("batch-axis", batch_axis),
    ("matmul", matmul),
    ("feed-shape", feed_shape),
    ("elementwise", elementwise),
    ("elementwise", cross_entropy),
    ("reshape-size", reshape_size),
    ("conv-window", conv_window),
)


# Failures that are no shape problem, whatever the shapes observed: an API misused, a name missing.
_NOT_SHAPES_EXCEPTIONS = {"NameError", "AttributeError", "KeyError", "ImportError", "ModuleNotFoundError",
                          "FileNotFoundError", "SyntaxError", "IndentationError", "UnboundLocalError"}
_NOT_SHAPES = re.compile(r"unexpected keyword argument|Arguments not recognized|has no attribute|is not defined"
                         r"|No module named|missing \d+ required positional argument")


def propose(source: Source, crash: Crash) -> list[Candidate]:
    """Every pattern's candidates, best first (by the pattern's own rank, then the catalogue's order)."""
    if crash.name in _NOT_SHAPES_EXCEPTIONS or _NOT_SHAPES.search(crash.message):
        return []
    found = []
    for order, (name, pattern) in enumerate(CATALOGUE):
        try:
            for candidate in pattern(source, crash):
                found.append((candidate.rank, order, len(found), candidate))
        except Exception:  # noqa: BLE001 - a pattern that cannot read this program proposes nothing
            continue
    found.sort(key=lambda item: item[:3])
    unique, seen = [], set()
    for *_, candidate in found:
        key = tuple(sorted((e.start, e.end, e.text) for e in candidate.edits))
        if key not in seen:
            seen.add(key)
            unique.append(candidate)
    return unique
