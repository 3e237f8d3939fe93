"""TFX502: `tf.get_variable("scope/name")` looks up a variable that the variable store cannot give back.

## What it does

Reports a `tf.get_variable` call with a name only (no shape, no initializer), which can only return an
existing variable of the variable store, where the variable was made by `tf.Variable`, or was made by
`tf.get_variable` and the lookup runs without reuse. The latter is reported only where the module shows that
no reusing scope is in effect: the lookup is top-level code, or every call of its function here (at least
one) runs outside reusing scopes; a function called only from elsewhere, or under `reuse=<parameter>`, may
well run under reuse (then the lookup works).

## Why is this bad?

The lookup raises: `tf.Variable` never enters the store, and a variable of the store is only given back
under reuse.

## Measured TensorFlow behaviour

Measured with tensorflow-cpu 2.21 (docs/tensorflow-behaviour.md, "Device placement"; probe
get_variable_of_tf_variable.py, and this rule's fixtures):

- the variable was made by `tf.Variable(..., name='gen_w1')` under `variable_scope('shared_vars')`:
  `ValueError: Variable shared_vars/gen_w1 did not get an initializer, so its shape argument must be
  specified` (tf.Variable never enters the store), or under a reusing scope `ValueError: Variable
  shared_vars/gen_w1 does not exist, or was not created with tf.get_variable()`;
- the variable was made by `tf.get_variable` (for instance after TFX501's fix) and the lookup runs without
  reuse: `ValueError: Variable shared_vars/gen_w1 already exists, disallowed. Did you mean to set reuse=True`.

## Fix safety

The fix, in order of preference:

1. The Python name the variable was assigned to is visible where the lookup is (same function, or a
   module-level name): the lookup becomes that name. It is the very variable object the lookup meant, so
   this is safe, and it works however the variable was made.
2. Otherwise the lookup runs under a reusing re-entry of the current scope, which keeps its name resolution:

       with tf.variable_scope(tf.get_variable_scope(), reuse=True):
           gen_w1 = tf.get_variable("shared_vars/gen_w1")

   (hoisted before the statement when the lookup is part of a larger expression, so nothing else in that
   statement runs under reuse). For a variable made by tf.get_variable this is safe. For one made by
   tf.Variable it only works once that variable is made by tf.get_variable, so the same fix converts it as
   TFX501 does, and is unsafe like TFX501's.
"""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ScopeProvider

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid

from ._cst_utils import code_of, enclosing_function, fresh_name, insert_before, line_of, statement_of
from ._graph import GRAPH_EVIDENCE, GraphFacts, ModuleIndex, calls_of
from ._tf1_variables import Lookup, assigned_name, convert_variable, reuse_at, scoped_functions, variable_lookups

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
GET_VARIABLE_WITHOUT_INITIALIZER = FailureKind(
    "get-variable-without-initializer", "tf.get_variable looked up a variable that tf.Variable made",
    """`tf.get_variable(name)` looks names up in TF1's variable store, but variables made with
    `tf.Variable` never enter it. So `get_variable` tries to create a new variable of that name and has no
    shape or initializer to create it with.""",
    r"did not get an initializer",
)

VARIABLE_STORE_REUSE = FailureKind(
    "variable-store-reuse", "TF1's variable store refused a tf.get_variable call",
    """`tf.get_variable` serves a name from TF1's variable store only as the enclosing `variable_scope`
    allows: without `reuse` an existing name is refused ("already exists"); with `reuse=True` a missing
    one is ("does not exist"), and variables made with `tf.Variable` never enter the store at all.""",
    r"Variable \S+ already exists, disallowed|Variable \S+ does not exist, or was not created with tf.get_variable",
)


