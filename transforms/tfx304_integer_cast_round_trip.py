"""TFX304: a float tensor cast to an integer dtype and back cuts the gradient.

`tf.cast(x, tf.int32)` has no gradient: TensorFlow treats integer tensors as constants. A generator whose
output goes through `tf.cast(..., tf.int32)` and back to float before the discriminator still runs, but
`tape.gradient(loss, generator.trainable_variables)` is all None and the generator silently never learns
(measured: shared/tf-behaviour.md, "generator output tf.cast(x, tf.int32) then cast back").

The fix removes the round trip and uses the float tensor directly. Inside a `tf.GradientTape` block, where a
gradient through the value is what the code asks for, the fix is safe. Elsewhere the rounding may have been
meant (quantisation for display or export), so the fix is offered as unsafe there.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from tffix.names import leaves
from tffix.rule import Invalid, Rewrite, Rule, Severity, Valid, argument

INTEGER_DTYPES = frozenset(f"tf.{name}" for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"))
FLOAT_DTYPES = frozenset(f"tf.{name}" for name in ("float16", "bfloat16", "float32", "float64"))


class IntegerCastRoundTrip(Rule):
    """A float value cast to an integer dtype and back to float: no gradient flows through it."""

    code = "TFX304"
    name = "integer-cast-round-trip"
    summary = "Casting through an integer dtype cuts the gradient; the model silently stops learning"
    severity = Severity.WARNING
    triggers = ("cast",)
    # It reports at the cast.
    anchors = leaves("tf.cast")

    VALID = (
        Valid(
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    y = tf.cast(tf.round(x), tf.float32)\n"
        ),
        Valid("import tensorflow as tf\nlabels = tf.cast(tf.cast(raw, tf.int64), tf.int32)\n"),
        Valid("import numpy as np\ny = np.cast(np.cast(x, np.int32), np.float32)\n"),
        Valid(  # one branch casts to int, the other to float: no round trip (keras' bincount does this)
            "import tensorflow as tf\n"
            "if is_int:\n"
            "    weights = tf.cast(weights, tf.int32)\n"
            "else:\n"
            "    weights = tf.cast(weights, tf.float32)\n"
        ),
        Valid(  # rebound in between: the float cast is of something else
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    ids = tf.cast(x, tf.int32)\n"
            "    ids = lookup(ids)\n"
            "    y = tf.cast(ids, tf.float32)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    y = tf.cast(tf.cast(x * 10, tf.int32), tf.float32)\n",
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    y = x * 10\n",
        ),
        Invalid(
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    fake = tf.cast(generator(z), tf.int32)\n"
            "    score = discriminator(tf.cast(fake, tf.float32))\n",
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    fake = generator(z)\n"
            "    score = discriminator(fake)\n",
        ),
        Invalid(
            "from tensorflow import cast, int32, float32\n"
            "def quantise(x):\n"
            "    return cast(cast(x, int32), float32)\n",
            "from tensorflow import cast, int32, float32\n"
            "def quantise(x):\n"
            "    return x\n",
            unsafe=True,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        # name -> (the assignment `name = tf.cast(value, <int>)`, the cast call) for single-target assignments
        self._integer_casts: dict[str, tuple[cst.Assign, cst.Call]] = {}
        self._enclosing_casts: list[dict[str, tuple[cst.Assign, cst.Call]]] = []  # one per enclosing function
        self._tape_depth = 0

    def visit_With(self, node: cst.With) -> None:
        if any(self.is_call_to(item.item, "tf.GradientTape") for item in node.items):
            self._tape_depth += 1

    def leave_With(self, original_node: cst.With) -> None:
        if any(self.is_call_to(item.item, "tf.GradientTape") for item in original_node.items):
            self._tape_depth -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enclosing_casts.append(self._integer_casts)
        self._integer_casts = {}

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._integer_casts = self._enclosing_casts.pop()

    def _cast_to(self, call: cst.CSTNode, dtypes: frozenset[str]) -> cst.BaseExpression | None:
        """The value cast, when `call` is `tf.cast(value, dtype)` with `dtype` in `dtypes`."""
        if not self.is_call_to(call, "tf.cast"):
            return None
        value, dtype = argument(call, "x", 0), argument(call, "dtype", 1)  # type: ignore[arg-type]
        if value is None or dtype is None or not self.is_api(dtype.value, *dtypes):
            return None
        return value.value

    def leave_Assign(self, original_node: cst.Assign) -> None:
        # On leaving: the value's casts are checked against what the name held before (`w = tf.cast(w, ...)`).
        node = original_node
        for target in node.targets:
            for name in m.findall(target.target, m.Name()):
                self._integer_casts.pop(name.value, None)  # type: ignore[union-attr]  # rebound: no longer the cast
        if len(node.targets) == 1 and m.matches(node.targets[0].target, m.Name()):
            if self._cast_to(node.value, INTEGER_DTYPES) is not None:
                self._integer_casts[node.targets[0].target.value] = (node, node.value)  # type: ignore[assignment]

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        if isinstance(original_node.target, cst.Name):
            self._integer_casts.pop(original_node.target.value, None)

    def _reaches(self, assign: cst.Assign, node: cst.CSTNode) -> bool:
        """`node` runs after `assign` whenever it runs: the block holding the assignment encloses it (not
        `if ...: w = tf.cast(w, tf.int32)` / `else: w = tf.cast(w, tf.float32)`)."""
        statement = self.parent(assign)
        block = self.parent(statement) if statement is not None else None
        return block is not None and any(ancestor is block for ancestor in self.ancestors(node))

    def visit_Call(self, node: cst.Call) -> None:
        inner = self._cast_to(node, FLOAT_DTYPES)
        if inner is None:
            return
        unsafe = self._tape_depth == 0
        original = self._cast_to(inner, INTEGER_DTYPES)
        if original is not None:  # tf.cast(tf.cast(x, tf.int32), tf.float32)
            self.report(
                node,
                "cast to an integer dtype and back to float: the gradient through this value is None",
                rewrite=Rewrite.replace("Remove the integer round trip", {node: original}, unsafe=unsafe),
            )
            return
        if m.matches(inner, m.Name()) and inner.value in self._integer_casts:  # type: ignore[union-attr]
            assign, int_cast = self._integer_casts[inner.value]  # type: ignore[union-attr]
            if not self._reaches(assign, node):
                return
            value = self._cast_to(int_cast, INTEGER_DTYPES)
            self.report(
                node,
                f"`{inner.value}` was cast to an integer dtype; casting it back to float does not restore "  # type: ignore[union-attr]
                "the gradient, which is None",
                rewrite=Rewrite.replace(
                    "Keep the float value instead of the integer round trip",
                    {int_cast: value, node: inner},
                    unsafe=unsafe,
                ),
            )
