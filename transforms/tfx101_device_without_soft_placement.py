"""TFX101: TF1 graph code pins ops to a GPU/TPU and runs them in a Session without soft placement.

In graph mode (`tensorflow.compat.v1` with `disable_v2_behavior()`, or legacy code built around `tf.Session`)
a `with tf.device('/gpu:1'):` block is a hard requirement: on a machine without that device, the first
`sess.run` raises `InvalidArgumentError: Cannot assign a device for operation ...: ... was explicitly assigned
to /device:GPU:1 but available devices are [ .../device:CPU:0 ]` (measured with tensorflow-cpu 2.21:
shared/tf-behaviour.md, "Device placement"; probes device_missing_gpu_graph.py, device_colocated_initializer.py).
The same holds for `/TPU:0`, `/device:GPU:0`, `/job:localhost/replica:0/task:0/device:GPU:0`, any case.

Soft placement lets TensorFlow put such ops on a device that exists, and changes nothing where the device does
exist, so the fix is safe. It is merged into what the code already has:

- `tf.ConfigProto(...)` passed to the session, inline or built in a variable first (`config = tf.ConfigProto();
  config.gpu_options.allow_growth = True; tf.Session(config=config)`): `allow_soft_placement=True` is added to
  that `ConfigProto(...)` call;
- a config made where the code does not show it (a function parameter, an attribute): the line
  `config.allow_soft_placement = True` goes before the session is made;
- no config: `config=tf.ConfigProto(allow_soft_placement=True)` is added to `tf.Session(...)`,
  `tf.InteractiveSession(...)` or `tf.train.MonitoredTrainingSession(...)`;
- no session in the module (the graph is built here and run by a `MonitoredSession`, a `Supervisor`, or
  another module): `tf.config.set_soft_device_placement(True)` after the imports. Measured: that setting
  reaches sessions made without a config (`tf.Session()`, `MonitoredSession()`), but NOT a session given
  an explicit `ConfigProto` (the proto's `allow_soft_placement=False` default wins) nor an
  `InteractiveSession` (it always builds its own config); those are fixed at the session instead.

Explicit `allow_soft_placement=False` (in the proto or as `config.allow_soft_placement = False`) is reported
too, with an unsafe fix that turns it to True: the author asked for strict placement, perhaps to be told when
an op silently falls back to the CPU; overriding that is their call.

Not reported: TF2 eager code (soft placement is on by default there; TFX102 covers turning it off), pins to
`/cpu:N`, pins under `if tf.config.list_physical_devices('GPU'):`-style guards, devices of another job
(`/job:worker/...`: soft placement cannot move an op to another process, measured), and device strings that
the code computes in a way this rule cannot read.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from tffix.names import leaves
from tffix.rule import Invalid, Rewrite, Rule, Severity, Valid, argument

from ._dtypes import with_keyword
from ._graph import (
    GRAPH_EVIDENCE,
    GraphFacts,
    code_of,
    insert_after,
    insert_before,
    line_of,
    pin_text,
    single_assigned_value,
    statement_of,
)

_CONFIG_POSITION = {"tf.Session": 2, "tf.InteractiveSession": 2, "tf.train.MonitoredTrainingSession": 9}
_ERROR = "InvalidArgumentError: Cannot assign a device for operation"


class DeviceWithoutSoftPlacement(Rule):
    """A `tf.device('/gpu:N')` (or TPU) pin in TF1 graph code whose Session has no soft placement fails on
    every machine without that device. Soft placement keeps the pin where the device exists."""

    code = "TFX101"
    name = "device-without-soft-placement"
    summary = "GPU/TPU device pins in a TF1 Session without soft placement raise on machines without the device"
    severity = Severity.ERROR
    triggers = ("device",)
    # It reports at pins and sessions, and only in graph code.
    anchors = leaves("tf.device") | GRAPH_EVIDENCE

    VALID = (
        Valid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.device('/gpu:0'):\n"
            "    y = tf.ones([2]) * 2\n"
            "with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:\n"
            "    sess.run(y)\n"
        ),
        Valid(
            "import tensorflow as tf\n"
            "with tf.device('/gpu:0'):\n"
            "    y = tf.ones([2]) * 2\n"
            "print(y.numpy())\n"
        ),
        Valid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "device = '/gpu:0' if tf.test.is_gpu_available() else '/cpu:0'\n"
            "with tf.device('/cpu:0'):\n"
            "    y = tf.ones([2]) * 2\n"
            "with tf.Session() as sess:\n"
            "    sess.run(y)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.device('/gpu:1'):\n"
            "    y = tf.ones([2]) * 2\n"
            "with tf.Session() as sess:\n"
            "    sess.run(y)\n",
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.device('/gpu:1'):\n"
            "    y = tf.ones([2]) * 2\n"
            "with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:\n"
            "    sess.run(y)\n",
        ),
        Invalid(
            "import tensorflow as tf\n"
            "x = tf.placeholder(tf.float32, [None, 3])\n"
            "with tf.device('/device:GPU:0'):\n"
            "    y = x * 2\n"
            "config = tf.ConfigProto()\n"
            "config.gpu_options.allow_growth = True\n"
            "sess = tf.Session(config=config)\n",
            "import tensorflow as tf\n"
            "x = tf.placeholder(tf.float32, [None, 3])\n"
            "with tf.device('/device:GPU:0'):\n"
            "    y = x * 2\n"
            "config = tf.ConfigProto(allow_soft_placement=True)\n"
            "config.gpu_options.allow_growth = True\n"
            "sess = tf.Session(config=config)\n",
        ),
        Invalid(
            "import tensorflow as tf\n"
            "def train(config):\n"
            "    with tf.device('/gpu:0'):\n"
            "        y = tf.ones([2]) * 2\n"
            "    with tf.compat.v1.Session(config=config) as sess:\n"
            "        sess.run(y)\n",
            "import tensorflow as tf\n"
            "def train(config):\n"
            "    with tf.device('/gpu:0'):\n"
            "        y = tf.ones([2]) * 2\n"
            "    config.allow_soft_placement = True\n"
            "    with tf.compat.v1.Session(config=config) as sess:\n"
            "        sess.run(y)\n",
        ),
        Invalid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "\n"
            "def tower(x, i):\n"
            "    with tf.device('/gpu:%d' % i):\n"
            "        return tf.layers.dense(x, 10)\n",
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "tf.config.set_soft_device_placement(True)\n"
            "\n"
            "def tower(x, i):\n"
            "    with tf.device('/gpu:%d' % i):\n"
            "        return tf.layers.dense(x, 10)\n",
        ),
        Invalid(
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.device('/TPU:0'):\n"
            "    y = tf.ones([2]) * 2\n"
            "sess = tf.Session(config=tf.ConfigProto(allow_soft_placement=False))\n",
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "with tf.device('/TPU:0'):\n"
            "    y = tf.ones([2]) * 2\n"
            "sess = tf.Session(config=tf.ConfigProto(allow_soft_placement=True))\n",
            unsafe=True,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        facts = GraphFacts.of(self, node)
        if not facts.tf1_graph or not facts.pins:
            return
        pin = facts.pins[0][0]
        where = f"ops are pinned to {pin_text(pin)} (line {line_of(self, pin)})"
        if facts.sessions:
            for session in facts.sessions:
                self._check_session(facts, session, where)
        elif not facts.soft_on and not facts.soft_off:  # TFX102 handles an explicit set_soft_device_placement(False)
            self._no_session(facts, pin, where)

    # --- a session the module makes ----------------------------------------------------------------------------
    def _check_session(self, facts: GraphFacts, session: cst.Call, where: str) -> None:
        kind = next(iter(self.api_names(session.func) & set(_CONFIG_POSITION)))
        if any(arg.star for arg in session.args):
            return  # tf.Session(**kwargs): the config cannot be seen
        config = argument(session, "config", _CONFIG_POSITION[kind])
        message = f"{where} and this {kind.split('.')[-1]} has no soft placement: on a machine without that device "
        message += f"the run raises {_ERROR}"
        if config is None:
            if facts.soft_on and kind != "tf.InteractiveSession":
                return  # set_soft_device_placement(True) reaches sessions made without a config (measured)
            proto = self._config_proto(facts, "allow_soft_placement=True")
            self._report(session, message, "Run the session with soft placement",
                         proto and {session: lambda updated: with_keyword(updated, "config", proto)})
            return
        self._check_config(facts, session, config.value, message)

    def _check_config(self, facts: GraphFacts, session: cst.Call, config: cst.BaseExpression, message: str) -> None:
        if self.is_call_to(config, "tf.ConfigProto"):
            self._check_proto(session, config, message)  # type: ignore[arg-type]
            return
        if not isinstance(config, (cst.Name, cst.Attribute)):
            self.report(session, message + " (set allow_soft_placement=True in its ConfigProto)")
            return
        assigned = self._soft_placement_assignments(facts.module, config)
        if any(m.matches(a.value, m.Name("True")) for a in assigned):
            return
        off = [a for a in assigned if m.matches(a.value, m.Name("False"))]
        if off:
            self.report(
                off[0],
                message.replace("has no soft placement", "turns soft placement off"),
                rewrite=Rewrite.replace(
                    "Turn soft placement on", {off[0].value: cst.Name("True")}, unsafe=True
                ),
            )
            return
        if assigned:
            return  # set from something the code computes: the author decides
        value = single_assigned_value(self, config) if isinstance(config, cst.Name) else None
        if value is not None and self.is_call_to(value, "tf.ConfigProto"):
            self._check_proto(session, value, message)  # type: ignore[arg-type]
            return
        statement = statement_of(self, session)
        line = facts.parse_statement(f"{code_of(config)}.allow_soft_placement = True\n")
        self._report(session, message, "Turn soft placement on in the session's config",
                     statement and {statement: insert_before([line])})

    def _check_proto(self, session: cst.Call, proto: cst.Call, message: str) -> None:
        if any(arg.star for arg in proto.args):
            return
        soft = argument(proto, "allow_soft_placement")
        strict = soft is not None and m.matches(soft.value, m.Name("False"))  # asked for: an unsafe fix
        if soft is not None and not strict:
            return
        self.report(
            session,
            message.replace("has no soft placement", "turns soft placement off") if strict else message,
            rewrite=Rewrite.replace(
                "Allow soft placement in the ConfigProto",
                {proto: lambda updated: with_keyword(updated, "allow_soft_placement", cst.Name("True"))},
                unsafe=strict,
            ),
        )

    def _report(self, node: cst.CSTNode, message: str, title: str, changes) -> None:
        """A finding with a safe fix made of `changes`, or without a fix when there are none."""
        self.report(node, message, rewrite=Rewrite.replace(title, changes) if changes else None)

    def _soft_placement_assignments(self, module: cst.Module, config: cst.BaseExpression) -> list[cst.Assign]:
        """`<config>.allow_soft_placement = value` statements anywhere in the module."""
        target = m.Attribute(value=m.MatchIfTrue(config.deep_equals), attr=m.Name("allow_soft_placement"))
        return [
            node
            for node in m.findall(module, m.Assign(targets=[m.AssignTarget(target=target)]))
            if isinstance(node, cst.Assign)
        ]

    def _config_proto(self, facts: GraphFacts, arguments: str) -> cst.BaseExpression | None:
        if facts.v1_prefix is None:
            return None
        return facts.parse_expression(f"{facts.v1_prefix}.ConfigProto({arguments})")

    # --- no session in sight ------------------------------------------------------------------------------------
    def _no_session(self, facts: GraphFacts, pin: cst.Call, where: str) -> None:
        message = (
            f"{where} in TF1 graph code and soft placement is never turned on: a session made without a config "
            f"raises {_ERROR} on a machine without that device"
        )
        anchor = self._statement_after_setup(facts)
        line = f"{facts.v1_prefix}.config.set_soft_device_placement(True)\n"
        self._report(pin, message, "Turn soft placement on after the imports",
                     facts.v1_prefix and anchor and {anchor: insert_after([facts.parse_statement(line)])})

    def _statement_after_setup(self, facts: GraphFacts) -> cst.CSTNode | None:
        """The module-level `disable_v2_behavior()` statement, else the last module-level TensorFlow import."""
        for switch in facts.graph_switches:
            statement = statement_of(self, switch)
            if statement is not None and self.parent(statement) is facts.module:
                return statement
        return facts.tf_imports[-1] if facts.tf_imports else None
