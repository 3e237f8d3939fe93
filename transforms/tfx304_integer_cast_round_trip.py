"""TFX304: a float tensor cast to an integer dtype and back, between the variables and a differentiated loss.

## What it does

Rounding through an integer is often meant: a warm-up or step-wise learning-rate schedule computed from the
global step, whole-pixel sizes in an input pipeline, pixels through uint8 in an augmentation, an accuracy
metric, a straight-through estimator (`x + tf.stop_gradient(rounded - x)`). It only matters on a path that
carries a gradient, so the rule reports only where the code shows one:

- inside a `with tf.GradientTape() as tape:` block (both casts in it), when the value cast to an integer is
  computed from the tape's sources (the variables named, a model whose `trainable_variables` they are, a
  watched tensor) and the cast back feeds the target of one of the tape's gradients;
- in the `call` of a Keras layer or model subclass, when the value is computed from its sub-layers or weights
  (attributes the class assigns from a Keras layer, a variable or `add_weight`) and the cast back feeds what
  `call` returns;
- never under `tf.stop_gradient`. TF1 graph code (`tf.gradients`, `optimizer.minimize`) where the model is
  built elsewhere shows no such path in one place: no finding.

## Why is this bad?

`tf.cast(x, tf.int32)` has no gradient: TensorFlow treats integer tensors as constants. A generator whose
output goes through `tf.cast(..., tf.int32)` and back to float before the discriminator still runs, but
`tape.gradient(loss, generator.trainable_variables)` is all None and the generator silently never learns.

## Measured TensorFlow behaviour

The gradient through the round trip is None (measured: docs/tensorflow-behaviour.md, "generator output
tf.cast(x, tf.int32) then cast back").

## Fix safety

The fix drops the cast to the integer dtype and keeps the cast back, which now casts the float value to the
same float dtype as before, so later code sees the dtype it saw. It is unsafe: without the rounding the
forward values change too, which the cure (a gradient) does not require. `w = tf.cast(w, tf.int32)` is
removed, never left as `w = w`; when the integer value has another use (which would then see a float), there
is no fix.
"""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._shapes import StaticValues
from ._flow import Flow, assignments_of
from ._tape import Dependence, known_not_float, tape_dependence, tapes_in

from .tfx401_work_outside_tape import NONE_GRADIENT_USED, NO_GRADIENTS

