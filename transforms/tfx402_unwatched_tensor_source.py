"""TFX402: `tape.gradient(target, x)` with `x` a tensor (not a Variable) that the tape never watched.

## What it does

The rule fires only when every assignment of `x` is, before the `with`, a tensor made by one of the
constructors below and not known to be of an integer dtype (watching an integer tensor still gives None), and
the target is computed from it (otherwise the gradient is None, watched or not); a `tf.Variable`,
`model.trainable_variables` or a value of unknown origin never fires.

## Why is this bad?

A tape watches trainable `tf.Variable`s it sees used, and nothing else. The gradient with respect to a
`tf.constant` (or any other tensor: `tf.convert_to_tensor`, `tf.random.normal`, `tf.zeros`, arithmetic on those)
is None unless the tape was told `tape.watch(x)`. With nested tapes each tape must watch it: the outer
gradient of an inner gradient is None when only the inner tape watched the constant.

## Measured TensorFlow behaviour

The gradient of a tensor the tape did not watch is None (measured: docs/tensorflow-behaviour.md,
GradientTape, "loss of a tf.constant that was never tape.watch-ed"; probe tape_cases.py tensor_not_watched).

## Fix safety

The fix inserts `tape.watch(x)` at the top of the block, after any `watch` calls already there, one for each
unwatched tensor source (a list or tuple of sources gets one per constant). It is safe: watching only adds the
gradient that was asked for.
"""

from __future__ import annotations

import ast

import libcst as cst

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import Fix, Invalid, Rewrite, Severity, Valid

from ._shapes import StaticValues
from ._values import FLOAT_DTYPES
from ._cst_utils import line_of
from ._flow import Flow, any_touch, assigned_value, assignments_of, elements
from ._tape import GRADIENT_METHODS, Gradient, Tape, TapeRule, inserted_in_body, method_calls

from .tfx401_work_outside_tape import NONE_GRADIENT_USED, NO_GRADIENTS
from .tfx403_gradient_cutting_operation_in_tape import GRADIENT_OF_NUMPY_VALUE

TENSOR_FACTORIES = frozenset(
    f"tf.{name}"
    for name in (
        "constant", "convert_to_tensor", "zeros", "ones", "zeros_like", "ones_like", "fill", "eye", "linspace",
        "random.normal", "random.uniform", "random.truncated_normal", "random.stateless_normal",
        "random.stateless_uniform", "math.square", "square", "exp", "sin", "cos", "tanh", "sigmoid", "reshape",
        "expand_dims", "stack", "concat",
    )
)


