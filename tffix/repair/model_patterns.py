"""Repair patterns for Keras models and the data they are fed: the declared input shape, integer labels
with a categorical loss, a head that keeps spatial or time axes, a head whose width differs from the labels',
and one example without its batch axis (issue 15's patterns 1, 2, 4, 5 and 6).
"""

from __future__ import annotations

import libcst as cst

from .crash import (
    Candidate,
    Crash,
    is_integer_labels,
    layer_calls,
    observed_shape,
    product,
    site_call,
    training_call,
    units_arg,
    wrapped,
)
from .source import Edit, Source, argument, literal, shape_text


# --- 1. data shape differs from the model's declared input --------------------------------------------------
def declared_input(source: Source, crash: Crash) -> list[Candidate]:
    site = crash.site("fit", "evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch")
    model = crash.model()
    if site is None or model is None:
        return []
    declared = model.get("input_shape")
    data = observed_shape(site["args"].get("x"))
    if not declared or not data or isinstance(declared[0], list) or len(data) < 1:
        return []
    if list(data[1:]) == list(declared[1:]):
        return []
    if len(data) == len(declared) - 1 and list(data) == list(declared[1:]):
        return []  # one example without its batch axis: pattern 6
    call = site_call(source, crash, site["api"])
    x_arg = argument(call, 0, "x") if call is not None else None
    candidates = []
    target = declared[1:]
    if x_arg is not None and product(data[1:]) is not None and product(data[1:]) == product(target):
        np_name, imports = source.numpy()
        new_shape = shape_text([-1, *target])
        candidates.append(Candidate(
            "declared-input", f"reshape the data to the model's declared input {shape_text(target)}",
            (wrapped(source, x_arg.value, np_name + ".reshape({}, " + new_shape + ")"), *imports), 1.0,
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
    site, model = training_call(crash)
    if site is None or model is None:
        return []
    y = site["args"].get("y")
    out = model.get("output_shape")
    shape = observed_shape(y)
    if not is_integer_labels(y) or not out or isinstance(out[0], list) or len(out) != 2 or not out[1] or out[1] < 2:
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
                (*(wrapped(source, a.value, template) for _, a in chosen), *imports), 2.0 + (chosen is here) * 0.5,
            ))
    return candidates


def _strings(node: cst.BaseExpression) -> list[cst.SimpleString]:
    if isinstance(node, cst.SimpleString):
        return [node]
    if isinstance(node, (cst.List, cst.Tuple)):
        return [e.value for e in node.elements if isinstance(e.value, cst.SimpleString)]
    return []


# --- 4. the head keeps spatial or time axes ------------------------------------------------------------------
_RECURRENT = {"LSTM", "GRU", "SimpleRNN", "Bidirectional"}


def flatten_head(source: Source, crash: Crash) -> list[Candidate]:
    site, model = training_call(crash)
    if site is None or model is None:
        return []
    out = model.get("output_shape")
    y = observed_shape(site["args"].get("y"))
    if not out or isinstance(out[0], list) or len(out) <= 2 or y is None or len(y) >= len(out):
        return []
    pairs = layer_calls(source, model)
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
            return wrapped(source, arg, spelling + "()({})")
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
    site, model = training_call(crash)
    if site is None or model is None:
        return []
    y = site["args"].get("y")
    out = model.get("output_shape")
    shape = observed_shape(y)
    if not out or isinstance(out[0], list) or len(out) != 2 or not shape:
        return []
    binary = str(model.get("loss", "")).lower().replace("_", "") in ("binarycrossentropy", "binaryfocalcrossentropy")
    last = (model.get("layers") or [{}])[-1]
    if binary and is_integer_labels(y) and (y.get("max") or 0) <= 1 and (len(shape) == 1 or shape[1] == 1) \
            and (out[1] or 0) > 1 and last.get("activation") != "softmax":
        width = 1  # 0/1 labels, a binary loss, a sigmoid head of several units: the binary head has one
    elif len(shape) == 2 and shape[1] and shape[1] > 1:
        width = shape[1]  # one-hot (or multi-label) targets
    elif "sparse" in str(model.get("loss", "")).lower() and is_integer_labels(y) and y.get("max") is not None \
            and y["max"] >= (out[1] or 0):
        width = y["max"] + 1  # integer labels beyond the head of a sparse loss
    else:
        return []
    if width == out[1]:
        return []
    pairs = layer_calls(source, model)
    if not pairs or pairs[-1][0]["class"] != "Dense" or pairs[-1][1] is None:
        return []
    arg = units_arg(pairs[-1][1])
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
    if site is not None and list(observed_shape(site["args"].get("x")) or []) == list(declared):
        call = site_call(source, crash, site["api"])
        arg = argument(call, 0, "x") if call is not None else None
        if arg is not None:
            nodes.append(arg.value)
    for call in source.calls:  # model(x) on the crash line
        if not source.on_line(call, crash.line) or not isinstance(call.func, cst.Name) or not call.args:
            continue
        if (crash.locals.get(call.func.value) or {}).get("kind") == "model":
            info = crash.value(call.args[0].value, source)
            if list(observed_shape(info) or [0]) == list(declared):
                nodes.append(call.args[0].value)
    np_name, imports = source.numpy()
    for node in nodes:
        candidates.append(Candidate("batch-axis", "add the batch axis to the single example",
                                    (wrapped(source, node, np_name + ".expand_dims({}, 0)"), *imports), 1.0))
    return candidates
