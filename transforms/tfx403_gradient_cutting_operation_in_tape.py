"""TFX403: inside a GradientTape block, the path from the sources to the target leaves TensorFlow.

## What it does

Reports, on the way from the sources to the target inside a tape's block, `x.numpy()`, a NumPy function on a
tensor, or a cast to an integer dtype. The rule fires only on operations whose input depends on the sources
and whose result feeds the target. Depending on the sources means computed, through the block's assignments,
from a source named or listed, a watched tensor, or a model whose `trainable_variables` are the sources: the
model itself (`model(x)`, `self(x)`), its sub-layers and weights (`self.dense(x)`, `self.kernel`: assigned from
a Keras layer, a variable or `add_weight` in the class). A plain attribute of the model (`self.rewards`, a
Python list) or a method of its class (`self.discounted()`) is not: NumPy on a value that never was a tensor
of the variables (rewards normalised for REINFORCE, then used as constant weights) cuts no gradient, and
turning it into a tensor would break the NumPy code that uses it (`.tolist()`). An integer cast cast back to
float is TFX304's and is not reported here.

## Why is this bad?

A tape records TensorFlow operations only. On the way from the sources to the target, each of these cuts the
gradient: the variables silently get a None gradient, or `tape.gradient` raises.

## Measured TensorFlow behaviour

Measured: docs/tensorflow-behaviour.md, GradientTape, and probe tape_cases.py numpy_in_tape and
int_cast_tape:

- `x.numpy()`: a NumPy array; whatever is computed from it, even when turned back into a tensor, is not
  connected to `x`: the gradient is None;
- a NumPy function on a tensor (`np.square`, `np.mean`, `np.sum`, `np.exp`, ...): it converts the tensor to an
  array; the gradient is None, and when the target itself is a NumPy value `tape.gradient` raises
  `AttributeError: 'numpy.float32' object has no attribute '_id'`;
- a cast to an integer dtype (`tf.cast(x, tf.int32)`): integers carry no gradient, so it is None.

## Fix safety

The fix, offered where TensorFlow has the same operation, is unsafe: `np.square` -> `tf.square`,
`np.mean` -> `tf.reduce_mean`, `np.sum` -> `tf.reduce_sum`, ..., and `x.numpy()` -> `x` where the result only
feeds TensorFlow operations. The values are the same up to dtype and float rounding (NumPy computes in float64
where TensorFlow keeps float32), which is why the fix needs --unsafe-fixes; the result is also a tensor, no
longer an array, for the code after it. An integer cast is reported without a fix (rounding may be the point).
"""

from __future__ import annotations

import ast

import libcst as cst

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Severity, Valid, argument

from ._ast_values import maybe_int_dtype
from ._shapes import StaticValues
from ._values import INT_DTYPES
from ._cst_utils import TF, calls_in, numpy_name
from ._flow import Flow, assigned_value, assignments_of
from ._tape import Tape, TapeRule, ast_tapes, inside_statements, known_not_float, tape_dependence

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
GRADIENT_OF_NUMPY_VALUE = FailureKind(
    "gradient-of-numpy-value", "The gradient's target is a NumPy value, not a tensor",
    """`tape.gradient(target, ...)` got a NumPy value: the computation left TensorFlow (`.numpy()`,
    NumPy functions or Python floats) inside the tape, so the tape has no record of how the target
    depends on the variables. Keep the whole computation in TensorFlow ops.""",
    r"'numpy\.\w+' object has no attribute '_id'",
    frame_hint=r"backprop|imperative_grad|gradient",
)

# Failures other rules are the main cause of, imported after this module's own (those modules import them).
from .tfx401_work_outside_tape import NONE_GRADIENT_USED, NO_GRADIENTS  # noqa: E402

# NumPy function -> the TensorFlow function computing the same (None: reported without a fix).
NUMPY_TO_TF: dict[str, str | None] = {
    "square": "square", "sqrt": "sqrt", "exp": "exp", "log": "math.log", "log1p": "math.log1p",
    "abs": "abs", "absolute": "abs", "tanh": "tanh", "sin": "sin", "cos": "cos", "sign": "sign",
    "maximum": "maximum", "minimum": "minimum", "power": "pow", "matmul": "matmul", "dot": "tensordot",
    "mean": "reduce_mean", "sum": "reduce_sum", "max": "reduce_max", "min": "reduce_min", "amax": "reduce_max",
    "amin": "reduce_min", "prod": "reduce_prod", "std": "math.reduce_std", "var": "math.reduce_variance",
    "clip": "clip_by_value", "array": None, "asarray": None, "round": None, "argmax": None, "concatenate": None,
    "linalg.norm": None, "multiply": "multiply", "add": "add", "subtract": "subtract", "divide": "divide",
}
REDUCTIONS = frozenset({"mean", "sum", "max", "min", "amax", "amin", "prod", "std", "var"})
REDUCTION_KEYWORDS = frozenset({"axis", "keepdims"})


_NUMPY_NAMES = frozenset(f"numpy.{name}" for name in NUMPY_TO_TF)