class UnwatchedTensorSource(TapeRule):
    """The gradient is asked with respect to a tensor that is not a Variable and was never `tape.watch`ed.

    It is None. The fix adds `tape.watch(x)` at the top of the tape block.
    """

    code = "TFX402"
    name = "unwatched-tensor-source"
    summary = "A gradient with respect to an unwatched tensor (not a Variable) is None: tape.watch it"
    explains = (NO_GRADIENTS, GRADIENT_OF_NUMPY_VALUE, NONE_GRADIENT_USED)
    fix = Fix.sometimes("safe")
    severity = Severity.WARNING
    # It reports at the tape's gradient call.
    anchors = leaves("tf.GradientTape")
    local = True  # its findings are the union of its parts' (see Rule.local)

    VALID = (
        Valid(
            "import tensorflow as tf\n"
            "x = tf.Variable([1.0, 2.0])\n"
            "with tf.GradientTape() as tape:\n"
            "    loss = tf.reduce_sum(x * x)\n"
            "grad = tape.gradient(loss, x)\n"
        ),
        Valid(
            "import tensorflow as tf\n"
            "x = tf.constant([1.0, 2.0])\n"
            "with tf.GradientTape() as tape:\n"
            "    tape.watch(x)\n"
            "    loss = tf.reduce_sum(x * x)\n"
            "grad = tape.gradient(loss, x)\n"
        ),
        Valid(  # model variables are watched automatically
            "import tensorflow as tf\n"
            "x = tf.constant([[1.0, 2.0]])\n"
            "with tf.GradientTape() as tape:\n"
            "    loss = tf.reduce_sum(model(x))\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n"
        ),
        Valid(  # the target does not depend on the constant: its gradient is None, watched or not
            "import tensorflow as tf\n"
            "x = tf.constant([1.0, 2.0])\n"
            "w = tf.Variable(1.0)\n"
            "with tf.GradientTape() as tape:\n"
            "    loss = w * w\n"
            "grad = tape.gradient(loss, [w, x])\n"
        ),
        Valid(  # integer tensors have no gradient, watched or not
            "import tensorflow as tf\n"
            "i = tf.constant([1, 2])\n"
            "with tf.GradientTape() as tape:\n"
            "    loss = tf.reduce_sum(i * i)\n"
            "grad = tape.gradient(loss, i)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "x = tf.constant([1.0, 2.0])\n"
            "with tf.GradientTape() as tape:\n"
            "    loss = tf.reduce_sum(x * x)\n"
            "grad = tape.gradient(loss, x)\n",
            "import tensorflow as tf\n"
            "x = tf.constant([1.0, 2.0])\n"
            "with tf.GradientTape() as tape:\n"
            "    tape.watch(x)\n"
            "    loss = tf.reduce_sum(x * x)\n"
            "grad = tape.gradient(loss, x)\n",
        ),
        Invalid(
            "import tensorflow as tf\n"
            "a = tf.random.normal((3,))\n"
            "b = a * 2.0 + 1.0\n"
            "w = tf.Variable(1.0)\n"
            "with tf.GradientTape() as g:\n"
            "    g.watch(a)\n"
            "    loss = tf.reduce_sum(a * b * w)\n"
            "da, db, dw = g.gradient(loss, [a, b, w])\n",
            "import tensorflow as tf\n"
            "a = tf.random.normal((3,))\n"
            "b = a * 2.0 + 1.0\n"
            "w = tf.Variable(1.0)\n"
            "with tf.GradientTape() as g:\n"
            "    g.watch(a)\n"
            "    g.watch(b)\n"
            "    loss = tf.reduce_sum(a * b * w)\n"
            "da, db, dw = g.gradient(loss, [a, b, w])\n",
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)
        self.flow = Flow(self)

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """Besides a tape: a gradient whose sources name a variable every assignment of which makes a tensor
        (`_is_float_tensor`), which needs at least one `name = <tensor expression>`."""
        return super().can_fire(facts) and any(
            type(source) is ast.Name and any(_maybe_tensor(facts, v) for v in facts.bound.get(source.id, ()))
            for call in facts.method_calls(*GRADIENT_METHODS)
            for source in _elements(ast_argument(call, "sources", 1))
        )

    def check_tape(self, tape: Tape) -> None:
        watched = tape.watched()
        for gradient in tape.gradients:
            if gradient.sources is None:
                continue
            read = self._target_reads(tape, gradient)
            unwatched = [
                source
                for source in elements(gradient.sources)
                if isinstance(source, cst.Name)
                and source.value not in watched
                and any_touch(read, {source.value})
                and self._is_float_tensor(source)
            ]
            if unwatched:
                watched |= {s.value for s in unwatched}
                self._report(tape, gradient, unwatched)

    def _target_reads(self, tape: Tape, gradient: Gradient) -> set[str]:
        """What the target is computed from in the block (and after it, up to the gradient call): a source the
        target does not depend on has a None gradient that watching does not change."""
        statements = list(tape.body)
        if gradient.index is not None:
            statements += list(tape.block[tape.index + 1 : gradient.index])
        _, read = self.flow.backward_slice(statements, self.flow.reads(gradient.target))
        return read

    def _report(self, tape: Tape, gradient: Gradient, sources: list[cst.Name]) -> None:
        names = ", ".join(f"`{s.value}`" for s in sources)
        what, them = ("are tensors, not Variables,", "them") if len(sources) > 1 else ("is a tensor, not a Variable,", "it")
        message = (
            f"{names} {what} and `{tape.name}` never watches {them}: "
            f"`{tape.name}.{gradient.call.func.attr.value}(...)` with respect to {them} is None; "  # type: ignore[attr-defined]
            f"call `{tape.name}.watch(...)` at the top of the block"
        )
        with_line = line_of(self, tape.with_node)
        made_before = all(
            line_of(self, a.node) < with_line for s in sources for a in assignments_of(self, s)
        )
        rewrite = None
        if made_before and isinstance(tape.with_node.body, cst.IndentedBlock):
            at = _after_leading_watches(tape)
            statements = [cst.parse_statement(f"{tape.name}.watch({s.value})\n") for s in sources]
            rewrite = Rewrite.replace(
                f"Watch {names} on the tape",
                {tape.with_node: lambda updated: inserted_in_body(updated, at, statements)},
            )
        self.report(gradient.call, message, rewrite=rewrite)

    def _is_float_tensor(self, name: cst.Name, seen: frozenset[int] = frozenset()) -> bool:
        """Every assignment of `name` makes a tensor (not a Variable) of a float or unknown dtype."""
        assignments = assignments_of(self, name)
        if not assignments:
            return False
        for assignment in assignments:
            value = assigned_value(self, assignment.node)
            if value is None or not self._tensor_expression(value, seen | {id(name)}):
                return False
            dtype = self.values.dtype_of(value)
            if dtype is not None and dtype not in FLOAT_DTYPES:
                return False
        return True

    def _tensor_expression(self, expr: cst.BaseExpression, seen: frozenset[int]) -> bool:
        if isinstance(expr, cst.Call):
            return self.is_api(expr.func, *TENSOR_FACTORIES)
        if isinstance(expr, cst.BinaryOperation):
            sides = [expr.left, expr.right]
            tensors = [s for s in sides if self._tensor_expression(s, seen)]
            return bool(tensors) and all(s in tensors or isinstance(s, (cst.Float, cst.Integer)) for s in sides)
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
            return self._tensor_expression(expr.expression, seen)
        if isinstance(expr, cst.Name) and id(expr) not in seen:
            return self._is_float_tensor(expr, seen)
        return False


def _after_leading_watches(tape: Tape) -> int:
    """The index in the block after the `tape.watch(...)` statements it starts with."""
    at = 0
    for statement in tape.body:
        if isinstance(statement, cst.SimpleStatementLine) and method_calls(statement, tape.name, {"watch"}):
            at += 1
        else:
            break
    return at


def _elements(expr: ast.expr | None) -> list[ast.expr]:
    """`_flow.elements` on Python's `ast`."""
    if expr is None:
        return []
    return list(expr.elts) if type(expr) in (ast.List, ast.Tuple) else [expr]  # type: ignore[attr-defined]


def _maybe_tensor(facts: Facts, value: ast.expr) -> bool:
    """A superset of `_tensor_expression`: a call of a tensor factory, arithmetic, a negation or a name."""
    if type(value) is ast.Call:
        return not facts.api_names(value.func).isdisjoint(TENSOR_FACTORIES)  # type: ignore[attr-defined]
    return type(value) in (ast.BinOp, ast.UnaryOp, ast.Name)