class GetVariableLookupOfVariable(Rule):
    """A name-only `tf.get_variable("scope/name")` of a variable made by `tf.Variable` (or made by
    `tf.get_variable` and looked up without reuse) raises ValueError."""

    code = "TFX502"
    name = "get-variable-lookup-of-variable"
    summary = "tf.get_variable lookup of a variable the store cannot return (made by tf.Variable, or no reuse)"
    explains = (GET_VARIABLE_WITHOUT_INITIALIZER, VARIABLE_STORE_REUSE)
    fix = Fix.sometimes("safe", "unsafe")
    severity = Severity.ERROR
    triggers = ("get_variable",)
    # It reports at the lookup, only in graph code.
    anchors = leaves("tf.get_variable", "tf.Variable") | GRAPH_EVIDENCE

    VALID = (
        Valid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.variable_scope('enc'):\n"
            "    w = tf.get_variable('w', shape=[2, 2])\n"
            "with tf.variable_scope('enc', reuse=True):\n"
            "    w_again = tf.get_variable('w')\n"
        ),
        Valid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "w = tf.get_variable('w', shape=[2, 2])\n"
            "tf.get_variable_scope().reuse_variables()\n"
            "w_again = tf.get_variable('w')\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.variable_scope('shared_vars'):\n"
            "    gen_w1 = tf.Variable(tf.random.normal([4, 2]), name='gen_w1')\n"
            "out = tf.matmul(x, tf.get_variable('shared_vars/gen_w1'))\n",
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.variable_scope('shared_vars'):\n"
            "    gen_w1 = tf.Variable(tf.random.normal([4, 2]), name='gen_w1')\n"
            "out = tf.matmul(x, gen_w1)\n",
        ),
        Invalid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "def encoder():\n"
            "    with tf.variable_scope('enc'):\n"
            "        w = tf.get_variable('w', shape=[4, 2])\n"
            "def decoder(h):\n"
            "    w = tf.get_variable('enc/w')\n"
            "    return tf.matmul(h, w, transpose_b=True)\n"
            "encoder()\n"
            "y = decoder(tf.ones([1, 2]))\n",
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "def encoder():\n"
            "    with tf.variable_scope('enc'):\n"
            "        w = tf.get_variable('w', shape=[4, 2])\n"
            "def decoder(h):\n"
            "    with tf.variable_scope(tf.get_variable_scope(), reuse=True):\n"
            "        w = tf.get_variable('enc/w')\n"
            "    return tf.matmul(h, w, transpose_b=True)\n"
            "encoder()\n"
            "y = decoder(tf.ones([1, 2]))\n",
        ),
        Invalid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "def encoder():\n"
            "    with tf.variable_scope('enc'):\n"
            "        w = tf.Variable(tf.zeros([4, 2]), name='w')\n"
            "def decoder(h):\n"
            "    return tf.matmul(h, tf.get_variable('enc/w'), transpose_b=True)\n",
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "def encoder():\n"
            "    with tf.variable_scope('enc'):\n"
            "        w = tf.get_variable('w', shape=[4, 2], initializer=tf.zeros_initializer())\n"
            "def decoder(h):\n"
            "    with tf.variable_scope(tf.get_variable_scope(), reuse=True):\n"
            "        w = tf.get_variable('enc/w')\n"
            "    return tf.matmul(h, w, transpose_b=True)\n",
            unsafe=True,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a `tf.get_variable` lookup (a literal name, no shape, no initializer) of a variable the file
        makes with `tf.Variable` or another `tf.get_variable` (`variable_lookups`)."""
        lookups = facts.calls_of("tf.get_variable")
        return (facts.called("tf.Variable") or len(lookups) > 1) and any(
            isinstance(ast_argument(c, "name", 0), ast.Constant)
            and ast_argument(c, "shape", 1) is None and ast_argument(c, "initializer", 3) is None
            for c in lookups
        )

    def visit_Module(self, node: cst.Module) -> None:
        facts = GraphFacts.of(self, node)
        if not facts.tf1_graph:
            return
        reuse_calls = [c for c in ModuleIndex.of(self).calls if m.matches(c.func, m.Attribute(attr=m.Name("reuse_variables")))]
        for lookup in variable_lookups(self, node, scoped_functions(self, node)):
            if lookup.creation.by_variable:
                error = (
                    "does not exist, or was not created with tf.get_variable()" if lookup.reuse
                    else "did not get an initializer, so its shape argument must be specified"
                )
                made = "tf.Variable, which never enters the variable store"
            elif lookup.reuse or not self._runs_without_reuse(node, lookup.call, reuse_calls):
                continue  # finds the variable, or may: a caller this module does not show may reuse
            else:
                error, made = "already exists, disallowed", "tf.get_variable, and no reusing scope is in effect here"
            message = (
                f"tf.get_variable({lookup.full_name!r}) looks up the variable made at line "
                f"{line_of(self, lookup.creation.call)} by {made}: ValueError: Variable {lookup.full_name} {error}"
            )
            self.report(lookup.call, message, rewrite=self._fix(facts, lookup))

    def _runs_without_reuse(self, module: cst.Module, node: cst.CSTNode, reuse_calls: list[cst.Call], depth: int = 0) -> bool:
        """`node` runs with no reusing scope around it, as far as this module shows: it is top-level code, or
        every call of its function here (at least one) runs without one (`reuse=` a parameter counts as one)."""
        function = enclosing_function(self, node)
        if function is None:
            return True
        sites = calls_of(self, function)
        if not sites or depth > 4:
            return False
        return all(
            not reuse_at(self, site, reuse_calls) and self._runs_without_reuse(module, site, reuse_calls, depth + 1)
            for site in sites
        )

    def _fix(self, facts: GraphFacts, lookup: Lookup) -> Rewrite | None:
        binding = self._visible_binding(lookup)
        if binding is not None:
            return Rewrite.replace(f"Use the variable `{binding}` itself", {lookup.call: cst.Name(binding)})
        changes: dict[cst.CSTNode, object] = {}
        if lookup.creation.by_variable:
            conversion = convert_variable(self, facts, lookup.creation.call)
            if conversion.code is None:
                return None
            changes[lookup.creation.call] = facts.parse_expression(conversion.code)
        statement = statement_of(self, lookup.call)
        if statement is None or facts.v1_prefix is None:
            return None
        v1 = facts.v1_prefix
        header = f"with {v1}.variable_scope({v1}.get_variable_scope(), reuse=True):\n"
        whole = cst.matchers.SimpleStatementLine(body=[cst.matchers.Assign(value=cst.matchers.MatchIfTrue(lambda v: v is lookup.call))])
        if cst.matchers.matches(statement, whole):
            changes[statement] = lambda updated: self._wrapped(facts, header, updated)
        else:
            where = enclosing_function(self, lookup.call) or facts.module  # the new name must be free there
            names = {n.value for n in cst.matchers.findall(where, cst.matchers.Name())}  # type: ignore[union-attr]
            variable = fresh_name(lookup.full_name.rsplit("/", 1)[-1], names)
            hoisted = facts.parse_statement(header + f"    {variable} = {code_of(lookup.call)}\n")
            changes[lookup.call] = cst.Name(variable)
            changes[statement] = insert_before([hoisted])
        return Rewrite.replace(
            "Look the variable up under a reusing scope", changes, unsafe=lookup.creation.by_variable  # type: ignore[arg-type]
        )

    def _wrapped(self, facts: GraphFacts, header: str, statement: cst.SimpleStatementLine) -> cst.With:
        block = facts.parse_statement(header + "    pass\n")
        assert isinstance(block, cst.With)
        return block.with_changes(
            leading_lines=statement.leading_lines,
            body=block.body.with_changes(body=[statement.with_changes(leading_lines=())]),
        )

    def _visible_binding(self, lookup: Lookup) -> str | None:
        """The plain name the creating call was assigned to, when that name means the variable at the lookup."""
        creation = lookup.creation.call
        name = assigned_name(self, creation)
        target = self.parent(creation)
        if name is None or not isinstance(target, cst.Assign) or not isinstance(target.targets[0].target, cst.Name):
            return None
        made_in, used_in = enclosing_function(self, creation), enclosing_function(self, lookup.call)
        try:
            scope = self.get_metadata(ScopeProvider, target.targets[0].target)
            use_scope = self.get_metadata(ScopeProvider, lookup.call)
        except KeyError:
            return None
        if scope is None or use_scope is None or len(list(scope.assignments[name])) != 1:
            return None
        if made_in is not used_in and (made_in is not None or name in use_scope.assignments):
            return None  # made in another function, or shadowed where the lookup is
        return name

