"""TFX303: an integer tensor and a float tensor as operands of one op; TensorFlow never converts between them.

Measured with tensorflow-cpu 2.21 (shared/tf-behaviour.md, "Losses, shapes, dtypes"; probes dtype_cases.py):

- `tf.matmul(int32, float32)`, `int32 + float32` (and `- * // % ** @`) in eager raise `InvalidArgumentError:
  cannot compute MatMul as input #1 was expected to be a int32 tensor but is a float tensor`; in a TF1 graph
  `TypeError: Input 'b' of 'MatMul' Op has type float32 that does not match type int32`; `int / float`
  raises `TypeError: x and y must have the same dtype`;
- an integer tensor with a Python float (`pixels / 255.0`, `step * 0.5`, `1.5 * n`) raises the same way: the
  float is converted to the tensor's integer dtype, which fails;
- `tf.nn.sigmoid_cross_entropy_with_logits` with integer labels (a tensor, a list of ints, an integer NumPy
  array) raises `InvalidArgumentError: cannot compute Mul as input #1 was expected to be a float tensor but
  is a int32 tensor` (a TypeError in a graph).

What is NOT an error and never reported: a float tensor with a Python int (`x + 1`), a Python list or NumPy
array with a tensor in an arithmetic operator (converted to the tensor's dtype), an integer tensor into a
Keras layer or Keras loss (Keras casts), KerasTensors (`keras.Input(dtype="int32") + ...`: Keras converts).

The fix casts the integer side to the float side's dtype (`tf.cast(x, tf.float32)`), spelled with the name the
file already uses for TensorFlow, or `import tensorflow` when the file has none. It is safe: the op could only
ever compute in the float dtype, and every integer of a label or index below 2**24 is exact in float32.
"""

from __future__ import annotations

import libcst as cst

from tffix.names import leaves
from tffix.rule import Invalid, Rewrite, Rule, Severity, Valid, argument

from ._dtypes import TF, Operand, describe, operand
from ._shapes import FLOAT_DTYPES, StaticValues, VALUE_SOURCES

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


class IntegerFloatOperands(Rule):
    """An integer tensor meets a float tensor (or a Python float) in `tf.matmul`, arithmetic, or as the labels of
    `tf.nn.sigmoid_cross_entropy_with_logits`: TensorFlow raises instead of converting. The fix casts the
    integer side to the float dtype.
    """

    code = "TFX303"
    name = "integer-float-operands"
    summary = "Integer and float tensors in one op raise; cast the integer side to the float dtype"
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
        Invalid(
            "import tensorflow as tf\n"
            "images = tf.zeros((2, 28, 28), dtype=tf.uint8)\n"
            "x = images / 255.0\n",
            "import tensorflow as tf\n"
            "images = tf.zeros((2, 28, 28), dtype=tf.uint8)\n"
            "x = tf.cast(images, tf.float32) / 255.0\n",
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)

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
                self._report(node, f"`{symbol}`", node, side, ints, other, floats)
                return

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, (cst.Name, cst.Attribute)):
            return
        if self.is_api(node.func, *MATMUL):
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
            self._report(node, "`tf.matmul`", a_arg, "value", a, b_arg.value, b)
        elif a.is_float and b.is_int and b.fixed:
            self._report(node, "`tf.matmul`", b_arg, "value", b, a_arg.value, a)

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
        self.report(
            node,
            f"labels `{describe(labels_arg.value)}` are {labels.dtype}: sigmoid_cross_entropy_with_logits "
            f"needs float labels of the logits' dtype and raises 'cannot compute Mul' (a TypeError in a graph)",
            rewrite=Rewrite.replace(
                f"Cast the labels to {dtype_name}",
                {labels_arg: lambda updated: updated.with_changes(value=tf.cast(updated.value, dtype))},
                imports=tf.imports,
            ),
        )

    def _report(
        self, node: cst.CSTNode, op: str, site: cst.CSTNode, field: str, ints: Operand,
        float_expr: cst.BaseExpression, floats: Operand,
    ) -> None:
        """`getattr(site, field)` is the integer operand; the fix casts it there. Replacing the site (the binary
        operation or the argument) rather than the operand lets parentheses around the operand go."""
        int_expr = getattr(site, field)
        if floats.fixed:
            other = f"`{describe(float_expr)}` is {floats.dtype}"
        else:
            other = f"`{describe(float_expr)}` is Python float data"
        tf = TF.at(self, node)
        self.report(
            node,
            f"{op} mixes integer and float: `{describe(int_expr)}` is {ints.dtype} and {other}; TensorFlow "
            "does not convert between them and raises (InvalidArgumentError or TypeError)",
            rewrite=Rewrite.replace(
                f"Cast `{describe(int_expr)}` to {floats.dtype}",
                {site: lambda updated: updated.with_changes(**{field: tf.cast(getattr(updated, field), floats.dtype)})},
                imports=tf.imports,
            ),
        )
