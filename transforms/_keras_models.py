"""Keras layers and models as static values: what a layer does to its input, Sequential stacks (listed or
built with `.add`), and subclassed models (what their `call` returns).

Functions of the `StaticValues` asking (`_shapes`), which calls them for a Keras constructor or call.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m

from tffix.rule import argument

from ._code_walks import methods
from ._values import ACTIVATION_NAMES, UNKNOWN_LAYER, Shape, Static, apply_layer, fold_layers

if TYPE_CHECKING:
    from ._shapes import StaticValues


def layer_of(values: StaticValues, call: cst.Call, names: set[str]) -> Static:
    if "keras.layers.Dense" in names:
        units = values.int_of(argument(call, "units", 0))
        activation = activation_of(values, argument(call, "activation", 1))
        return Static(kind="layer", output=Static(shape=Shape.ending_in(units), dtype="float32", head=call,
                                                   activation=activation), value="dense")
    if "keras.layers.Flatten" in names:
        return Static(kind="layer", value="flatten")
    activation = None
    if "keras.layers.Softmax" in names:
        activation = "softmax"
    elif "keras.layers.Activation" in names:
        activation = activation_of(values, argument(call, "activation", 0)) or "unknown"
    return Static(kind="layer", value="preserve", activation=activation)

def activation_of(values: StaticValues, arg: cst.Arg | None) -> str | None:
    """"linear" for no activation, "softmax"/"sigmoid", "other" for the rest; None only when unknown."""
    if arg is None or m.matches(arg.value, m.Name("None")):
        return "linear"
    value = arg.value
    if isinstance(value, cst.SimpleString):
        text = value.evaluated_value
        return ACTIVATION_NAMES.get(text, "other") if isinstance(text, str) else None
    for name in values.qualified(value):
        last = name.rsplit(".", 1)[-1]
        if name.startswith(("tf.", "keras.")):
            return ACTIVATION_NAMES.get(last, "other")
    return None

def applied(values: StaticValues, callee: Static, arg: cst.Arg | None, call: cst.Call) -> Static | None:
    """The value of calling a layer or model on `arg`."""
    inputs = values.of(arg.value) if arg is not None else None
    if callee.layers is not None:  # Sequential: fold the input through the layers
        current = inputs if inputs is not None else Static()
        for layer in callee.layers:
            current = apply_layer(layer, current)
            if current is None:
                return None
        return current
    if callee.kind == "layer":
        return apply_layer(callee, inputs if inputs is not None else Static())
    output = callee.output
    if output is None or output.shape is None:
        return output
    if inputs is not None and inputs.shape is not None and inputs.shape.dims and output.shape.dims:
        if output.shape.dims[0] is None:  # the batch dimension comes from the input
            output = replace(output, shape=Shape.of((inputs.shape.dims[0],) + output.shape.dims[1:]))
    return output

def sequential_of(values: StaticValues, call: cst.Call) -> Static | None:
    arg = argument(call, "layers", 0)
    layers: list[Static] = []
    if arg is not None:
        if not isinstance(arg.value, (cst.List, cst.Tuple)):
            return None
        layers.extend(_layer_value(values, element.value) for element in arg.value.elements)
    added = _added_layers(values, call)
    if added is None:
        return None
    layers.extend(added)
    return Static(kind="model", layers=tuple(layers), output=fold_layers(layers))

def _layer_value(values: StaticValues, expr: cst.BaseExpression) -> Static:
    """A layer in a Sequential list; `keras.Input(...)` starts the chain with a known input. A layer of
    unknown effect (Conv2D, Flatten, ...) gives an unknown tensor, after which a Dense still sets the last
    dimension."""
    static = values.of(expr)
    if static is not None and static.kind == "tensor":  # keras.Input: an "input layer"
        return Static(kind="layer", value="input", output=static)
    if static is not None and static.kind in ("layer", "model"):
        return static
    return UNKNOWN_LAYER

def _added_layers(values: StaticValues, call: cst.Call) -> list[Static] | None:
    """Layers added with `name.add(layer)` to the Sequential `name = Sequential(...)` (in line order)."""
    assign_target = values.parent(call)
    if not isinstance(assign_target, cst.Assign):
        return []
    if len(assign_target.targets) != 1 or not isinstance(assign_target.targets[0].target, cst.Name):
        return []
    target = assign_target.targets[0].target
    scope = values.rule.analysis.scope(target)
    if scope is None:
        return []
    added: list[tuple[int, cst.BaseExpression]] = []
    for assignment in scope[target.value]:
        if assignment.node is not target:
            continue
        for access in assignment.references:
            attribute = values.parent(access.node)
            if not (isinstance(attribute, cst.Attribute) and attribute.attr.value == "add"):
                continue
            add_call = values.parent(attribute)
            if not isinstance(add_call, cst.Call) or not add_call.args:
                return None
            added.append((values.order(add_call), add_call.args[0].value))
    return [_layer_value(values, expr) for _, expr in sorted(added, key=lambda item: item[0])]

def subclassed_model(values: StaticValues, cls: cst.ClassDef) -> Static | None:
    """An instance of a class of this module with a `call` method: its output is what `call` returns."""
    call_method = next((f for f in methods(cls) if f.name.value == "call"), None)
    if call_method is None:
        return None
    output = values.function_result(call_method)
    return Static(kind="model", output=output, value=cls) if output is not None else None
