"""TFX501: `tf.Variable` inside a TF1 variable scope that is meant to share variables.

## What it does

Reported only where this module shows that the same variable-making code runs twice under one scope name
with a reusing scope in effect the second time (or where a TFX502 lookup asks the store for the variable):

- a loop that re-enters one scope with reuse (`for i in range(n): with tf.variable_scope(
  tf.get_variable_scope(), reuse=i > 0): tower(...)`, AUTO_REUSE, True, `scope.reuse_variables()` in it);
- two calls of the builder function (or method, or `__call__` of one object) under the same scope names, not
  alternatives of one `if`, the later one reusing: `discriminator(fake, reuse=True)` after
  `discriminator(real)`, `scope.reuse_variables()` between the calls, an AUTO_REUSE/True scope in the
  builder or around the calls.

Not reported: a builder run once per scope, also under AUTO_REUSE (per-collector state such as
tensor2tensor's `_define_collect(..., "ppo_train")` / `(..., "ppo_eval")`: each must keep its own variable);
a builder whose `reuse` comes from callers this module does not show (a model class instantiated elsewhere:
sketch-rnn's training-only `global_step` is made only by the non-reusing training model); scope names that
differ between runs (`'tower_%d' % i`). TF2 code is never touched: in eager code, `tf.Module` and Keras
layers `tf.Variable` is the right way to make a variable.

## Why is this bad?

In TF1 graph code, variable sharing goes through the variable store: `tf.get_variable(name, ...)` under
`tf.variable_scope(..., reuse=True)` (or `reuse=tf.AUTO_REUSE`, or after `scope.reuse_variables()`) returns
the variable made by the first call. `tf.Variable(...)` never enters that store: under a reusing scope it
silently makes a new variable every time. A GAN whose `discriminator(real)` and `discriminator(fake,
reuse=True)` build their weights with `tf.Variable` trains two discriminators, a multi-GPU tower loop under
`reuse=i > 0` trains one model per GPU: nothing fails, the trainable-variable count is just too large.
And `tf.get_variable("scope/w")` cannot find such a variable at all (TFX502).

## Measured TensorFlow behaviour

The fixtures print the trainable-variable count: too large before the fix, one set of variables after it.
tf.get_variable takes the shape and dtype of an initial value passed as `initializer=` (measured).

## Fix safety

The fix writes the variable as the scope expects:

    w = tf.Variable(tf.random_normal([784, 256], stddev=0.02), name="w")
    w = tf.get_variable("w", shape=[784, 256], initializer=tf.random_normal_initializer(stddev=0.02))

The name is `name=`, else the assignment target (`w = ...`, `self.w = ...`, `weights['h1'] = ...`, a dict
entry `'h1': ...`); `tf.random.normal`/`random_normal`, `truncated_normal`, `random_uniform`, `zeros`, `ones`,
`constant`, `fill` become the matching initializer with the op's shape and dtype (`tf.constant(0)` stays
int32); literal NumPy arrays become `tf.constant_initializer(array)` with their shape and NumPy's dtype; any
other initial value (a tensor, an array, a number) is passed as `initializer=` and tf.get_variable takes its
shape and dtype from it. `trainable`, `collections`, `validate_shape`, `caching_device`,
`constraint` are kept.

The fix is unsafe: it changes which variables exist (that is the point: shared instead of duplicated), the
variables' names where `name=` was not given (checkpoints written before do not restore), and the random
draw of their initial values. No fix is offered where the conversion could break the program: two
variables of one name in one scope, a variable made in a loop, a builder called twice in one scope, an
initial value given as a function, arguments tf.get_variable does not take.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from tffix.ast_facts import Facts
from tffix.names import leaves
from tffix.rule import Fix, Invalid, Rewrite, Rule, Severity, Valid

from ._cst_utils import in_loop_below, line_of
from ._graph import GRAPH_EVIDENCE, GraphFacts, ModuleIndex, calls_of
from ._tf1_variables import (
    convert_variable,
    in_keras_or_module_class,
    reuses_variables,
    scope_region,
    scoped_functions,
    under_variable_scope,
    variable_lookups,
    variable_name,
)
from ._variable_reuse import repeats_under_reuse

from .tfx502_get_variable_lookup_of_variable import GET_VARIABLE_WITHOUT_INITIALIZER, VARIABLE_STORE_REUSE


class VariableInsteadOfGetVariable(Rule):
    """`tf.Variable` under a reusing `tf.variable_scope` makes a new variable on every call instead of
    sharing one; `tf.get_variable` shares it."""

    code = "TFX501"
    name = "variable-instead-of-get-variable"
    summary = "tf.Variable ignores variable_scope reuse: shared layers silently get duplicate weights"
    explains = (GET_VARIABLE_WITHOUT_INITIALIZER, VARIABLE_STORE_REUSE)
    fix = Fix.sometimes("unsafe")
    severity = Severity.WARNING
    triggers = ("Variable",)
    # It reports at the variable, only in graph code under a scope.
    anchors = leaves("tf.Variable") | GRAPH_EVIDENCE

    VALID = (
        Valid(
            "import tensorflow as tf\n"
            "class Dense(tf.Module):\n"
            "    def __init__(self):\n"
            "        self.w = tf.Variable(tf.random.normal([3, 2]))\n"
        ),
        Valid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "def dense(x, reuse=False):\n"
            "    with tf.variable_scope('dense', reuse=reuse):\n"
            "        w = tf.get_variable('w', shape=[3, 2], initializer=tf.random_normal_initializer())\n"
            "        return tf.matmul(x, w)\n"
        ),
        Valid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.variable_scope('train'):\n"
            "    global_step = tf.Variable(0, trainable=False, name='global_step')\n"
        ),
        Valid(  # one builder, one run per scope name: each collector keeps its own flag
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "def collect(scope):\n"
            "    with tf.variable_scope(scope, reuse=tf.AUTO_REUSE):\n"
            "        return tf.Variable(True, trainable=False)\n"
            "train_flag, eval_flag = collect('ppo_train'), collect('ppo_eval')\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "def discriminator(x, reuse=False):\n"
            "    with tf.variable_scope('disc', reuse=reuse):\n"
            "        w = tf.Variable(tf.random_normal([784, 1], stddev=0.02), name='w')\n"
            "        b = tf.Variable(tf.zeros([1]))\n"
            "        return tf.matmul(x, w) + b\n"
            "d_real = discriminator(real)\n"
            "d_fake = discriminator(fake, reuse=True)\n",
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "def discriminator(x, reuse=False):\n"
            "    with tf.variable_scope('disc', reuse=reuse):\n"
            "        w = tf.get_variable('w', shape=[784, 1], initializer=tf.random_normal_initializer(stddev=0.02))\n"
            "        b = tf.get_variable('b', shape=[1], initializer=tf.zeros_initializer())\n"
            "        return tf.matmul(x, w) + b\n"
            "d_real = discriminator(real)\n"
            "d_fake = discriminator(fake, reuse=True)\n",
            unsafe=True,
        ),
        Invalid(
            "import numpy as np\n"
            "import tensorflow as tf\n"
            "def net(x):\n"
            "    weights = {'h1': tf.Variable(np.array([[1.0, 2.0]]))}\n"
            "    bias = tf.Variable(tf.constant(0, shape=[2]))\n"
            "    return tf.matmul(x, weights['h1'])\n"
            "with tf.variable_scope('siamese') as scope:\n"
            "    a = net(x1)\n"
            "    scope.reuse_variables()\n"
            "    b = net(x2)\n",
            "import numpy as np\n"
            "import tensorflow as tf\n"
            "def net(x):\n"
            "    weights = {'h1': tf.get_variable('h1', shape=[1, 2], initializer=tf.constant_initializer("
            "np.array([[1.0, 2.0]])), dtype=tf.float64)}\n"
            "    bias = tf.get_variable('bias', shape=[2], initializer=tf.constant_initializer(0), dtype=tf.int32)\n"
            "    return tf.matmul(x, weights['h1'])\n"
            "with tf.variable_scope('siamese') as scope:\n"
            "    a = net(x1)\n"
            "    scope.reuse_variables()\n"
            "    b = net(x2)\n",
            unsafe=True,
        ),
        Invalid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "def layer(x):\n"
            "    w = tf.Variable(tf.ones([2, 2]))\n"
            "    return tf.matmul(x, w)\n"
            "with tf.variable_scope('model', reuse=tf.AUTO_REUSE):\n"
            "    y = layer(layer(x))\n",
            None,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a `tf.Variable` call that runs under a `with tf.variable_scope(...)` block."""
        return facts.called("tf.Variable") and "tf.variable_scope" in facts.with_items

    def visit_Module(self, node: cst.Module) -> None:
        facts = GraphFacts.of(self, node)
        if not facts.tf1_graph:
            return
        scoped = scoped_functions(self, node)
        looked_up = {
            id(lookup.creation.call): lookup.call for lookup in variable_lookups(self, node, scoped) if lookup.creation.by_variable
        }
        if not looked_up and not reuses_variables(self, node):
            return
        variables = [
            call
            for call in _variable_calls(self, node)
            if under_variable_scope(self, call, scoped) and not in_keras_or_module_class(self, call)
        ]
        for call in variables:
            name, _ = variable_name(self, call)
            message = f"tf.Variable{f' {name!r}' if name else ''} runs under a tf.variable_scope but never enters the variable store: "
            if id(call) in looked_up:
                message += f"tf.get_variable cannot find it (line {line_of(self, looked_up[id(call)])})"
            elif repeats_under_reuse(self, node, call):
                message += "this code runs again under a reusing scope (reuse=True, AUTO_REUSE, reuse_variables()), "
                message += "which makes a new variable instead of sharing the first"
            else:
                continue  # runs once per scope, as far as this module shows: nothing is shared, nothing duplicated
            problem = self._why_not_fixable(call, name, variables, scoped, node)
            conversion = convert_variable(self, facts, call) if problem is None else None
            if conversion is not None and conversion.code is not None:
                new = facts.parse_expression(conversion.code)
                self.report(
                    call,
                    message,
                    rewrite=Rewrite.replace("Make it a tf.get_variable of the scope", {call: new}, unsafe=True),
                )
            else:
                reason = problem or (conversion.reason if conversion else "")
                self.report(call, f"{message} (no automatic fix: {reason})")

    def _why_not_fixable(self, call, name, variables, scoped, module) -> str | None:
        region = scope_region(self, call)
        if region is None:
            return "not in a function or scope block"
        if in_loop_below(self, call, region):
            return "made in a loop: one name would be created several times"
        same_region = [v for v in variables if scope_region(self, v) is region and variable_name(self, v)[0] == name]
        if name is not None and len(same_region) > 1:
            return f"two variables named {name!r} in one scope"
        if isinstance(region, cst.FunctionDef) and not _called_once_per_scope(self, module, region, scoped, 0):
            return f"{region.name.value}() is called more than once in one scope"
        return None


