"""TFX303: an integer tensor and a float tensor as operands of one op; TensorFlow never converts between them.

## What it does

Reports an op (`tf.matmul`, an arithmetic operator, `tf.nn.sigmoid_cross_entropy_with_logits`' labels) whose
operands are an integer tensor and a float tensor (or a Python float).

What is NOT an error and never reported: a float tensor with a Python int (`x + 1`), a Python list or NumPy
array with a tensor in an arithmetic operator (converted to the tensor's dtype), an integer tensor into a
Keras layer or Keras loss (Keras casts), KerasTensors (`keras.Input(dtype="int32") + ...`: Keras converts).

NumPy-style type promotion changes this. A module that calls
`tf.experimental.numpy.experimental_enable_numpy_behavior(...)` (or TensorFlow's own
`np_config.enable_numpy_behavior`, `ops.set_dtype_conversion_mode`) switches it on for the whole process.
So in such a module the rule reports only what raises under every mode the module can switch on (below);
importing `tf.experimental.numpy` alone switches nothing (measured: `int32 + float32` still raises).

## Why is this bad?

TensorFlow never converts dtypes between operands: the op raises.

## Measured TensorFlow behaviour

Measured with tensorflow-cpu 2.21 (docs/tensorflow-behaviour.md, "Losses, shapes, dtypes"; probes dtype_cases.py):

- `tf.matmul(int32, float32)`, `int32 + float32` (and `- * // % ** @`) in eager raise `InvalidArgumentError:
  cannot compute MatMul as input #1 was expected to be a int32 tensor but is a float tensor`; in a TF1 graph
  `TypeError: Input 'b' of 'MatMul' Op has type float32 that does not match type int32`; `int / float`
  raises `TypeError: x and y must have the same dtype`;
- an integer tensor with a Python float (`pixels / 255.0`, `step * 0.5`, `1.5 * n`) raises the same way: the
  float is converted to the tensor's integer dtype, which fails;
- `tf.nn.sigmoid_cross_entropy_with_logits` with integer labels (a tensor, a list of ints, an integer NumPy
  array) raises `InvalidArgumentError: cannot compute Mul as input #1 was expected to be a float tensor but
  is a int32 tensor` (a TypeError in a graph).

With NumPy-style type promotion switched on, measured (TF 2.21, eager and TF1 graphs alike; every
int8..uint64 with float16/bfloat16/float32/float64 and a Python float):

- `dtype_conversion_mode='legacy'` (the default; `prefer_float32=` changes only result dtypes): the operators
  `+ - * / // % ** @` of an integer and a float tensor or a Python float compute (NumPy's promotion: int32 +
  float32 gives float64), except with a bfloat16 tensor against int16 and wider; `tf.matmul`, `tf.add` and the
  other op functions still raise; sigmoid cross-entropy with integer labels raises unless NumPy promotes the
  pair to the logits' dtype (int8/uint8 with any float, int16/uint16 with float32/64, wider with float64);
- `'all'`: nothing of this rule raises;
- `'safe'`: whether a pair raises depends on which values are "weak" (Python scalars, `tf.constant` of a
  Python literal without a dtype: `tf.constant([1, 2]) + tf.ones(2)` computes, `tf.ones(2, tf.int32) +
  tf.ones(2)` raises), which this rule does not track: no finding;
- `'off'`: as without the call. A mode that is not a string literal: no finding.

## Fix safety

The fix casts the integer side to the float side's dtype (`tf.cast(x, tf.float32)`), spelled with the name the
file already uses for TensorFlow, or `import tensorflow` when the file has none. It is safe: the op could only
ever raise before, so no working program changes, and where it now computes it computes in the float dtype the
other operand already has (every integer below 2**24 is exact in float32). It is never offered where NumPy
promotion makes the op legal: there the cast would change the result's dtype (float64 to float32).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator

import libcst as cst

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument
from tffix.slicing import STATEMENT_FIELDS

from ._ast_values import (
    CALLABLE_MAKERS, first_argument, layer_makers, least_fixpoint, maybe_float_dtype, maybe_int_dtype, opaque_call,
)
from ._constructors import TF_CONSTRUCTORS
from ._cst_utils import TF
from ._dtypes import Operand, describe, operand
from ._shapes import StaticValues, VALUE_SOURCES
from ._values import FLOAT_DTYPES

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
DTYPE_MISMATCH = FailureKind(
    "dtype-mismatch", "An operation mixes integer and float tensors",
    """An operation got an integer tensor and a float tensor. TensorFlow never converts dtypes between
    operands: cast one of them (usually the integer one, to the float dtype) first.""",
    r"was expected to be a \w+ tensor but is a \w+ tensor|has type \w+ that does not match type \w+"
    r"|Tensor conversion requested dtype \w+ for Tensor with dtype \w+|must have the same dtype, got",
)

_OPERATORS = {
    cst.Add: "+",
    cst.Subtract: "-",
    cst.Multiply: "*",
    cst.Divide: "/",
    cst.FloorDivide: "//",
    cst.Modulo: "%",
    cst.Power: "**",
    cst.MatrixMultiply: "@",
}
MATMUL = ("tf.matmul", "tf.linalg.matmul")
SIGMOID_CE = ("tf.nn.sigmoid_cross_entropy_with_logits",)
# Switches of NumPy-style type promotion, and the position of their mode argument.
NUMPY_BEHAVIOR = (
    "tf.experimental.numpy.experimental_enable_numpy_behavior",
    "tf.python.ops.numpy_ops.np_config.enable_numpy_behavior",
)
CONVERSION_MODE = ("tf.python.framework.ops.set_dtype_conversion_mode",)
_MODES = ("off", "legacy", "safe", "all")
_NARROW_INTS = ("int8", "uint8")


def raises_under(mode: str, kind: str, int_dtype: str, float_dtype: str | None) -> bool:
    """Whether an op of `kind` ("operator", "matmul", "sigmoid") on an integer tensor of `int_dtype` and a
    float of `float_dtype` (None: a Python float) raises under a dtype conversion `mode` (measured, see the
    module docstring). "unknown" is a mode that is not a literal."""
    if mode == "off":
        return True
    if mode != "legacy":  # 'all' computes everything; 'safe' depends on weak values; unknown: cannot show it
        return False
    if kind == "matmul":
        return True
    if float_dtype is None:
        return kind != "operator"
    if kind == "operator":
        return float_dtype == "bfloat16" and int_dtype not in _NARROW_INTS
    # sigmoid: raises unless NumPy promotes the pair to the float dtype itself
    if float_dtype not in FLOAT_DTYPES or int_dtype in _NARROW_INTS:
        return False
    if int_dtype in ("int16", "uint16"):
        return float_dtype in ("float16", "bfloat16")
    return float_dtype != "float64"


class IntegerFloatOperands(Rule):
    """An integer tensor meets a float tensor (or a Python float) in `tf.matmul`, arithmetic, or as the labels of
    `tf.nn.sigmoid_cross_entropy_with_logits`: TensorFlow raises instead of converting. The fix casts the
    integer side to the float dtype.
    """

    code = "TFX303"
    name = "integer-float-operands"
    summary = "Integer and float tensors in one op raise; cast the integer side to the float dtype"
    explains = (DTYPE_MISMATCH,)
    fix = Fix.always("safe")
    severity = Severity.ERROR
    triggers = ("tensorflow",)
    # An operator has no API name: the integer tensor's maker is the anchor.
    anchors = leaves(*MATMUL, *SIGMOID_CE) | VALUE_SOURCES

    VALID = (
        Valid("import tensorflow as tf\nx = tf.ones((2, 3)) + 1\ny = tf.range(3) * 2\n"),
        Valid(  # Keras casts an integer input itself
            "import tensorflow as tf\n"
            "out = tf.keras.layers.Dense(4)(tf.constant([[1, 2, 3]]))\n"
            "loss = tf.keras.losses.BinaryCrossentropy()(tf.ones((4, 1), tf.int32), tf.random.uniform((4, 1)))\n"
        ),
        Valid(  # NumPy arrays and lists are converted to the tensor's dtype by the operator
            "import numpy as np\nimport tensorflow as tf\nx = tf.ones((2,)) * np.array([1, 2]) + [3, 4]\n"
        ),
        Valid(  # KerasTensors: Keras converts
            "import keras\ninputs = keras.Input((3,), dtype='int32')\nx = inputs * keras.ops.ones((3,))\n"
        ),
        Valid(  # NumPy promotion is on: the operators promote int and float (to float64)
            "import tensorflow as tf\n"
            "tf.experimental.numpy.experimental_enable_numpy_behavior()\n"
            "x = tf.zeros((2, 2), tf.uint8) / 255.0 + tf.ones((2, 2))\n"
        ),
        Valid(  # 'all' mode: the op functions promote too
            "import tensorflow as tf\n"
            "tf.experimental.numpy.experimental_enable_numpy_behavior(dtype_conversion_mode='all')\n"
            "h = tf.matmul(tf.constant([[1, 2]]), tf.ones((2, 2)))\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "pixels = tf.constant([[0, 128, 255]])\n"
            "w = tf.Variable(tf.random.normal((3, 2)))\n"
            "h = tf.matmul(pixels, w)\n",
            "import tensorflow as tf\n"
            "pixels = tf.constant([[0, 128, 255]])\n"
            "w = tf.Variable(tf.random.normal((3, 2)))\n"
            "h = tf.matmul(tf.cast(pixels, tf.float32), w)\n",
        ),
        Invalid(
            "import tensorflow.compat.v1 as tfv1\n"
            "labels = tfv1.placeholder(tfv1.int32, [None, 1])\n"
            "logits = tfv1.zeros((4, 1))\n"
            "loss = tfv1.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)\n",
            "import tensorflow.compat.v1 as tfv1\n"
            "labels = tfv1.placeholder(tfv1.int32, [None, 1])\n"
            "logits = tfv1.zeros((4, 1))\n"
            "loss = tfv1.nn.sigmoid_cross_entropy_with_logits(labels=tfv1.cast(labels, tfv1.float32), logits=logits)\n",
        ),
        Invalid(
            "from tensorflow import constant, float64, ones\n"
            "scaled = constant([1, 2]) / ones((2,), dtype=float64)\n",
            "from tensorflow import constant, float64, ones\n"
            "import tensorflow\n"
            "\n"
            "scaled = tensorflow.cast(constant([1, 2]), tensorflow.float64) / ones((2,), dtype=float64)\n",
        ),
        Invalid(  # NumPy promotion ('legacy', the default mode) does not reach tf.matmul: it still raises
            "import tensorflow as tf\n"
            "tf.experimental.numpy.experimental_enable_numpy_behavior()\n"
            "h = tf.matmul(tf.constant([[1, 2]]), tf.ones((2, 2)))\n",
            "import tensorflow as tf\n"
            "tf.experimental.numpy.experimental_enable_numpy_behavior()\n"
            "h = tf.matmul(tf.cast(tf.constant([[1, 2]]), tf.float32), tf.ones((2, 2)))\n",
        ),
        Invalid(
            "import tensorflow as tf\n"
            "images = tf.zeros((2, 28, 28), dtype=tf.uint8)\n"
            "x = images / 255.0\n",
            "import tensorflow as tf\n"
            "images = tf.zeros((2, 28, 28), dtype=tf.uint8)\n"
            "x = tf.cast(images, tf.float32) / 255.0\n",
        ),
    )

    @classmethod
    def candidates(cls, facts: Facts) -> list[ast.AST]:
        """Where a finding can be (the rule reports at such a node only), and so its precondition: an integer
        operand, an integer tensor a TensorFlow op makes (a `tf.*` maker of `StaticValues` given an integer dtype
        or integer data) meeting a float in an operator; integer data as `tf.matmul`'s first operand (or such a
        tensor as its second); integer labels of the sigmoid loss."""
        return list(_candidates(facts))

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)
        # The NumPy promotion modes the module switches on; findings wait for the end of the module.
        self.modes: set[str] = set()
        self.pending: list[tuple[tuple[str, str, str | None], cst.CSTNode, str, Rewrite | None]] = []

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        symbol = _OPERATORS.get(type(node.operator))
        if symbol is None:
            return
        left, right = operand(self.values, node.left), operand(self.values, node.right)
        if left is None or right is None:
            return
        # Only a tensor keeps its integer dtype; a float tensor or a Python float on the other side then raises
        # (NumPy arrays are converted, with truncation, to the tensor's dtype: no error).
        for side, other, ints, floats in (("left", node.right, left, right), ("right", node.left, right, left)):
            if ints.is_int and ints.fixed and floats.is_float and not floats.numpy:
                self._report(node, f"`{symbol}`", node, side, ints, other, floats, "operator")
                return

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, (cst.Name, cst.Attribute)):
            return
        if self.is_api(node.func, *NUMPY_BEHAVIOR):
            self.modes.add(_mode(argument(node, "dtype_conversion_mode", 1), "legacy"))
        elif self.is_api(node.func, *CONVERSION_MODE):
            self.modes.add(_mode(argument(node, "dtype_conversion_mode", 0), "unknown"))
        elif self.is_api(node.func, *MATMUL):
            self._matmul(node)
        elif self.is_api(node.func, *SIGMOID_CE):
            self._sigmoid_ce(node)

    def _matmul(self, node: cst.Call) -> None:
        a_arg, b_arg = argument(node, "a", 0), argument(node, "b", 1)
        if a_arg is None or b_arg is None:
            return
        a, b = operand(self.values, a_arg.value), operand(self.values, b_arg.value)
        if a is None or b is None or b.numpy:
            return
        # `a` is converted as it is (a list of ints is int32); `b` is converted to a's dtype when it can be.
        if a.is_int and b.is_float:
            self._report(node, "`tf.matmul`", a_arg, "value", a, b_arg.value, b, "matmul")
        elif a.is_float and b.is_int and b.fixed:
            self._report(node, "`tf.matmul`", b_arg, "value", b, a_arg.value, a, "matmul")

    def _sigmoid_ce(self, node: cst.Call) -> None:
        labels_arg, logits_arg = argument(node, "labels", 0), argument(node, "logits", 1)
        if labels_arg is None or logits_arg is None:
            return
        labels = operand(self.values, labels_arg.value)
        if labels is None or not labels.is_int:
            return
        logits = self.values.of(logits_arg.value)
        tf = TF.at(self, node)
        if logits is not None and logits.dtype in FLOAT_DTYPES:
            dtype: cst.BaseExpression = tf.attr(logits.dtype)
            dtype_name = logits.dtype
        elif isinstance(logits_arg.value, cst.Name):  # unknown dtype: take the logits' own
            dtype = cst.Attribute(value=logits_arg.value, attr=cst.Name("dtype"))
            dtype_name = "the logits' dtype"
        else:
            dtype, dtype_name = tf.attr("float32"), "float32"
        self._pending(
            ("sigmoid", labels.dtype, dtype_name if dtype_name in FLOAT_DTYPES and labels.fixed else "unknown"),
            node,
            f"labels `{describe(labels_arg.value)}` are {labels.dtype}: sigmoid_cross_entropy_with_logits "
            f"needs float labels of the logits' dtype and raises 'cannot compute Mul' (a TypeError in a graph)",
            Rewrite.replace(
                f"Cast the labels to {dtype_name}",
                {labels_arg: lambda updated: updated.with_changes(value=tf.cast(updated.value, dtype))},
                imports=tf.imports,
            ),
        )

    def _report(
        self, node: cst.CSTNode, op: str, site: cst.CSTNode, field: str, ints: Operand,
        float_expr: cst.BaseExpression, floats: Operand, kind: str,
    ) -> None:
        """`getattr(site, field)` is the integer operand; the fix casts it there. Replacing the site (the binary
        operation or the argument) rather than the operand lets parentheses around the operand go."""
        int_expr = getattr(site, field)
        if floats.fixed:
            other = f"`{describe(float_expr)}` is {floats.dtype}"
        else:
            other = f"`{describe(float_expr)}` is Python float data"
        tf = TF.at(self, node)
        self._pending(
            (kind, ints.dtype, floats.dtype if floats.fixed else None),
            node,
            f"{op} mixes integer and float: `{describe(int_expr)}` is {ints.dtype} and {other}; TensorFlow "
            "does not convert between them and raises (InvalidArgumentError or TypeError)",
            Rewrite.replace(
                f"Cast `{describe(int_expr)}` to {floats.dtype}",
                {site: lambda updated: updated.with_changes(**{field: tf.cast(getattr(updated, field), floats.dtype)})},
                imports=tf.imports,
            ),
        )

    def _pending(self, op: tuple[str, str, str | None], node: cst.CSTNode, message: str, rewrite: Rewrite) -> None:
        self.pending.append((op, node, message, rewrite))

    def leave_Module(self, original_node: cst.Module) -> None:
        """Report what raises under every NumPy promotion mode the module can switch on (none: only 'off')."""
        modes = self.modes | {"off"}
        for (kind, int_dtype, float_dtype), node, message, rewrite in self.pending:
            if all(raises_under(mode, kind, int_dtype, float_dtype) for mode in modes):
                self.report(node, message, rewrite=rewrite)
        self.pending.clear()


# --- the precondition: where an integer value can come from, on Python's `ast` (a superset of StaticValues) ---------
_AST_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)
# Where each `tf.*` maker of `StaticValues` (`_constructors`, by handler) takes the data whose dtype it keeps, as
# (keyword, position) slots: `tf.constant([1, 2])`, `tf.reshape(ints, ...)` are integer tensors. () : none, the
# maker's dtype is its default or what a dtype argument names; None: any argument (and any maker not listed).
_DATA_SLOTS_BY_MAKER: dict[str, tuple[tuple[str, int], ...] | None] = {
    "_like": (("input", 0), ("tensor", 0)), "_constant": (("value", 0),), "_variable": (("initial_value", 0),),
    "_tf_reshape": (("tensor", 0),), "_tf_expand_dims": (("input", 0),), "_tf_squeeze": (("input", 0),),
    "_tf_matmul": (("a", 0), ("b", 1)), "_tf_binary": (("x", 0), ("y", 1)), "_tf_transpose": (("a", 0),),
    "_tf_matrix_transpose": (("a", 0),), "_tf_unary": None, "_tf_range": None,
    "_random": (), "_placeholder": (), "_one_hot": (), "_cast": (), "_get_variable": (), "_tf_eye": (),
}
_DATA_SLOTS = {
    name: (("value", 1),) if name == "tf.fill" else () if make.__name__ == "_filled"
    else _DATA_SLOTS_BY_MAKER.get(make.__name__)
    for name, make in TF_CONSTRUCTORS.items() if name.startswith("tf.")
}
# Where each maker of `StaticValues` takes a dtype argument that, when given, decides the dtype it makes whatever
# its data (position; None: keyword only); and the makers whose dtype is float32 when none is given (`tf.zeros`,
# `tf.random.normal`, `tf.one_hot`, `tf.get_variable`, `tf.eye`, `keras.Input`). `tf.fill` takes its value's dtype.
_DTYPE_POSITION_BY_MAKER = {
    "_constant": 1, "_variable": None, "_like": 1, "_cast": 1, "_tf_range": None, "_one_hot": 5, "_random": None,
    "_filled": 1, "_get_variable": 2, "_tf_eye": 3, "_placeholder": 0, "_keras_input": None,
}
_FLOAT_BY_DEFAULT_MAKERS = ("_random", "_one_hot", "_filled", "_get_variable", "_tf_eye", "_keras_input")
_DTYPE_SLOT = {
    name: _DTYPE_POSITION_BY_MAKER[make.__name__] for name, make in TF_CONSTRUCTORS.items()
    if make.__name__ in _DTYPE_POSITION_BY_MAKER and name != "tf.fill"
}
_FLOAT_BY_DEFAULT = frozenset(
    name for name, make in TF_CONSTRUCTORS.items() if make.__name__ in _FLOAT_BY_DEFAULT_MAKERS and name != "tf.fill"
)
_KERAS_INPUTS = ("keras.Input", "keras.layers.Input")


def _number(expr: ast.expr) -> bool:
    """An int or float literal (LibCST's `Integer`, `Float`)."""
    return type(expr) is ast.Constant and type(expr.value) in (int, float)


def _candidates(facts: Facts) -> Iterator[ast.AST]:
    """The sigmoid losses, `tf.matmul` calls and operators that may have an integer operand meeting a float (see
    `IntegerFloatOperands.can_fire`), each a place the rule may report at."""
    ints = facts.derived(_Integers, lambda: _Integers(facts))
    for call in facts.calls_of(*SIGMOID_CE):
        ints.scope = facts.scopes.get(id(call))
        if ints.maybe_int(ast_argument(call, "labels", 0)) and ast_argument(call, "logits", 1) is not None:
            yield call
    for call in facts.calls_of(*MATMUL):
        ints.scope = facts.scopes.get(id(call))
        a, b = ast_argument(call, "a", 0), ast_argument(call, "b", 1)
        if a is not None and b is not None and (ints.maybe_int(a) or ints.maybe_int_tensor(b)):
            yield call
    for op in facts.binary:
        if type(op.op) in _AST_OPERATORS:
            ints.scope = facts.scopes.get(id(op))
            if (ints.maybe_int_tensor(op.left) and ints.maybe_float(op.right)) or (
                ints.maybe_int_tensor(op.right) and ints.maybe_float(op.left)
            ):
                yield op


class _Integers:
    """Which expressions may be integer values (`maybe_int`), may come from a TensorFlow op (`_dtypes.from_tensorflow`),
    may be integer tensors a TensorFlow op made (`maybe_int_tensor`: `Operand.fixed`) and may be float operands
    (`maybe_float`: float data or a float tensor, not NumPy's), through any assignment of a name or attribute
    name: least fixpoints over the file, supersets of what `StaticValues` infers. A name is read in `scope` (set
    it to the scope of the expression asked about, `Facts.scopes`): its bindings there and module-level ones."""

    INT, TF, TENSOR, FLOAT = 0, 1, 2, 3

    def __init__(self, facts: Facts, *, called: bool = False) -> None:
        """`called`: read the code as `StaticValues` does inside a call of the module's function that it follows
        (`_shapes.StaticValues._called`), where each parameter holds what the call passes: here, any value. Only
        INT and FLOAT are asked of it (`_may_return`)."""
        self.facts = facts
        self.called = called
        self.scope: int | None = None
        # (name, scope of the binding) that may hold each kind of value; attribute names, whatever binds them
        self.names: tuple[set[tuple[str, int | None]], ...] = (set(), set(), set(), set())
        self.attributes: tuple[set[str], ...] = (set(), set(), set(), set())
        # the module's functions (by name) one of whose `return`s may give an INT, a FLOAT, read as the code is
        self.returns: tuple[set[str], ...] = (set(), set(), set(), set())
        self._assigned: set[tuple[str, int | None]] | None = None  # (name, scope) of every assignment
        for kind in (self.INT,) if called else (self.INT, self.TF, self.TENSOR):  # TENSOR reads INT and TF
            self._fixpoint(kind)
        self._floats = False  # FLOAT (which reads INT) only once asked: most files have no integer tensor to meet one

    def _fixpoint(self, kind: int) -> None:
        scope = self.scope
        while True:
            least_fixpoint(self.facts, lambda value, in_scope: self._in(in_scope, value, kind),
                           self.names[kind], self.attributes[kind])
            if kind not in (self.INT, self.FLOAT) or not self._grow_returns(kind):
                break
        self.scope = scope

    def _grow_returns(self, kind: int) -> bool:
        """Add to `returns` the functions one of whose `return` values may now be of `kind`; whether any was."""
        grown = False
        for name, returned in _returns_by_function(self.facts).items():
            if name not in self.returns[kind] and any(self._in(scope, value, kind) for value, scope in returned):
                self.returns[kind].add(name)
                grown = True
        return grown

    def _may_return(self, call: ast.Call, kind: int) -> bool:
        """Whether `call` (no API name, not `opaque_call`) may give a value of `kind` (INT or FLOAT). A call of
        the module's function `f(...)` (a name the file binds only with `def`) may when a `return` of a `def f`
        may: whatever the call passes, or (read as `StaticValues` does inside the call, each parameter holding
        what the call passes) when it passes a value of that kind, or of INT for FLOAT (`/`), or a default of
        `f` is one. Any other call (a method, a class, a parameter) may."""
        facts = self.facts
        func = call.func
        if type(func) is not ast.Name:
            return True
        name = func.id
        if not facts.only_a_function(name):
            return True
        if name in self.returns[kind]:
            return True
        if self.called:
            return False
        callee = facts.derived((_Integers, "called"), lambda: _Integers(facts, called=True))
        if kind == self.FLOAT:
            callee._floats_known()
        if name not in callee.returns[kind]:
            return False
        kinds = (kind,) if kind == self.INT else (kind, self.INT)
        if any(self._is(value, k) for value in _passed(call) for k in kinds):
            return True
        scope = self.scope
        try:
            return any(
                default is not None and self._in(where, default, k)
                for function, where in facts.function_defs[name]
                for default in (*function.args.defaults, *function.args.kw_defaults)  # type: ignore[attr-defined]
                for k in kinds
            )
        finally:
            self.scope = scope

    def _rebound_parameter(self, name: ast.Name) -> bool:
        """`name` reads a parameter of its scope's function that the function also assigns: StaticValues reads no
        value for it (a binding list with a parameter in it), the argument passed included. A parameter of a
        nested function, or one no assignment rebinds: False."""
        if not self.facts.reads_parameter(self.scope, name):
            return False
        if self._assigned is None:
            self._assigned = {(bound, scope) for bound, _, scope in self.facts.bindings}
        return (name.id, self.scope) in self._assigned

    def _in(self, scope: int | None, expr: ast.expr, kind: int) -> bool:
        self.scope = scope
        return self._is(expr, kind)

    def maybe_int(self, expr: ast.expr | None) -> bool:
        return expr is not None and self._is(expr, self.INT)

    def maybe_int_tensor(self, expr: ast.expr | None) -> bool:
        return expr is not None and self._is(expr, self.TENSOR)

    def maybe_float(self, expr: ast.expr | None) -> bool:
        self._floats_known()
        return expr is not None and self._is(expr, self.FLOAT)

    def _floats_known(self) -> None:
        """Work out FLOAT, once (a query of it while it is being worked out reads what is known so far)."""
        if not self._floats:
            self._floats = True
            self._fixpoint(self.FLOAT)

    def _is(self, expr: ast.expr, kind: int) -> bool:
        node = type(expr)
        if node is ast.Name:
            if self.called and expr.id in self.facts.parameters and not self._rebound_parameter(expr):  # type: ignore
                return True  # inside a call StaticValues follows, a parameter holds what the call passes
            names = self.names[kind]
            if (expr.id, self.scope) not in names and (expr.id, None) not in names:  # type: ignore[attr-defined]
                return False
            return not self.facts.reads_parameter(self.scope, expr)  # type: ignore[arg-type]
        if node is ast.Attribute:
            return expr.attr in self.attributes[kind]  # type: ignore[attr-defined]
        if node is ast.UnaryOp:
            return self._is(expr.operand, kind)  # type: ignore[attr-defined]
        if node is ast.Call:
            if kind == self.TF:
                return any(name.startswith("tf.") for name in self.facts.api_names(expr.func))  # type: ignore[attr-defined]
            if kind == self.FLOAT:
                return self._made_float(expr)  # type: ignore[arg-type]
            return self._made_int(expr, kind == self.TENSOR)  # type: ignore[arg-type]
        if node is ast.BinOp:
            left, right, op = expr.left, expr.right, type(expr.op)  # type: ignore[attr-defined]
            if kind == self.TF:
                return self._is(left, kind) or self._is(right, kind)
            if kind == self.FLOAT:  # a float side; or true division of a tensor of known (integer) dtype
                return self._is(left, kind) or self._is(right, kind) or op is ast.Div and (
                    self._is(left, self.INT) or self._is(right, self.INT)
                )
            if kind == self.INT:  # int arithmetic; a tensor's dtype kept with a number, or shared elementwise
                if op is ast.MatMult:
                    return self._is(left, kind) or self._is(right, kind)
                return (self._is(left, kind) and (_number(right) or self._is(right, kind))) or (
                    _number(left) and self._is(right, kind)
                )
            if op is ast.Div:  # true division of integer tensors is float
                return False
            for side, other in ((left, right), (right, left)):
                if _number(other):  # `t * 2`: the tensor's dtype
                    return self._is(side, self.INT) and self._is(side, self.TF)
            from_tf = self._is(left, self.TF) or self._is(right, self.TF)
            if op is ast.MatMult:
                return from_tf and (self._is(left, self.INT) or self._is(right, self.INT))
            if op in (ast.Add, ast.Sub, ast.Mult):  # elementwise: a dtype when both sides have it
                return from_tf and self._is(left, self.INT) and self._is(right, self.INT)
            return False
        if kind == self.FLOAT:
            if node is ast.Constant:
                return type(expr.value) is float  # type: ignore[attr-defined]
            return (node is ast.List or node is ast.Tuple) and any(
                type(n) is ast.Constant and type(n.value) is float for n in ast.walk(expr)
            )
        if kind != self.INT:
            return False
        if node is ast.Constant:
            return type(expr.value) is int  # type: ignore[attr-defined]
        if node is ast.List or node is ast.Tuple:
            return not any(type(n) is ast.Constant and type(n.value) is float for n in ast.walk(expr))
        return False

    def _shadowed(self, call: ast.Call) -> bool:
        """The callee is a name the module also binds itself (`x = ...`, `def x`): where it is called, that binding
        may be the one LibCST resolves, and `StaticValues` then evaluates the module's own function."""
        func = call.func
        return type(func) is ast.Name and (func.id in self.facts.bound or func.id in self.facts.functions)

    def _made_float(self, call: ast.Call) -> bool:
        """A float value: a maker given a float dtype, or given none and either making float32 by default or
        keeping the dtype of float data (`tf.reshape(floats, ...)`, `tf.maximum(0, floats)`, `tf.range(0.5)`)."""
        if type(call.func) is ast.Attribute and call.func.attr in ("astype", "numpy"):
            return False  # a NumPy array: converted to the other side's dtype, no error
        layer = self._layer_output(call, self.FLOAT)
        if layer is not None:
            return layer
        facts = self.facts
        names = facts.api_names(call.func)
        if not names:
            return not opaque_call(facts, call) and self._may_return(call, self.FLOAT)
        if self._shadowed(call):
            return True
        return self._made(call, names, self.FLOAT, lambda d: maybe_float_dtype(facts, d, self.maybe_float), True)

    def _made_int(self, call: ast.Call, tensor: bool) -> bool:
        """An integer value: a maker given an integer dtype, or given none and keeping the dtype of integer data
        (`tf.constant([1, 2])`, `tf.reshape(ints, ...)`); NumPy's and the module's own functions (not `tensor`)."""
        if type(call.func) is ast.Attribute and call.func.attr in ("astype", "numpy"):
            return not tensor  # a NumPy array: of any dtype, never a TensorFlow tensor
        layer = self._layer_output(call, self.INT) if not tensor else None  # a layer's output is no TensorFlow op's
        if layer is not None:
            return layer
        facts = self.facts
        names = facts.api_names(call.func)
        # a KerasTensor is no tensor of a fixed dtype (Keras converts), but `tf.reshape(inputs)` is one of its dtype
        makers = [n for n in names if not (tensor and n in _KERAS_INPUTS)]
        if self._made(call, makers, self.INT, lambda d: maybe_int_dtype(facts, d, self.maybe_int), False):
            return True
        if tensor:
            return False  # only a `tf.*` maker makes a tensor StaticValues knows the dtype of
        if names:  # a Keras layer or another API: no integer value, unless the module binds its name too
            return self._shadowed(call)
        # NumPy's functions: maybe; the module's own: when one of their returns may be
        return not opaque_call(facts, call) and self._may_return(call, self.INT)

    def _layer_output(self, call: ast.Call, kind: int) -> bool | None:
        """Whether applying a layer `StaticValues` knows (`layer_makers`) may give a value of `kind` (INT or FLOAT):
        a Dense layer's output is float32, a Flatten's or a shape-preserving layer's has its input's dtype
        (`_values.apply_layer`); a model made in place (`Sequential([...])(x)`) may give anything. None when the
        callee may be something else."""
        makers = layer_makers(self.facts, call.func)
        if makers is None:
            made_in_place = type(call.func) is ast.Call and not self.facts.api_names(call.func).isdisjoint(CALLABLE_MAKERS)
            return True if made_in_place else None
        if "keras.layers.Dense" in makers:
            if kind == self.FLOAT:
                return True
            if len(makers) == 1:
                return False
        return any(self._is(value, kind) for value in _passed(call))

    def _made(self, call: ast.Call, names: Iterable[str], kind: int, dtype_of_kind: Callable[[ast.expr], bool],
              by_default: bool) -> bool:
        """Whether a maker of `names` makes a value of `kind` in `call`: given a dtype argument, the dtype it names
        (`dtype_of_kind`); else (`by_default`) its float32 default, or the dtype of its data."""
        for maker in names:
            if maker not in _DATA_SLOTS and maker not in _KERAS_INPUTS:
                continue
            dtype = _dtype_argument(call, maker)
            if dtype is not None:
                if dtype_of_kind(dtype):
                    return True
            elif (by_default and maker in _FLOAT_BY_DEFAULT) or any(
                v is not None and self._is(v, kind) for v in self._data(call, maker)
            ):
                return True
        return False

    @staticmethod
    def _data(call: ast.Call, maker: str) -> list[ast.expr | None]:
        """The arguments whose dtype `maker` keeps (`_DATA_SLOTS`): an elementwise op its first argument
        (`call.args[0]` in LibCST, positional or not), `tf.range` its bounds."""
        slots = _DATA_SLOTS.get(maker, ())
        if slots is None:
            if TF_CONSTRUCTORS[maker].__name__ == "_tf_unary":
                return [first_argument(call)]
            positional = [a.value if type(a) is ast.Starred else a for a in call.args]  # `_tf_range`: its bounds
            return positional or [k.value for k in call.keywords if k.arg in ("start", "limit", "delta")]
        return [ast_argument(call, k, p) for k, p in slots]


def _returns_by_function(facts: Facts) -> dict[str, list[tuple[ast.expr, int | None]]]:
    """For each name the file defines a function by, the values its `return`s give, each with its scope."""
    return facts.derived(_returns_by_function, lambda: {
        name: [(value, scope) for function, scope in definitions for value in _returned(function)]
        for name, definitions in facts.function_defs.items()
    })


def _returned(function: ast.AST) -> Iterator[ast.expr]:
    """The values `function`'s own `return` statements give (not those of the functions and classes in it)."""
    todo: list[ast.AST] = list(function.body)  # type: ignore[attr-defined]
    while todo:
        node = todo.pop()
        kind = type(node)
        if kind is ast.Return:
            if node.value is not None:  # type: ignore[attr-defined]
                yield node.value  # type: ignore[attr-defined]
        elif kind not in _NESTED_SCOPES:  # a statement (or handler, case) of this function: the blocks in it
            for name in STATEMENT_FIELDS:
                todo.extend(getattr(node, name, ()))


_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _passed(call: ast.Call) -> list[ast.expr]:
    """The values `call` passes, positionally (`*xs` as `xs`) or by keyword (`**kw` as `kw`)."""
    return [a.value if type(a) is ast.Starred else a for a in call.args] + [k.value for k in call.keywords]


def _dtype_argument(call: ast.Call, maker: str) -> ast.expr | None:
    """The dtype argument `call` gives `maker` where the maker reads one (its dtype then, whatever the data)."""
    if maker not in _DTYPE_SLOT:
        return None
    return ast_argument(call, "dtype", _DTYPE_SLOT[maker])


def _mode(arg: cst.Arg | None, default: str) -> str:
    """The literal mode of a switch's mode argument: `default` when absent, "unknown" when not a literal."""
    if arg is None:
        return default
    if isinstance(arg.value, cst.SimpleString) and arg.value.evaluated_value in _MODES:
        return str(arg.value.evaluated_value)
    return "unknown"
