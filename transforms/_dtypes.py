"""Helpers of the dtype, matmul and label rules (TFX303, TFX305, TFX306, TFX307).

Shapes and dtypes of values come from `_shapes.StaticValues`; this module adds what those rules need on top:

- how the module spells TensorFlow (`tf`, `tensorflow`, a compat.v1 alias), so a fix can write `tf.cast(...)`
  with the name the file already uses (or add `import tensorflow` when the file has no module alias);
- what an operand of an arithmetic op is: a TensorFlow tensor (its dtype is fixed), Python literal data or a
  NumPy array (converted to the other operand's dtype by TensorFlow's operator overloads);
- the literal integer values of label data (`[0, 2, 4]`, `tf.constant([...])`, `np.array([...])`);
- keyword-argument edits of calls that keep the call's layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from tffix.rule import Rule, argument, literal_int

from ._shapes import StaticValues
from ._values import FLOAT_DTYPES, INT_DTYPES, Static



# --- operands -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Operand:
    """An operand whose dtype is known. `fixed`: a TensorFlow tensor, whose dtype no conversion changes;
    otherwise Python literal data or a NumPy array, which an operator converts to the other side's dtype."""

    dtype: str
    fixed: bool
    numpy: bool = False

    @property
    def is_int(self) -> bool:
        return self.dtype in INT_DTYPES

    @property
    def is_float(self) -> bool:
        return self.dtype in FLOAT_DTYPES


def operand(values: StaticValues, expr: cst.BaseExpression) -> Operand | None:
    static = values.of(expr)
    if static is None:
        return None
    if static.kind == "int":  # a Python int: TensorFlow converts it to the other side's dtype
        return Operand("int32", fixed=False)
    if static.kind != "tensor" or static.dtype is None:
        return None
    if static.literal:
        return Operand(static.dtype, fixed=False)
    if static.numpy:
        return Operand(static.dtype, fixed=False, numpy=True)
    if not from_tensorflow(values, expr):
        return None  # a KerasTensor (keras.Input, a layer's output): Keras converts dtypes itself
    return Operand(static.dtype, fixed=True)


def from_tensorflow(values: StaticValues, expr: cst.BaseExpression, depth: int = 0) -> bool:
    """`expr` is made by a TensorFlow op (`tf.constant`, `tf.Variable`, a placeholder...), directly or through
    names and arithmetic: a real tf.Tensor, whose dtype an operator never changes."""
    if depth > 8:
        return False
    if isinstance(expr, (cst.Name, cst.Attribute)):
        bound = values.assigned_value(expr)
        return bound is not None and from_tensorflow(values, bound, depth + 1)
    if isinstance(expr, cst.Call):
        return isinstance(expr.func, (cst.Name, cst.Attribute)) and any(
            name.startswith("tf.") for name in values.rule.api_names(expr.func)
        )
    if isinstance(expr, cst.BinaryOperation):
        return any(from_tensorflow(values, side, depth + 1) for side in (expr.left, expr.right))
    if isinstance(expr, cst.UnaryOperation):
        return from_tensorflow(values, expr.expression, depth + 1)
    return False


