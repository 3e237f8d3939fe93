"""TFX101: TF1 graph code pins ops to a GPU/TPU and runs them in a Session without soft placement.

## What it does

Reports a `with tf.device(...)` pin to a GPU/TPU in TF1 graph code (`tensorflow.compat.v1` with
`disable_v2_behavior()`, or legacy code built around `tf.Session`) that runs in a session whose config lacks
soft placement (`/gpu:1`, `/TPU:0`, `/device:GPU:0`, `/job:localhost/replica:0/task:0/device:GPU:0`, any case).

Reported only where this file shows both halves: it makes the session that runs the pinned ops, and that
session's config lacks soft placement. A pin runs in a session when both are in one function, or the pin is
top-level code, or the session's function calls the pin's function (directly or through functions of this
module). The config is read where it is made: `tf.ConfigProto(...)` inline, a variable assigned one
`tf.ConfigProto(...)` that no other code receives, or a parameter that every caller in this module fills
with such a config. Not reported, because the code here does not show a missing soft placement:

- no session made here: the graph is built here and run by a session made elsewhere (a project helper such
  as `tf_util.make_session()`, which often passes `allow_soft_placement=True`; an Estimator, which makes its
  sessions with `allow_soft_placement=True` when its RunConfig has no session_config (tensorflow_estimator's
  estimator.py; Estimator is gone from TF 2.21, so read, not measured); a caller in another module);
- `tf.test.TestCase` sessions (`self.session()`, `self.cached_session()`, `self.test_session()`): they set
  `allow_soft_placement = not force_gpu` (measured with TF 2.21: a '/gpu:0' pin runs on a CPU-only machine);
- a config from a helper, an attribute, a parameter without callers here, or passed to other code that may
  change it; a `tf.train.Supervisor`, a session creator this rule cannot read;
- a session made in a function that does not run the pinned code;
- TF2 eager code (soft placement is on by default there; TFX102 covers turning it off), pins to `/cpu:N`,
  pins under a device check (`if tf.config.list_physical_devices('GPU'):`, `if FLAGS.num_gpus:`, a loop over
  the device count, an early `return`/`skipTest` without a GPU, a `@run_gpu_only`-style decorator), devices
  of another job (`/job:worker/...`: soft placement cannot move an op to another process, measured), and
  device strings the code computes in a way this rule cannot read.

Explicit `allow_soft_placement=False` (in the proto or as `config.allow_soft_placement = False`) is reported
too.

## Why is this bad?

In graph mode a `with tf.device('/gpu:1'):` block is a hard requirement: the program fails on every machine
without that device, at the first `sess.run`.

## Measured TensorFlow behaviour

On a machine without the device, the first `sess.run` raises `InvalidArgumentError: Cannot assign a device
for operation ...: ... was explicitly assigned to /device:GPU:1 but available devices are [
.../device:CPU:0 ]` (measured with tensorflow-cpu 2.21: docs/tensorflow-behaviour.md, "Device placement";
probes device_missing_gpu_graph.py, device_colocated_initializer.py). The same holds for `/TPU:0`,
`/device:GPU:0`, `/job:localhost/replica:0/task:0/device:GPU:0`, any case.

`tf.config.set_soft_device_placement(True)` does not reach a session given an explicit ConfigProto
(measured: TF 2.21 still raises) nor an InteractiveSession.

## Fix safety

The fix goes where the session's config is made:

- `tf.ConfigProto(...)`, inline or in a variable (`config = tf.ConfigProto(); config.gpu_options.allow_growth
  = True; tf.Session(config=config)`), or in every caller that passes it: `allow_soft_placement=True` is
  added to that call;
- no config: `config=tf.ConfigProto(allow_soft_placement=True)` is added to `tf.Session(...)`,
  `tf.InteractiveSession(...)`, `tf.train.MonitoredTrainingSession(...)`, `SingularMonitoredSession(...)`;
  a `tf.train.MonitoredSession()` gets `session_creator=tf.train.ChiefSessionCreator(config=...)`, which is
  the creator it makes by default, with that config.

There is no global fix: `tf.config.set_soft_device_placement(True)` does not reach a session given an
explicit ConfigProto nor an InteractiveSession (above), and a library module must not change a process-wide
setting when it is imported.

The fix is safe: where every pinned device exists (and has a kernel for each pinned op), soft placement
places every op exactly where it was pinned, so a working program computes the same; where one is missing,
the op runs on a device that exists instead of raising. Explicit `allow_soft_placement=False` gets an unsafe
fix that turns it to True: the author asked for strict placement, perhaps to be told when an op silently
falls back to the CPU; overriding that is their call.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ScopeProvider

from tffix.ast_facts import Facts
from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._dtypes import with_keyword
from ._cst_utils import enclosing_function, line_of, single_assigned_value
from ._devices import pin_text
from ._graph import GRAPH_EVIDENCE, MONITORED_SESSIONS, SESSIONS, GraphFacts, calls_of, runs_from

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
CANNOT_ASSIGN_DEVICE = FailureKind(
    "cannot-assign-device", "An op is pinned to a device this machine does not have",
    """The program pins operations to a device with `tf.device(...)` (a GPU or TPU) that this machine
    does not have, and soft placement is off, so TensorFlow refuses to run them on a device it does have.
    In TF1 graph mode a plain `tf.Session()` has soft placement off; a session config with
    `allow_soft_placement=True`, or `tf.config.set_soft_device_placement(True)`, lets TensorFlow fall back
    to the CPU.""",
    r"Cannot assign a device for operation",
)

# Failures other rules are the main cause of, imported after this module's own (those modules import them).
from .tfx102_device_with_soft_placement_off import DEVICE_SPECIFICATION  # noqa: E402

_CONFIG_POSITION = {"tf.Session": 2, "tf.InteractiveSession": 2, "tf.train.MonitoredTrainingSession": 9,
                    "tf.train.SingularMonitoredSession": 3, "tf.train.MonitoredSession": None}
_ERROR = "InvalidArgumentError: Cannot assign a device for operation"


class DeviceWithoutSoftPlacement(Rule):
    """A `tf.device('/gpu:N')` (or TPU) pin in TF1 graph code whose Session has no soft placement fails on
    every machine without that device. Soft placement keeps the pin where the device exists."""

    code = "TFX101"
    name = "device-without-soft-placement"
    summary = "GPU/TPU device pins in a TF1 Session without soft placement raise on machines without the device"
    explains = (CANNOT_ASSIGN_DEVICE, DEVICE_SPECIFICATION)
    fix = Fix.sometimes("safe", "unsafe")
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
        Valid(  # the graph is built here and run by a session made elsewhere
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "\n"
            "def tower(x, i):\n"
            "    with tf.device('/gpu:%d' % i):\n"
            "        return tf.layers.dense(x, 10)\n"
        ),
        Valid(  # the config comes from the caller, which is not in this module
            "import tensorflow as tf\n"
            "def train(config):\n"
            "    with tf.device('/gpu:0'):\n"
            "        y = tf.ones([2]) * 2\n"
            "    with tf.compat.v1.Session(config=config) as sess:\n"
            "        sess.run(y)\n"
        ),
        Valid(  # this session runs another graph than the pinned tower's
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "def tower(x):\n"
            "    with tf.device('/gpu:0'):\n"
            "        return tf.layers.dense(x, 10)\n"
            "def count_steps(path):\n"
            "    with tf.Graph().as_default(), tf.Session() as sess:\n"
            "        return sess.run(tf.train.load_variable(path, 'global_step'))\n"
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
            "        sess.run(y)\n"
            "train(tf.compat.v1.ConfigProto(log_device_placement=True))\n",
            "import tensorflow as tf\n"
            "def train(config):\n"
            "    with tf.device('/gpu:0'):\n"
            "        y = tf.ones([2]) * 2\n"
            "    with tf.compat.v1.Session(config=config) as sess:\n"
            "        sess.run(y)\n"
            "train(tf.compat.v1.ConfigProto(log_device_placement=True, allow_soft_placement=True))\n",
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

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding needs a `tf.device(...)` pin and a session the file makes (`GraphFacts`)."""
        return facts.called("tf.device") and facts.called(*SESSIONS, *MONITORED_SESSIONS)

    def visit_Module(self, node: cst.Module) -> None:
        facts = GraphFacts.of(self, node)
        if not facts.tf1_graph or not facts.pins:
            return
        for session in facts.sessions + facts.monitored:
            made_in = enclosing_function(self, session)
            pins = [pin for pin, _ in facts.pins if runs_from(self, node, made_in, pin)]
            if pins:
                where = f"ops are pinned to {pin_text(pins[0])} (line {line_of(self, pins[0])})"
                self._check_session(facts, session, where)

    # --- a session the module makes, that runs the pinned ops ---------------------------------------------------
    def _check_session(self, facts: GraphFacts, session: cst.Call, where: str) -> None:
        kind = next(iter(self.api_names(session.func) & set(_CONFIG_POSITION)))
        if any(arg.star for arg in session.args):
            return  # tf.Session(**kwargs): the config cannot be seen
        message = f"{where} and this {kind.split('.')[-1]} has no soft placement: on a machine without that device "
        message += f"the run raises {_ERROR}"
        if kind == "tf.train.MonitoredSession":
            self._check_monitored(facts, session, message)
            return
        config = argument(session, "config", _CONFIG_POSITION[kind])
        if config is None:
            if facts.soft_on and kind != "tf.InteractiveSession":
                return  # set_soft_device_placement(True) reaches sessions made without a config (measured)
            proto = self._config_proto(facts, "allow_soft_placement=True")
            self._report(session, message, "Run the session with soft placement",
                         proto and {session: lambda updated: with_keyword(updated, "config", proto)})
            return
        self._check_config(facts, session, config.value, message)

    def _check_monitored(self, facts: GraphFacts, session: cst.Call, message: str) -> None:
        """`MonitoredSession()` makes its session with a `ChiefSessionCreator()`: the config goes there."""
        creator = argument(session, "session_creator", 0)
        if creator is None:
            if facts.soft_on or facts.v1_prefix is None:
                return
            v1 = facts.v1_prefix
            new = facts.parse_expression(f"{v1}.train.ChiefSessionCreator(config={v1}.ConfigProto(allow_soft_placement=True))")
            self._report(session, message, "Run the session with soft placement",
                         {session: lambda updated: with_keyword(updated, "session_creator", new)})
            return
        value = creator.value
        if isinstance(value, cst.Name):
            value = single_assigned_value(self, value) or value
        if not self.is_call_to(value, "tf.train.ChiefSessionCreator") or any(a.star for a in value.args):  # type: ignore[union-attr]
            return  # a creator this rule cannot read: its config is not shown
        config = argument(value, "config", 2)  # type: ignore[arg-type]
        if config is None:
            proto = self._config_proto(facts, "allow_soft_placement=True")
            self._report(session, message, "Run the session with soft placement",
                         proto and {value: lambda updated: with_keyword(updated, "config", proto)})
            return
        self._check_config(facts, session, config.value, message)

    def _check_config(self, facts: GraphFacts, session: cst.Call, config: cst.BaseExpression, message: str) -> None:
        if self.is_call_to(config, "tf.ConfigProto"):
            self._check_proto(session, [config], message)  # type: ignore[list-item]
            return
        if not isinstance(config, cst.Name):
            return  # made elsewhere (an attribute, a helper's result): the code does not show its soft placement
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
        protos = self._protos_of(facts, config)
        if protos:
            self._check_proto(session, protos, message)

    def _protos_of(self, facts: GraphFacts, name: cst.Name, through: cst.Arg | None = None) -> list[cst.Call]:
        """The `tf.ConfigProto(...)` calls that `name` holds where it is used: its one assignment in its scope, or,
        for a parameter of the function, what every call of that function in this module passes. Empty when
        that is not shown: a config that is passed to other code, or set from a helper, or no caller here.
        `through`: the argument by which the config reaches the session (a call of the function it is made for)."""
        value = single_assigned_value(self, name)
        if value is not None:
            return [value] if self.is_call_to(value, "tf.ConfigProto") and self._only_configured(name, through) else []  # type: ignore[list-item]
        function = enclosing_function(self, name)
        if function is None:
            return []
        parameters = function.params
        listed = [*parameters.posonly_params, *parameters.params]
        position = next((i for i, p in enumerate(listed) if p.name.value == name.value), None)
        keyword_only = any(p.name.value == name.value for p in parameters.kwonly_params)
        if position is None and not keyword_only:
            return []
        if self._rebound(function, name.value):  # type: ignore[arg-type]
            return []
        method = bool(listed) and listed[0].name.value in ("self", "cls")
        calls = calls_of(self, function)
        protos: list[cst.Call] = []
        for call in calls:
            if any(a.star for a in call.args):
                return []
            shift = 1 if method and isinstance(call.func, cst.Attribute) else 0
            arg = argument(call, name.value, None if position is None else position - shift)
            passed = arg.value if arg is not None else None
            if isinstance(passed, cst.Name):
                found = self._protos_of(facts, passed, arg)
                if not found:
                    return []
                protos += found
            elif passed is not None and self.is_call_to(passed, "tf.ConfigProto"):
                protos.append(passed)  # type: ignore[arg-type]
            else:
                return []
        return protos

    def _only_configured(self, name: cst.Name, through: cst.Arg | None) -> bool:
        """Every use of the config variable sets a field (`config.gpu_options.allow_growth = True`) or passes it as
        a session's `config=` (or as `through`, on its way to the session): no other code receives it, so nothing
        else can turn soft placement on."""
        try:
            scope = self.get_metadata(ScopeProvider, name, None)
        except KeyError:
            return False
        if scope is None:
            return False
        for access in scope.accesses[name.value]:
            node = access.node
            parent = self.parent(node)
            if isinstance(parent, cst.Attribute) and parent.value is node:
                if isinstance(self.parent(parent), cst.Call) and self.parent(parent).func is parent:  # type: ignore[union-attr]
                    return False  # config.MergeFrom(...), config.CopyFrom(...)
                continue
            if isinstance(parent, cst.Arg) and (parent is through or (parent.keyword and parent.keyword.value == "config")):
                continue
            return False
        return True

    def _rebound(self, function: cst.FunctionDef, name: str) -> bool:
        return any(
            isinstance(t.target, cst.Name) and t.target.value == name
            for t in m.findall(function.body, m.AssignTarget())  # type: ignore[union-attr]
        )

    def _check_proto(self, session: cst.Call, protos: list[cst.Call], message: str) -> None:
        if any(arg.star for proto in protos for arg in proto.args):
            return
        soft = [argument(proto, "allow_soft_placement") for proto in protos]
        if any(s is not None and not m.matches(s.value, m.Name("False")) for s in soft):
            return  # on (or computed) in one of them: the author decides
        strict = any(s is not None for s in soft)  # asked for: an unsafe fix
        self.report(
            session,
            message.replace("has no soft placement", "turns soft placement off") if strict else message,
            rewrite=Rewrite.replace(
                "Allow soft placement in the ConfigProto",
                {proto: (lambda updated: with_keyword(updated, "allow_soft_placement", cst.Name("True"))) for proto in protos},
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