def _variable_calls(rule: Rule, module: cst.Module) -> list[cst.Call]:
    return [c for c in ModuleIndex.of(rule).calls if rule.is_call_to(c, "tf.Variable")]


def _called_once_per_scope(rule: Rule, module, function: cst.FunctionDef, scoped, depth: int) -> bool:
    """Each call of `function` makes its variables once in its scope block: it is the only call there, or
    `scope.reuse_variables()` comes between the calls (the siamese-network pattern)."""
    if depth > 3:
        return False
    by_region: dict[int, list[int]] = {}
    for call in calls_of(rule, function):
        region = scope_region(rule, call)
        if region is None or in_loop_below(rule, call, region):
            return False
        by_region.setdefault(id(region), []).append(line_of(rule, call))
        if isinstance(region, cst.FunctionDef) and region in scoped:
            if not _called_once_per_scope(rule, module, region, scoped, depth + 1):
                return False
    switches = [
        (id(scope_region(rule, c)), line_of(rule, c))
        for c in ModuleIndex.of(rule).calls
        if m.matches(c.func, m.Attribute(attr=m.Name("reuse_variables")))
    ]
    for region, lines in by_region.items():
        lines.sort()
        for first, second in zip(lines, lines[1:]):
            if not any(r == region and first < line < second for r, line in switches):
                return False
    return True