def describe(expr: cst.CSTNode, limit: int = 40) -> str:
    """A short rendering of an expression for messages."""
    text = " ".join(cst.Module([]).code_for_node(expr).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- literal label values -----------------------------------------------------------------------------------------
_DATA_WRAPPERS = ("tf.constant", "tf.convert_to_tensor", "tf.Variable", "numpy.array", "numpy.asarray")


def literal_ints(values: StaticValues, expr: cst.BaseExpression | None, depth: int = 0) -> tuple[int, ...] | None:
    """Every value of integer label data written literally: `[0, 2, 4]`, `tf.constant([[1], [3]])`,
    `np.array([...], dtype=...)`, or a name bound to one of those. None when not all values are known."""
    if expr is None or depth > 6:
        return None
    if isinstance(expr, cst.Arg):
        expr = expr.value
    if isinstance(expr, (cst.List, cst.Tuple)):
        found: list[int] = []
        for element in expr.elements:
            if isinstance(element, cst.StarredElement):
                return None
            inner = literal_ints(values, element.value, depth + 1) if isinstance(
                element.value, (cst.List, cst.Tuple)
            ) else _one_int(element.value)
            if inner is None:
                return None
            found.extend(inner)
        return tuple(found)
    if isinstance(expr, (cst.Name, cst.Attribute)):
        return literal_ints(values, values.assigned_value(expr), depth + 1)
    if isinstance(expr, cst.Call) and isinstance(expr.func, (cst.Name, cst.Attribute)):
        if values.is_api(expr.func, *_DATA_WRAPPERS):
            dtype = argument(expr, "dtype")
            if dtype is not None and values.dtype_name(dtype.value) not in INT_DTYPES:
                return None
            data = argument(expr, "value", 0) or argument(expr, "object", 0) or argument(expr, "initial_value", 0)
            if data is not None and isinstance(data.value, (cst.List, cst.Tuple, cst.Name)):
                return literal_ints(values, data.value, depth + 1)
    return None


def _one_int(expr: cst.BaseExpression) -> tuple[int] | None:
    value = literal_int(expr)
    return None if value is None else (value,)


# --- loss objects and compiled models -----------------------------------------------------------------------------
def loss_object(values: StaticValues, expr: cst.BaseExpression | None, classes: tuple[str, ...],
                depth: int = 0) -> cst.Call | None:
    """The constructor call `Class(...)` that `expr` is (or a name bound to one is), for a class in `classes`."""
    if expr is None or depth > 3:
        return None
    if isinstance(expr, cst.Call) and isinstance(expr.func, (cst.Name, cst.Attribute)):
        return expr if values.rule.is_api(expr.func, *classes) else None
    if isinstance(expr, (cst.Name, cst.Attribute)):
        return loss_object(values, values.assigned_value(expr), classes, depth + 1)
    return None


@dataclass(frozen=True)
class LossFamily:
    """The spellings of one loss: `compile(loss="...")` strings, classes (called as objects), functions."""

    strings: tuple[str, ...]
    classes: tuple[str, ...]
    functions: tuple[str, ...]

    def is_function(self, values: StaticValues, expr: cst.BaseExpression) -> bool:
        return isinstance(expr, (cst.Name, cst.Attribute)) and values.rule.is_api(expr, *self.functions)

    def compiled(self, values: StaticValues, model: cst.BaseExpression) -> tuple[bool, cst.Call | None]:
        """Whether `model.compile(loss=...)` set this loss, and the loss object's constructor when it is one."""
        loss = compiled_loss(values, model)
        if loss is None:
            return False, None
        if isinstance(loss, cst.SimpleString):
            return loss.evaluated_value in self.strings, None
        constructor = loss_object(values, loss, self.classes)
        return constructor is not None or self.is_function(values, loss), constructor


def compiled_loss(values: StaticValues, model: cst.BaseExpression) -> cst.BaseExpression | None:
    """The `loss=` given to `model.compile(...)`, when the model's name is bound once and compiled once."""
    if not isinstance(model, cst.Name) or values.assigned_value(model) is None:
        return None
    losses = [argument(call, "loss", 1) for call in _method_calls(values, model, "compile")]
    if len(losses) != 1 or losses[0] is None:
        return None
    return losses[0].value


def passed_as_argument(rule: Rule, expr: cst.BaseExpression) -> Iterator[cst.Arg]:
    """The arguments `expr`'s value is passed as: `f(expr)` itself, or `f(name)` after `name = expr`."""
    parent = rule.parent(expr)
    if isinstance(parent, cst.Arg):
        yield parent
        return
    if not (isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name)):
        return
    target = parent.targets[0].target
    scope = rule.analysis.scope(target)
    if scope is None:
        return
    for assignment in scope[target.value]:
        if assignment.node is not target:
            continue
        for access in assignment.references:
            arg = rule.parent(access.node)
            if isinstance(arg, cst.Arg):
                yield arg


def _method_calls(values: StaticValues, name: cst.Name, method: str) -> Iterator[cst.Call]:
    scope = values.rule.analysis.scope(name)
    if scope is None:
        return
    for assignment in scope[name.value]:
        for access in assignment.references:
            attribute = values.rule.parent(access.node)
            if isinstance(attribute, cst.Attribute) and attribute.attr.value == method:
                call = values.rule.parent(attribute)
                if isinstance(call, cst.Call) and call.func is attribute:
                    yield call


def model_output(values: StaticValues, model: cst.BaseExpression) -> Static | None:
    static = values.of(model)
    return static.output if static is not None and static.kind == "model" else None


# --- editing keyword arguments ------------------------------------------------------------------------------------
def with_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `keyword=value` set: the existing argument's value replaced, or a new last argument that
    keeps the call's layout (one line, or one argument a line with a trailing comma)."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return call.with_changes(args=[a.with_changes(value=value) if a is arg else a for a in call.args])
    new = cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):  # a trailing comma: the new argument goes on its own line
        separator = args[-2].comma if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) else cst.Comma(
            whitespace_after=cst.SimpleWhitespace(" ")
        )
        args[-1] = last.with_changes(comma=separator)
        new = new.with_changes(comma=last.comma)
    return call.with_changes(args=[*args, new])


def without_keyword(call: cst.Call, keyword: str) -> cst.Call:
    """`call` without its `keyword=` argument; the layout of the rest is kept."""
    args = list(call.args)
    index = next((i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == keyword), None)
    if index is None:
        return call
    removed = args.pop(index)
    if index == len(args) and args:  # it was the last one: the new last argument takes its comma (or none)
        args[-1] = args[-1].with_changes(comma=removed.comma)
    return call.with_changes(args=args)


def is_true(arg: cst.Arg | None) -> bool | None:
    """A boolean flag's literal value: False when absent, None when not a literal."""
    if arg is None or m.matches(arg.value, m.Name("False")):
        return False
    if m.matches(arg.value, m.Name("True")):
        return True
    return None
