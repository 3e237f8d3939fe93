"""TFX103: a tensor made under one `tf.device` block is used by ops pinned to another device (TF1 graph).

## What it does

Reports a tensor made under one device and read under another, and makes the copy between them explicit.
What counts: a name assigned from a TensorFlow op (or an operator on tensors, or a function of this module
that returns one value) inside a `with tf.device(A):` block, then read as an operand of a TensorFlow op, an
operator, or a call of this module's functions inside a `with tf.device(B):` block of the same function.
Variables (`tf.Variable`, `tf.get_variable`) are not tensors here: variables on one device read by towers
on others is the parameter-server layout, and each read is already an explicit op. Computed devices are
compared as far as the code tells: `'/cpu:0'` and `'/gpu:%d' % i` differ; two uses of the same `'/gpu:%d' % i`
in one loop are the same device; `'/gpu:%d' % i` and `'/gpu:0'` cannot be told apart statically: that use
is reported without a fix (a multi-GPU tower loop reading a tensor made by another tower).

Hence severity WARNING, and the rule is not in the default selection (`default_selected = False`): nothing
fails; it is a readability and profiling aid that runs where asked for, by `select = ["TFX103"]` or from the
editor's `refactor.rewrite` code action on a `with tf.device(...)` block.

## Why is this bad?

This is NOT an error, and the fix changes no result. What the rule offers is clarity: the copy between
devices is where multi-GPU programs spend their time and memory, and in the graph it is invisible. Much
online advice calling this an error is wrong.

## Measured TensorFlow behaviour

Measured with tensorflow-cpu 2.21 on two logical devices (docs/tensorflow-behaviour.md, "Device placement";
probe device_cross_two_cpus.py): a tensor produced under `/cpu:0` and consumed under `/cpu:1` runs, because
TensorFlow's graph partitioner inserts the Send/Recv pair itself, once per tensor and destination device.

## Fix safety

The fix creates the copy explicitly, under the consumer's device:

    with tf.device('/gpu:1'):
        gen_output_gpu1 = tf.identity(gen_output, name='gen_output_to_gpu1')
        disc_output = tf.matmul(gen_output_gpu1, disc_w1)

once per tensor and device; later uses on that device reuse it (also in a later block on the same device).
The values computed are the same (the fixtures run both versions on two emulated devices with fixed seeds
and compare), and the transfer now has a name in TensorBoard, the profiler and device-placement logs.
Its fix is safe: the identity copies the value the consumer read anyway, on the device the consumer reads it
on (fixtures compare outputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from tffix.names import leaves
from tffix.parents import children
from tffix.ast_facts import Facts
from tffix.rule import Fix, Invalid, Rewrite, Rule, Severity, Valid

from ._cst_utils import fresh_name, insert_before, line_of, statement_of
from ._devices import Device, device_at
from ._graph import GRAPH_EVIDENCE, GraphFacts

# TensorFlow calls whose result is not one tensor (lists, variables, objects, context managers).
_NOT_A_TENSOR = frozenset(
    {
        "tf.Variable", "tf.get_variable", "tf.split", "tf.unstack", "tf.meshgrid", "tf.gradients",
        "tf.trainable_variables", "tf.global_variables", "tf.get_collection", "tf.while_loop", "tf.cond",
        "tf.py_func", "tf.numpy_function", "tf.py_function", "tf.group", "tf.tuple", "tf.device",
        "tf.variable_scope", "tf.name_scope", "tf.ConfigProto", "tf.Session", "tf.identity_n",
        "tf.global_variables_initializer", "tf.local_variables_initializer", "tf.no_op", "tf.assign",
    }
)
_NOT_A_TENSOR_PREFIXES = ("tf.train.", "tf.data.", "tf.summary.", "tf.saved_model.", "tf.io.", "tf.config.",
                          "tf.distribute.", "tf.estimator.", "tf.keras.", "tf.initializers.", "tf.compat.")
_OPERATORS = (cst.BinaryOperation, cst.UnaryOperation, cst.Comparison, cst.ComparisonTarget)


@dataclass
class _Made:
    device: Device
    node: cst.CSTNode  # the assignment


@dataclass
class _State:
    """What is known, in source order, inside one function body."""

    tensors: dict[str, _Made] = field(default_factory=dict)
    identities: dict[tuple[str, str], str] = field(default_factory=dict)  # (tensor, device key) -> variable
    handled: set[int] = field(default_factory=set)  # ids of Name uses already covered by a report


def _key(device: Device) -> str:
    return f"computed {device.source}" if device.dynamic else device.pretty


def _shown(device: Device) -> str:
    """The device for a message: as TensorFlow names it, or the code that computes it."""
    return f"`{device.source}`" if device.dynamic and device.source else device.pretty


class CrossDeviceTensorUse(Rule):
    """A tensor made on one device and consumed by ops pinned to another. TensorFlow inserts the transfer
    itself (this runs); the fix makes the transfer an explicit, named `tf.identity` on the consumer's device."""

    code = "TFX103"
    name = "cross-device-tensor-use"
    summary = "A tensor crosses devices implicitly; make the transfer an explicit tf.identity (same results)"
    fix = Fix.sometimes("safe")
    severity = Severity.WARNING
    # It reports no bug: a refactoring run only where asked for, by `select = ["TFX103"]` (prefixes leave it
    # out), or from the editor's refactor.rewrite code action on a device block.
    default_selected = False
    triggers = ("device",)
    # It reports uses under pins, and only in graph code.
    anchors = leaves("tf.device") | GRAPH_EVIDENCE

    VALID = (
        Valid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.device('/gpu:0'):\n"
            "    h = tf.matmul(x, w1)\n"
            "with tf.device('/gpu:1'):\n"
            "    h_gpu1 = tf.identity(h, name='h_to_gpu1')\n"
            "    y = tf.matmul(h_gpu1, w2)\n"
        ),
        Valid(
            "import tensorflow as tf\n"
            "with tf.device('/cpu:0'):\n"
            "    h = tf.matmul(x, w1)\n"
            "with tf.device('/gpu:0'):\n"
            "    y = tf.matmul(h, w2)\n"
        ),
        Valid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.device('/gpu:0'):\n"
            "    h = tf.matmul(x, w1)\n"
            "with tf.device('/device:GPU:0'):\n"
            "    y = tf.matmul(h, w2)\n"
            "print(h.shape)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.device('/gpu:0'):\n"
            "    h = tf.nn.relu(tf.matmul(x, w1))\n"
            "with tf.device('/gpu:1'):\n"
            "    y = tf.matmul(h, w2)\n"
            "    s = tf.reduce_sum(h)\n",
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.device('/gpu:0'):\n"
            "    h = tf.nn.relu(tf.matmul(x, w1))\n"
            "with tf.device('/gpu:1'):\n"
            "    h_gpu1 = tf.identity(h, name='h_to_gpu1')\n"
            "    y = tf.matmul(h_gpu1, w2)\n"
            "    s = tf.reduce_sum(h_gpu1)\n",
        ),
        Invalid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.device('/cpu:0'):\n"
            "    images = tf.random.normal([8, 4])\n"
            "for i in range(2):\n"
            "    with tf.device('/gpu:%d' % i):\n"
            "        logits = tf.layers.dense(images, 3)\n",
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.device('/cpu:0'):\n"
            "    images = tf.random.normal([8, 4])\n"
            "for i in range(2):\n"
            "    with tf.device('/gpu:%d' % i):\n"
            "        images_gpu = tf.identity(images, name='images_to_gpu')\n"
            "        logits = tf.layers.dense(images_gpu, 3)\n",
        ),
        Invalid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "for i in range(2):\n"
            "    with tf.device('/gpu:%d' % i):\n"
            "        h = tf.layers.dense(x, 3)\n"
            "with tf.device('/gpu:0'):\n"
            "    y = h * 2\n",
            None,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a tensor used under a `with tf.device(...)` block other than the one that made it."""
        return "tf.device" in facts.with_items

    def __init__(self, context) -> None:
        super().__init__(context)
        self._facts: GraphFacts | None = None
        self._local_functions: dict[str, cst.FunctionDef] = {}
        self._names: set[str] = set()

    def visit_Module(self, node: cst.Module) -> None:
        facts = GraphFacts.of(self, node)
        if not facts.tf1_graph or facts.v1_prefix is None:
            return
        self._facts = facts
        for found in m.findall(node, m.FunctionDef() | m.Name()):
            if isinstance(found, cst.FunctionDef):
                self._local_functions[found.name.value] = found
            else:
                self._names.add(found.value)  # type: ignore[union-attr]
        self._body(node.body, _State())

    # --- walking statements in order ---------------------------------------------------------------------------
    def _body(self, statements, state: _State) -> None:
        for statement in statements:
            self._statement(statement, state)

    def _statement(self, statement: cst.CSTNode, state: _State) -> None:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            self._body(statement.body.body, _State())  # type: ignore[union-attr]
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                self._small(small, state)
        elif isinstance(statement, cst.With):
            for item in statement.items:
                self._uses(item.item, state)
                if item.asname is not None:
                    self._unbind(item.asname.name, state)
            self._body(statement.body.body, state)  # type: ignore[union-attr]
        elif isinstance(statement, (cst.If, cst.For, cst.While, cst.Try)):
            self._compound(statement, state)
        elif isinstance(statement, cst.IndentedBlock):
            self._body(statement.body, state)

    def _compound(self, statement: cst.BaseCompoundStatement, state: _State) -> None:
        """An if/for/while/try: identities made inside are not visible after it (they may not have run)."""
        for header in ("test", "iter"):
            if getattr(statement, header, None) is not None:
                self._uses(getattr(statement, header), state)
        if isinstance(statement, cst.For):
            self._unbind(statement.target, state)
        before = dict(state.identities)
        for child in children(statement):
            if isinstance(child, (cst.IndentedBlock, cst.Else, cst.If, cst.ExceptHandler, cst.Finally)):
                self._statement(child.body if not isinstance(child, (cst.IndentedBlock, cst.If)) else child, state)
        state.identities = {k: v for k, v in state.identities.items() if before.get(k) == v}

    def _small(self, small: cst.BaseSmallStatement, state: _State) -> None:
        if isinstance(small, cst.Assign):
            self._uses(small.value, state)
            for target in small.targets:
                self._bind(target.target, small.value, small, state)
        elif isinstance(small, (cst.AugAssign, cst.AnnAssign)):
            if small.value is not None:
                self._uses(small.value, state)
            self._unbind(small.target, state)
        else:
            self._uses(small, state)

    # --- bindings ----------------------------------------------------------------------------------------------
    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression, assign: cst.Assign, state: _State) -> None:
        self._unbind(target, state)
        if not isinstance(target, cst.Name):
            return
        if isinstance(value, cst.Name) and value.value in state.tensors:
            state.tensors[target.value] = state.tensors[value.value]  # an alias: the same tensor, wherever
            return
        device, _ = device_at(self, assign)
        if device is None:
            return
        if self.is_call_to(value, "tf.identity") and value.args and isinstance(value.args[0].value, cst.Name):  # type: ignore[union-attr]
            state.identities[(value.args[0].value.value, _key(device))] = target.value  # type: ignore[union-attr]
        if self._is_tensor(value, state):
            state.tensors[target.value] = _Made(device, assign)

    def _unbind(self, target: cst.BaseExpression, state: _State) -> None:
        for name in m.findall(target, m.Name()):
            value = name.value  # type: ignore[union-attr]
            state.tensors.pop(value, None)
            state.identities = {k: v for k, v in state.identities.items() if value not in (k[0], v)}

    def _is_tensor(self, value: cst.BaseExpression, state: _State) -> bool:
        if isinstance(value, cst.Call):
            names = self.api_names(value.func)
            if names:
                return any(
                    n.startswith("tf.") and n not in _NOT_A_TENSOR and not n.startswith(_NOT_A_TENSOR_PREFIXES)
                    for n in names
                )
            return isinstance(value.func, cst.Name) and self._returns_one_value(value.func.value)
        if isinstance(value, (cst.BinaryOperation, cst.UnaryOperation)):
            operands = (value.left, value.right) if isinstance(value, cst.BinaryOperation) else (value.expression,)
            return any(
                (isinstance(o, cst.Name) and o.value in state.tensors) or self._is_tensor(o, state) for o in operands
            )
        if isinstance(value, cst.Subscript):
            return isinstance(value.value, cst.Name) and value.value.value in state.tensors
        return False

    def _returns_one_value(self, function_name: str) -> bool:
        function = self._local_functions.get(function_name)
        if function is None:
            return False
        returns = [r for r in m.findall(function.body, m.Return()) if isinstance(r, cst.Return)]
        return bool(returns) and all(
            r.value is not None and not isinstance(r.value, (cst.Tuple, cst.List, cst.Dict)) for r in returns
        )

    # --- uses --------------------------------------------------------------------------------------------------
    def _uses(self, expression: cst.CSTNode, state: _State) -> None:
        for name in _names_in(expression):
            made = state.tensors.get(name.value)
            if made is None or id(name) in state.handled or not self._consumes(name):
                continue
            device, block = device_at(self, name)
            if device is None or block is None:
                continue
            relation = made.device.relation(device)
            if relation != "same":
                self._report(name, made, device, relation, state)

    def _consumes(self, name: cst.Name) -> bool:
        """The read of `name` is an input of an op created here (not an alias, a print, an attribute...)."""
        child: cst.CSTNode = name
        for ancestor in self.ancestors(name):
            if isinstance(ancestor, (cst.Arg, cst.Element, cst.List, cst.Tuple, cst.StarredElement)):
                child = ancestor
                continue
            if isinstance(ancestor, cst.Call):
                if not isinstance(child, cst.Arg):
                    return False
                if self.is_call_to(ancestor, "tf.identity") and ancestor.args and ancestor.args[0] is child:
                    return False  # already the explicit transfer
                names = self.api_names(ancestor.func)
                if names:
                    return any(n.startswith("tf.") for n in names)
                return isinstance(ancestor.func, cst.Name) and ancestor.func.value in self._local_functions
            if isinstance(ancestor, _OPERATORS):
                return True
            return isinstance(ancestor, cst.Subscript) and ancestor.value is child
        return False

    def _report(self, use: cst.Name, made: _Made, device: Device, relation: str, state: _State) -> None:
        facts = self._facts
        assert facts is not None
        tensor = use.value
        message = (
            f"`{tensor}` is made on {_shown(made.device)} (line {line_of(self, made.node)}) and used here on "
            f"{_shown(device)}: TensorFlow copies it across on its own, so this runs; "
        )
        if relation == "unknown":
            state.handled.add(id(use))
            self.report(use, message + "the devices are computed and may differ; no fix is offered")
            return
        existing = state.identities.get((tensor, _key(device)))
        statement = statement_of(self, use)
        uses = self._region(use, statement, device, state) if statement is not None else None
        if uses is None:
            state.handled.add(id(use))
            self.report(use, message + "make the transfer explicit with tf.identity under the consumer's device")
            return
        state.handled.update(id(u) for u in uses)
        variable = existing or fresh_name(f"{tensor}_{device.tag}", self._names)
        changes: dict[cst.CSTNode, object] = {u: cst.Name(variable) for u in uses}
        if existing is None:
            op_name = facts.string(f"{tensor}_to_{device.tag}")
            copy = facts.parse_statement(f"{variable} = {facts.v1_prefix}.identity({tensor}, name={op_name})\n")
            changes[statement] = insert_before([copy])  # type: ignore[index]
            state.identities[(tensor, _key(device))] = variable
        self.report(
            use,
            message + f"the fix makes the transfer an explicit tf.identity on {device.pretty} (same results)",
            rewrite=Rewrite.replace("Make the transfer explicit with tf.identity", changes),  # type: ignore[arg-type]
        )

    def _region(self, use: cst.Name, statement: cst.BaseStatement, device: Device, state: _State):
        """The reads of the same tensor on the same device from `statement` on in its block, up to the first
        rebinding of the name; None when a rebinding hides in a nested block (no simple fix then)."""
        body = self.parent(statement)
        siblings = list(body.body) if isinstance(body, (cst.IndentedBlock, cst.Module)) else [statement]
        uses: list[cst.Name] = []
        for sibling in siblings[siblings.index(statement):]:
            for name in _names_in(sibling):
                if name.value != use.value or id(name) in state.handled or not self._consumes(name):
                    continue
                here, _ = device_at(self, name)
                if here is not None and _key(here) == _key(device):
                    uses.append(name)
            if _binds(sibling, use.value):
                if not isinstance(sibling, cst.SimpleStatementLine):
                    return None
                break
        return uses if use in uses else None



def _names_in(node: cst.CSTNode):
    """Name reads under `node` in source order, not looking into nested functions, lambdas or classes."""
    if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
        return
    if isinstance(node, cst.Name):
        yield node
        return
    if isinstance(node, cst.Attribute):
        yield from _names_in(node.value)
        return
    if isinstance(node, cst.Arg):
        yield from _names_in(node.value)
        return
    if isinstance(node, cst.AssignTarget):
        return
    for child in children(node):
        yield from _names_in(child)


def _binds(statement: cst.CSTNode, name: str) -> bool:
    targets = m.findall(
        statement,
        m.AssignTarget(target=m.Name(name)) | m.AugAssign(target=m.Name(name)) | m.For(target=m.Name(name))
        | m.AsName(name=m.Name(name)) | m.AnnAssign(target=m.Name(name)),
    )
    return bool(targets)