class GradientCuttingOperationInTape(TapeRule):
    """`.numpy()`, a NumPy function or an integer cast between the sources and the target inside a tape.

    The tape records none of them, so the gradient is None. The unsafe fix uses the TensorFlow equivalent.
    """

    code = "TFX403"
    name = "gradient-cutting-operation-in-tape"
    summary = "`.numpy()`, NumPy or an integer cast on the way to the target cuts the gradient"
    explains = (NO_GRADIENTS, GRADIENT_OF_NUMPY_VALUE, NONE_GRADIENT_USED)
    fix = Fix.sometimes("unsafe")
    severity = Severity.WARNING
    # It reports inside the tape.
    anchors = leaves("tf.GradientTape")
    local = True  # its findings are the union of its parts' (see Rule.local)

    VALID = (
        Valid(  # NumPy for logging only, an integer cast of labels: neither is between sources and target
            "import numpy as np\n"
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    logits = model(x)\n"
            "    labels = tf.cast(y, tf.int32)\n"
            "    loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(labels, logits, True))\n"
            "    print('mean logit', np.mean(logits.numpy()))\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n"
        ),
        Valid(  # pseudo-labels: the argmax is an integer already, the cast cuts nothing more
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    logits = model(x)\n"
            "    pseudo = tf.cast(tf.argmax(logits, -1), tf.int32)\n"
            "    loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(pseudo, logits, True))\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n"
        ),
        Valid(  # a Python list attribute of a Keras-model agent does not depend on its variables
            "import numpy as np\n"
            "import tensorflow as tf\n"
            "class Agent(tf.keras.Model):\n"
            "    def finish(self, states, actions):\n"
            "        with tf.GradientTape() as tape:\n"
            "            returns = np.array(self.rewards)\n"
            "            returns = (returns - np.mean(returns)) / np.std(returns)\n"
            "            loss = tf.reduce_sum(self(states) * returns)\n"
            "        return tape.gradient(loss, self.trainable_variables)\n"
        ),
        Valid(  # the round trip through an integer is TFX304's finding
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    y = tf.cast(tf.cast(w * 10, tf.int32), tf.float32)\n"
            "    loss = tf.reduce_sum(y)\n"
            "grad = tape.gradient(loss, w)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import numpy as np\n"
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    pred = model(x)\n"
            "    loss = np.mean(np.square(pred - y))\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n",
            "import numpy as np\n"
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    pred = model(x)\n"
            "    loss = tf.reduce_mean(tf.square(pred - y))\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n",
            unsafe=True,
        ),
        Invalid(
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    h = w.numpy()\n"
            "    loss = tf.reduce_sum(h * h)\n"
            "grad = tape.gradient(loss, w)\n",
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    h = w\n"
            "    loss = tf.reduce_sum(h * h)\n"
            "grad = tape.gradient(loss, w)\n",
            unsafe=True,
        ),
        Invalid(
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    loss = tf.reduce_sum(tf.cast(w * 10, tf.int32))\n"
            "grad = tape.gradient(loss, w)\n",
            None,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.flow = Flow(self)
        self.values = StaticValues(self)

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """Besides a tape and its gradient: a cutting operation (`_check_call`), a `x.numpy()`, a NumPy function
        of `NUMPY_TO_TF`, or a `tf.cast` to what may be an integer dtype."""
        if not super().can_fire(facts):
            return False
        candidates = [c for c in facts.method_calls("numpy") if not c.args and not c.keywords]
        candidates += [c for c in facts.calls_of("tf.cast", "tf.dtypes.cast") if maybe_int_dtype(facts, ast_argument(c, "dtype", 1))]
        if facts.resolves_to(*_NUMPY_NAMES):
            candidates += [
                c for calls in (*(facts.method_calls(n) for n in NUMPY_TO_TF), *facts.name_calls.values()) for c in calls
                if not _NUMPY_NAMES.isdisjoint(facts.chains.get(id(c.func), ()))
            ]
        if not candidates:
            return False
        # the call is in the body of a tape with gradients (`calls_in(tape.body[i])`)
        bodies = [(t.block[t.index].body[0], t.block[t.index].body[-1]) for t in ast_tapes(facts)]  # type: ignore[attr-defined]
        return any(inside_statements(first, last, (c.lineno, c.col_offset)) for c in candidates for first, last in bodies)

    def check_tape(self, tape: Tape) -> None:
        if not tape.gradients or not tape.body:
            return
        dependence = tape_dependence(self, self.flow, tape)
        if not dependence.values and not dependence.owners:
            return
        needed: set[str] = set()
        for gradient in tape.gradients:
            needed |= self.flow.reads(gradient.target)
        on_path, _ = self.flow.backward_slice(tape.body, needed)
        tainted = dependence.taint(tape.body)
        targets = ", ".join(f"`{self.module.code_for_node(g.target)}`" for g in tape.gradients)  # type: ignore[union-attr]
        for index in on_path:
            for call in calls_in(tape.body[index]):
                self._check_call(call, lambda expr: dependence.depends(expr, tainted), targets)

    def _check_call(self, call: cst.Call, depends, targets: str) -> None:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "numpy" and not call.args:
            if depends(func.value):
                self._report_numpy_method(call, targets)
            return
        name = numpy_name(self, func)
        if name is not None and name in NUMPY_TO_TF:
            if any(depends(arg.value) for arg in call.args):
                self._report_numpy_call(call, name, targets)
            return
        if self.is_call_to(call, "tf.cast", "tf.dtypes.cast"):
            value, dtype = argument(call, "x", 0), argument(call, "dtype", 1)
            if value is None or dtype is None or self.values.dtype_name(dtype.value) not in INT_DTYPES:
                return
            if known_not_float(self, self.values, value.value):
                return  # `tf.cast(tf.argmax(logits), tf.int32)`: already an integer, nothing is cut here
            if depends(value.value) and not self._cast_back(call):
                self.report(
                    call,
                    f"cast to `{self.values.dtype_name(dtype.value)}` inside the tape: integer tensors carry no "
                    f"gradient, so the gradient of {targets} through this value is None",
                )

    def _report_numpy_method(self, call: cst.Call, targets: str) -> None:
        receiver = call.func.value  # type: ignore[attr-defined]
        message = (
            "`.numpy()` inside the tape leaves TensorFlow: nothing computed from it is recorded, so the gradient "
            f"of {targets} is None"
        )
        rewrite = None
        if self._feeds_tensorflow(call):
            message += "; use the tensor itself"
            rewrite = Rewrite.replace("Use the tensor instead of `.numpy()`", {call: receiver}, unsafe=True)
        self.report(call, message, rewrite=rewrite)

    def _report_numpy_call(self, call: cst.Call, name: str, targets: str) -> None:
        replacement = NUMPY_TO_TF[name]
        message = (
            f"NumPy `{name}` on a tensor inside the tape returns a NumPy value the tape does not record, so the "
            f"gradient of {targets} is None"
        )
        rewrite = None
        if replacement is not None and self._convertible(call, name):
            spelling = TF.at(self)
            func = cst.parse_expression(f"{spelling.alias}.{replacement}")
            message += f"; use `tf.{replacement}`"

            def converted(updated: cst.Call) -> cst.Call:
                args = list(updated.args)
                if name == "dot":  # np.dot of matrices and vectors contracts one axis
                    args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    args.append(cst.Arg(cst.Integer("1"), keyword=cst.Name("axes"),
                                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
                return updated.with_changes(func=func, args=args)

            rewrite = Rewrite.replace(
                f"Use `tf.{replacement}`", {call: converted}, unsafe=True, imports=spelling.imports
            )
        self.report(call, message, rewrite=rewrite)

    def _convertible(self, call: cst.Call, name: str) -> bool:
        keywords = {arg.keyword.value for arg in call.args if arg.keyword is not None}
        if any(arg.star for arg in call.args):
            return False
        if name in REDUCTIONS:
            return keywords <= REDUCTION_KEYWORDS
        return not keywords

    def _feeds_tensorflow(self, node: cst.CSTNode, follow_names: bool = True) -> bool:
        """The value of `node` goes straight into TensorFlow: an argument of a tf/Keras call or of a NumPy
        function this rule converts, an operand of an arithmetic operator, or a name only used so."""
        parent = self.parent(node)
        if isinstance(parent, cst.Arg):
            call = self.parent(parent)
            if isinstance(call, cst.Call):
                name = numpy_name(self, call.func)
                return self._tensorflow_callable(call.func) or (name is not None and NUMPY_TO_TF.get(name) is not None)
            return False
        if isinstance(parent, cst.BinaryOperation):
            return True
        if follow_names and isinstance(parent, cst.Assign):
            uses = self._uses_of_name_bound_to(node)
            return bool(uses) and all(self._feeds_tensorflow(use, follow_names=False) for use in uses)
        return False

    def _tensorflow_callable(self, func: cst.BaseExpression) -> bool:
        """A tf/Keras function, or a name bound to a tf/Keras object (`loss_fn = keras.losses.MSE()`, a model)."""
        if self.api_names(func):
            return True
        if not isinstance(func, cst.Name):
            return False
        values = [assigned_value(self, a.node) for a in assignments_of(self, func)]
        return bool(values) and all(isinstance(v, cst.Call) and self.api_names(v.func) for v in values)

    def _cast_back(self, call: cst.Call) -> bool:
        """The integer cast is cast back to float (TFX304 reports that round trip)."""
        for node in (call, *self._uses_of_name_bound_to(call)):
            parent = self.parent(node)
            outer = self.parent(parent) if isinstance(parent, cst.Arg) else None
            if isinstance(outer, cst.Call) and self.is_call_to(outer, "tf.cast", "tf.dtypes.cast"):
                return True
        return False

    def _uses_of_name_bound_to(self, value: cst.CSTNode) -> list[cst.CSTNode]:
        """Where the name of `name = value` is read, for a single-name assignment; else []."""
        parent = self.parent(value)
        if not (isinstance(parent, cst.Assign) and len(parent.targets) == 1):
            return []
        target = parent.targets[0].target
        if not isinstance(target, cst.Name):
            return []
        return [
            access.node
            for assignment in assignments_of(self, target)
            if assignment.node is target
            for access in assignment.references
        ]