INTEGER_DTYPES = frozenset(f"tf.{name}" for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"))
FLOAT_DTYPES = frozenset(f"tf.{name}" for name in ("float16", "bfloat16", "float32", "float64"))


class IntegerCastRoundTrip(Rule):
    """A float value cast to an integer dtype and back to float between the variables and a differentiated loss:
    no gradient flows through it."""

    code = "TFX304"
    name = "integer-cast-round-trip"
    summary = "Casting through an integer dtype on the way to a differentiated loss cuts the gradient"
    explains = (NO_GRADIENTS, NONE_GRADIENT_USED)
    fix = Fix.sometimes("unsafe")
    severity = Severity.WARNING
    # It reports at the cast.
    anchors = leaves("tf.cast")
    local = True  # its findings are the union of its parts' (see Rule.local)

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
            "    ids = tf.cast(w, tf.int32)\n"
            "    ids = lookup(ids)\n"
            "    loss = tf.reduce_sum(tf.cast(ids, tf.float32))\n"
            "g = tape.gradient(loss, w)\n"
        ),
        Valid(  # a warm-up schedule from the global step (BERT): nothing differentiated goes through it
            "import tensorflow as tf\n"
            "def warmup(global_step, num_warmup_steps, init_lr):\n"
            "    global_steps_int = tf.cast(global_step, tf.int32)\n"
            "    global_steps_float = tf.cast(global_steps_int, tf.float32)\n"
            "    return init_lr * global_steps_float / num_warmup_steps\n"
        ),
        Valid(  # the input batch does not depend on the model's variables
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    pixels = tf.cast(tf.cast(images * 255.0, tf.uint8), tf.float32)\n"
            "    loss = tf.reduce_mean(model(pixels))\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n"
        ),
        Valid(  # a straight-through estimator: the gradient goes around the rounding
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    h = encoder(x)\n"
            "    q = h + tf.stop_gradient(tf.cast(tf.cast(h, tf.int32), tf.float32) - h)\n"
            "    loss = tf.reduce_mean(q)\n"
            "grads = tape.gradient(loss, encoder.trainable_variables)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    y = tf.cast(tf.cast(x * 10, tf.int32), tf.float32)\n"
            "    loss = tf.reduce_sum(y)\n"
            "grad = tape.gradient(loss, x)\n",
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    y = tf.cast(x * 10, tf.float32)\n"
            "    loss = tf.reduce_sum(y)\n"
            "grad = tape.gradient(loss, x)\n",
            unsafe=True,
        ),
        Invalid(
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    fake = tf.cast(generator(z), tf.int32)\n"
            "    score = discriminator(tf.cast(fake, tf.float32))\n"
            "grads = tape.gradient(score, generator.trainable_variables)\n",
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    fake = generator(z)\n"
            "    score = discriminator(tf.cast(fake, tf.float32))\n"
            "grads = tape.gradient(score, generator.trainable_variables)\n",
            unsafe=True,
        ),
        Invalid(  # never `h = h`: the statement goes
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    h = model(x)\n"
            "    h = tf.cast(h, tf.int32)\n"
            "    loss = tf.reduce_sum(tf.cast(h, tf.float32))\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n",
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    h = model(x)\n"
            "    loss = tf.reduce_sum(tf.cast(h, tf.float32))\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n",
            unsafe=True,
        ),
        Invalid(  # the integer value is used as an integer too: no fix
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    ids = tf.cast(model(x), tf.int32)\n"
            "    tf.print(tf.bitwise.left_shift(ids, 1))\n"
            "    loss = tf.reduce_sum(tf.cast(ids, tf.float32))\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n",
            None,
        ),
        Invalid(
            "from tensorflow import cast, int32, float32, keras\n"
            "class Quantise(keras.layers.Layer):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.dense = keras.layers.Dense(4)\n"
            "    def call(self, x):\n"
            "        return cast(cast(self.dense(x), int32), float32)\n",
            "from tensorflow import cast, int32, float32, keras\n"
            "class Quantise(keras.layers.Layer):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.dense = keras.layers.Dense(4)\n"
            "    def call(self, x):\n"
            "        return cast(self.dense(x), float32)\n",
            unsafe=True,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a `tf.cast` to a float dtype of a `tf.cast` to an integer dtype (or of a name an assignment
        binds to one), in a `with tf.GradientTape()` block or in a method named `call`."""
        casts = facts.calls_of("tf.cast")

        if not ("tf.GradientTape" in facts.with_items or "call" in facts.functions):
            return False
        integer = [c for c in casts if not facts.api_names(ast_argument(c, "dtype", 1)).isdisjoint(INTEGER_DTYPES)]
        if not integer:
            return False
        # the float cast's value is the integer cast itself, or a name assigned one (`_integer_casts`)
        for cast in casts:
            if facts.api_names(ast_argument(cast, "dtype", 1)).isdisjoint(FLOAT_DTYPES):
                continue
            value = ast_argument(cast, "x", 0)
            if any(value is c for c in integer):
                return True
            if type(value) is ast.Name and any(v is c for v in facts.bound.get(value.id, ()) for c in integer):
                return True
        return False

    def __init__(self, context) -> None:
        super().__init__(context)
        # name -> (the assignment `name = tf.cast(value, <int>)`, the cast call) for single-target assignments
        self._integer_casts: dict[str, tuple[cst.Assign, cst.Call]] = {}
        self._enclosing_casts: list[dict[str, tuple[cst.Assign, cst.Call]]] = []  # one per enclosing function
        self.flow = Flow(self)
        self.values = StaticValues(self)

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
        original = self._cast_to(inner, INTEGER_DTYPES)
        if original is not None:  # tf.cast(tf.cast(x, tf.int32), tf.float32)
            if not self._on_gradient_path(node, inner, original):
                return
            self.report(
                node,
                "cast to an integer dtype and back to float on the way from the variables to the differentiated "
                "loss: the gradient through this value is None",
                rewrite=Rewrite.replace("Remove the cast to an integer dtype", {inner: original}, unsafe=True),
            )
            return
        if m.matches(inner, m.Name()) and inner.value in self._integer_casts:  # type: ignore[union-attr]
            assign, int_cast = self._integer_casts[inner.value]  # type: ignore[union-attr]
            value = self._cast_to(int_cast, INTEGER_DTYPES)
            if value is None or not self._reaches(assign, node) or not self._on_gradient_path(node, int_cast, value):
                return
            self.report(
                node,
                f"`{inner.value}` was cast to an integer dtype on the way from the variables to the differentiated "  # type: ignore[union-attr]
                "loss; casting it back to float does not restore the gradient, which is None",
                rewrite=self._named_fix(assign, int_cast, value, inner),  # type: ignore[arg-type]
            )

    def _named_fix(self, assign: cst.Assign, int_cast: cst.Call, value: cst.BaseExpression, use: cst.Name):
        """Drop the cast to an integer (the cast back then casts the float value, keeping its dtype); only when
        the integer name has no other use, which would then see a float. `w = tf.cast(w, tf.int32)` is removed
        rather than left as `w = w`."""
        target = assign.targets[0].target
        references = [
            access.node
            for assignment in assignments_of(self, target)  # type: ignore[arg-type]
            if assignment.node is target
            for access in assignment.references
        ]
        if references != [use]:
            return None
        if m.matches(value, m.Name(target.value)):  # type: ignore[attr-defined]
            line = self.parent(assign)
            if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
                return None
            return Rewrite.replace("Remove the cast to an integer dtype", {line: cst.RemovalSentinel.REMOVE}, unsafe=True)
        return Rewrite.replace("Remove the cast to an integer dtype", {int_cast: value}, unsafe=True)

    # --- is there a gradient through it? ------------------------------------------------------------------------
    def _on_gradient_path(self, cast_back: cst.Call, int_cast: cst.Call, value: cst.BaseExpression) -> bool:
        """Never for a value that is an integer already (`tf.argmax(...)`, a known int dtype). Otherwise: The round trip lies between the variables and a differentiated loss: inside a `GradientTape` block,
        cast from a value computed from the tape's sources and on the way to a gradient's target; or in the
        `call` of a Keras layer or model, cast from a value computed from its sub-layers or weights and on the
        way to what `call` returns."""
        if known_not_float(self, self.values, value):
            return False
        for ancestor in self.ancestors(cast_back):
            if self.is_call_to(ancestor, "tf.stop_gradient"):
                return False  # a straight-through estimator: the gradient goes around the rounding on purpose
            if isinstance(ancestor, (cst.Lambda, cst.ClassDef)):
                return False
            if isinstance(ancestor, cst.FunctionDef):
                return self._in_keras_call(ancestor, cast_back, value)
            if isinstance(ancestor, cst.With) and any(self.is_call_to(i.item, "tf.GradientTape") for i in ancestor.items):
                if any(a is ancestor for a in self.ancestors(int_cast)):
                    return self._in_tape(ancestor, cast_back, value)
                return False
        return False

    def _in_tape(self, with_node: cst.With, cast_back: cst.Call, value: cst.BaseExpression) -> bool:
        owner = self.parent(with_node)
        for tape in tapes_in(self, owner):  # type: ignore[arg-type]
            if tape.with_node is not with_node or not tape.gradients:
                continue
            dependence = tape_dependence(self, self.flow, tape)
            needed = set().union(*(self.flow.reads(g.target) for g in tape.gradients))
            on_path, _ = self.flow.backward_slice(tape.body, needed)
            index = _statement_index(self, tape.body, cast_back)
            if index in on_path and dependence.depends(value, dependence.taint(tape.body)):
                return True
        return False

    def _in_keras_call(self, function: cst.FunctionDef, cast_back: cst.Call, value: cst.BaseExpression) -> bool:
        cls = self.parent(self.parent(function))  # FunctionDef -> IndentedBlock -> ClassDef
        if function.name.value != "call" or not isinstance(cls, cst.ClassDef):
            return False
        if not any(any(n.startswith("keras.") for n in self.api_names(base.value)) for base in cls.bases):
            return False
        if not isinstance(function.body, cst.IndentedBlock):
            return False
        body = function.body.body
        returns = [r for r in m.findall(function.body, m.Return()) if _own_return(self, r, function)]
        needed = set().union(*(self.flow.reads(r) for r in returns)) if returns else set()
        on_path, _ = self.flow.backward_slice(body, needed)
        on_path = set(on_path) | {i for i, s in enumerate(body) if any(self._holds(s, r) for r in returns)}
        dependence = Dependence(self, self.flow, set(), {"self"}, cast_back)
        index = _statement_index(self, body, cast_back)
        return index in on_path and dependence.depends(value, dependence.taint(body))

    def _holds(self, statement: cst.CSTNode, node: cst.CSTNode) -> bool:
        return node is statement or any(a is statement for a in self.ancestors(node))


def _statement_index(rule, block, node: cst.CSTNode) -> int | None:
    """The index in `block` of the statement holding `node`."""
    ids = {id(s): i for i, s in enumerate(block)}
    for ancestor in rule.ancestors(node):
        if id(ancestor) in ids:
            return ids[id(ancestor)]
    return None


def _own_return(rule, node: cst.CSTNode, function: cst.FunctionDef) -> bool:
    """`node` returns from `function`, not from a function nested in it."""
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
            return ancestor is function
    return False
