"""TFX305: `tf.matmul` (or `@`) of operands whose static shapes have different inner dimensions.

## What it does

The rule fires only when both inner dimensions are known statically: shapes from literals, `tf.constant`,
`tf.zeros/ones/random.*`, placeholders, `get_variable`, `tf.Variable` of those, earlier matmuls and
transposes (see `_shapes.py`); `transpose_a/b` and `adjoint_a/b` given as literals are taken into account.

`@` counts only where an operand is a TensorFlow tensor (made by a `tf.` op, directly or through names):
of two NumPy arrays it is NumPy's product, which raises NumPy's own error.

## Why is this bad?

A matrix product needs the first operand's last dimension to equal the second's first (non-batch) one: the
op raises, or the graph cannot be built.

## Measured TensorFlow behaviour

Measured with tensorflow-cpu 2.21 (docs/tensorflow-behaviour.md, probes losses_shapes.py matmul_bad):

- eagerly, `tf.matmul(zeros((2, 2)), zeros((3, 2)))` and `a @ b` raise `InvalidArgumentError: Matrix
  size-incompatible: In[0]: [2,2], In[1]: [3,2]` (batched: `BatchMatMulV2` with the same message);
- in a TF1 graph, and inside `tf.function`, the graph cannot be built: `ValueError: Dimensions must be
  equal, but are 2 and 3 for '{{node MatMul}} ...' with input shapes: [?,2], [3,2]`.

## Fix safety

Where transposing one operand makes the dimensions agree (weights stored as (out, in), attention scores
`q @ k` written for `q @ k^T`), the fix transposes it: `transpose_b=True` (or `transpose_a=True`, or removing
a wrong flag) for `tf.matmul`, `tf.transpose(b)` / `tf.linalg.matrix_transpose(b)` for `@`. It is unsafe: it
changes which product is computed and the result's shape, and a mismatch can as well be a wrong size (784
typed as 748), for which no transposition is offered and the finding stands alone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

import libcst as cst

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._ast_values import FromTensorflow, Shaped
from ._cst_utils import TF, unparenthesized
from ._dtypes import describe, from_tensorflow, is_true, with_keyword, without_keyword
from ._shapes import StaticValues, VALUE_SOURCES
from ._values import Shape

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
MATMUL_INNER_DIMENSIONS = FailureKind(
    "matmul-inner-dimensions", "A matrix product's inner dimensions differ",
    """`tf.matmul(a, b)` needs the last dimension of `a` to equal the first (non-batch) dimension of `b`;
    here they differ. A weight matrix built with its dimensions swapped, or an input that is not the
    width the layer expects, are the usual causes.""",
    r"Matrix size-incompatible|Dimensions must be equal, but are \d+ and \d+ for '[^']*= (?:Batch)?MatMul",
)

# Failures other rules are the main cause of, imported after this module's own (those modules import them).
from .tfx302_target_rank_mismatch import DIMENSIONS_MUST_BE_EQUAL  # noqa: E402

MATMUL = ("tf.matmul", "tf.linalg.matmul")
_FLAGS = {"a": (("transpose_a", 2), ("adjoint_a", 4)), "b": (("transpose_b", 3), ("adjoint_b", 5))}


class MatmulInnerDimensionMismatch(Rule):
    """A matrix product whose operands' known inner dimensions disagree: TensorFlow raises. When transposing
    one operand makes them agree, the (unsafe) fix transposes it.
    """

    code = "TFX305"
    name = "matmul-inner-dimension-mismatch"
    summary = "tf.matmul / @ of matrices whose inner dimensions disagree raises"
    explains = (MATMUL_INNER_DIMENSIONS, DIMENSIONS_MUST_BE_EQUAL)
    fix = Fix.sometimes("unsafe")
    severity = Severity.ERROR
    triggers = ("matmul", "@")
    # `@` has no API name: the TensorFlow operand's maker is the anchor.
    anchors = leaves(*MATMUL) | VALUE_SOURCES
    local = True  # its findings are the union of its parts' (see Rule.local)

    VALID = (
        Valid("import tensorflow as tf\ny = tf.matmul(tf.zeros((2, 2)), tf.zeros((2, 3)))\n"),
        Valid(
            "import tensorflow as tf\n"
            "w = tf.Variable(tf.random.normal((3, 4)))\n"
            "y = tf.matmul(tf.ones((5, 4)), w, transpose_b=True)\n"
        ),
        Valid("import tensorflow as tf\ndef dense(x, w):\n    return x @ w\n"),
        Valid(  # NumPy's own product: NumPy raises its ValueError, TensorFlow is not involved
            "import numpy as np\n"
            "import tensorflow as tf\n"
            "scores = np.ones((2, 3)) @ np.ones((2, 3))\n"
            "y = tf.matmul(tf.ones((2, 3)), tf.ones((3, 2)))\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "x = tf.random.normal((5, 4))\n"
            "w = tf.Variable(tf.random.normal((3, 4)))\n"
            "y = tf.matmul(x, w)\n",
            "import tensorflow as tf\n"
            "x = tf.random.normal((5, 4))\n"
            "w = tf.Variable(tf.random.normal((3, 4)))\n"
            "y = tf.matmul(x, w, transpose_b=True)\n",
            unsafe=True,
        ),
        Invalid(
            "import tensorflow as tf\n"
            "y = tf.matmul(tf.ones((4, 3)), tf.ones((3, 2)), transpose_b=True)\n",
            "import tensorflow as tf\n"
            "y = tf.matmul(tf.ones((4, 3)), tf.ones((3, 2)))\n",
            unsafe=True,
        ),
        Invalid(
            "import tensorflow as tf\n"
            "q = tf.random.normal((2, 5, 8))\n"
            "k = tf.random.normal((2, 5, 8))\n"
            "scores = q @ k\n",
            "import tensorflow as tf\n"
            "q = tf.random.normal((2, 5, 8))\n"
            "k = tf.random.normal((2, 5, 8))\n"
            "scores = q @ tf.linalg.matrix_transpose(k)\n",
            unsafe=True,
        ),
        Invalid(  # a wrong size, not a transposition: reported without a fix
            "import tensorflow.compat.v1 as tf\n"
            "x = tf.placeholder(tf.float32, [None, 784])\n"
            "W = tf.get_variable('W', [748, 10])\n"
            "logits = tf.matmul(x, W)\n",
            None,
        ),
    )

    @classmethod
    def candidates(cls, facts: Facts) -> list[ast.AST]:
        """Where a finding can be (the rule reports at such a node only), and so its precondition: an `@` or a
        `tf.matmul(a, b)` of two values whose static shapes are matrices with known inner dimensions (so each has
        a known dimension); an `@` with a TensorFlow tensor on one side."""
        return list(_candidates(facts))

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, (cst.Name, cst.Attribute)) and self.is_api(node.func, *MATMUL)):
            return
        a, b = argument(node, "a", 0), argument(node, "b", 1)
        if a is None or b is None:
            return
        flags = {side: self._flag_args(node, side) for side in "ab"}
        transposed = {side: [is_true(arg) for arg in flags[side]] for side in "ab"}
        if any(t is None for ts in transposed.values() for t in ts):
            return  # a flag that is not a literal: the layout is unknown
        ta, tb = any(transposed["a"]), any(transposed["b"])
        self._check(node, a.value, b.value, ta, tb, lambda side: self._toggle_flag(node, side, flags[side]))

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        # `@` is TensorFlow's product only when an operand is a TensorFlow tensor; of two NumPy arrays it is
        # NumPy's, which raises its own ValueError: not this rule's claim.
        if isinstance(node.operator, cst.MatrixMultiply) and (
            from_tensorflow(self.values, node.left) or from_tensorflow(self.values, node.right)
        ):
            self._check(node, node.left, node.right, False, False, lambda side: self._wrap_operand(node, side))

    def _flag_args(self, call: cst.Call, side: str) -> list[cst.Arg | None]:
        return [argument(call, keyword, position) for keyword, position in _FLAGS[side]]

    def _check(self, node, a_expr, b_expr, ta: bool, tb: bool, fix) -> None:
        sa, sb = self.values.shape_of(a_expr), self.values.shape_of(b_expr)
        if not _matrix(sa) or not _matrix(sb):
            return
        a_rows, a_cols = sa.dims[-2:]  # type: ignore[index]
        b_rows, b_cols = sb.dims[-2:]  # type: ignore[index]
        inner_a, other_a = (a_rows, a_cols) if ta else (a_cols, a_rows)
        inner_b, other_b = (b_cols, b_rows) if tb else (b_rows, b_cols)
        if inner_a is None or inner_b is None or inner_a == inner_b:
            return
        op = "`@`" if isinstance(node, cst.BinaryOperation) else "`tf.matmul`"
        message = (
            f"{op} of `{describe(a_expr)}` {sa}{' transposed' if ta else ''} and `{describe(b_expr)}` {sb}"
            f"{' transposed' if tb else ''}: the inner dimensions {inner_a} and {inner_b} disagree, so TensorFlow "
            "raises ('Matrix size-incompatible' eagerly, 'Dimensions must be equal' in a graph)"
        )
        side = "b" if other_b == inner_a else "a" if other_a == inner_b else None
        if side is None:
            self.report(node, message)
            return
        title, change = fix(side)
        operand = describe(b_expr if side == "b" else a_expr)
        self.report(
            node,
            f"{message}; transposing `{operand}` makes them agree",
            rewrite=Rewrite.replace(title, [change], unsafe=True, imports=TF.at(self, node).imports),
        )

    def _toggle_flag(self, call: cst.Call, side: str, flags: list[cst.Arg | None]):
        transpose, adjoint = flags
        keyword = f"transpose_{side}"
        set_flag = next((f for f in (transpose, adjoint) if is_true(f)), None)
        if set_flag is None:
            title = f"Pass {keyword}=True"
            if transpose is not None:  # `transpose_b=False` written out (or positionally): flip it
                return title, (transpose, transpose.with_changes(value=cst.Name("True")))
            return title, (call, lambda updated: with_keyword(updated, keyword, cst.Name("True")))
        name = set_flag.keyword.value if set_flag.keyword is not None else None
        if name is None:  # given positionally: flip the literal in place
            return f"Do not transpose {side}", (set_flag, set_flag.with_changes(value=cst.Name("False")))
        return f"Remove {name}=True", (call, lambda updated: without_keyword(updated, name))

    def _wrap_operand(self, node: cst.BinaryOperation, side: str):
        operand = node.right if side == "b" else node.left
        rank = self.values.shape_of(operand).rank  # type: ignore[union-attr]
        tf = TF.at(self, node)
        function = "transpose" if rank == 2 else "linalg.matrix_transpose"
        return (
            f"Transpose `{describe(operand)}` with {tf.alias}.{function}",
            (operand, lambda updated: tf.call(function, unparenthesized(updated))),
        )


def _matrix(shape: Shape | None) -> bool:
    return shape is not None and shape.dims is not None and len(shape.dims) >= 2


def _candidates(facts: Facts) -> Iterator[ast.AST]:
    """The `tf.matmul` calls and `@` operators whose operands may both be matrices of known inner dimensions (see
    `MatmulInnerDimensionMismatch.can_fire`), each a place the rule may report at."""
    shaped = facts.derived((Shaped, "known"), lambda: Shaped(facts, known=True))
    for call in facts.calls_of(*MATMUL):
        shaped.scope = facts.scopes.get(id(call))
        if shaped.maybe(ast_argument(call, "a", 0)) and shaped.maybe(ast_argument(call, "b", 1)):
            yield call
    for op in facts.binary:
        if type(op.op) is ast.MatMult:
            shaped.scope = facts.scopes.get(id(op))
            if not (shaped.maybe(op.left) and shaped.maybe(op.right)):
                continue
            # TensorFlow's product only where an operand is a TensorFlow tensor (NumPy's, Keras' otherwise)
            made = facts.derived(FromTensorflow, lambda: FromTensorflow(facts))
            made.scope = shaped.scope
            if made.maybe(op.left) or made.maybe(op.right):
                yield op
