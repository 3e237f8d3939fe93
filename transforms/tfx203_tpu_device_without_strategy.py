"""TFX203: `with tf.device('/TPU:0'):` in TF2 eager code with no TPU set up: it silently runs on the CPU.

## What it does

The rule reports (WARNING) a `tf.device(...)` whose literal device names a TPU, in a file that creates no
TPUStrategy and initializes no TPU system. TF1 graph code (a `Session`, `disable_eager_execution`,
`disable_v2_behavior`) is left to the device-placement rules: there the missing device is an error, not a
silent fallback; so is eager code that turned soft placement off (`tf.config.set_soft_device_placement(False)`:
`InvalidArgumentError`, measured).

## Why is this bad?

A TPU is only there once the program connected to it and initialized it (`TPUClusterResolver`,
`experimental_connect_to_cluster`, `initialize_tpu_system`), and the way to use it is a
`tf.distribute.TPUStrategy`: build the model under `strategy.scope()` and run steps with `strategy.run` (or
Keras `fit`). So code that pins work to a TPU with `tf.device` while the file sets up no TPU at all believes
it uses a TPU and does not.

## Measured TensorFlow behaviour

In TF2, eager execution places ops with soft placement on: a device that does not exist is ignored and the ops
run on the CPU, with no error and no warning (measured: docs/tensorflow-behaviour.md "Device placement", TF2 eager
`tf.device('/TPU:0')` with no such device runs on CPU; probe tpu_setup.py tpu_device prints
`/job:localhost/replica:0/task:0/device:CPU:0`).

## Fix safety

No fix: what to build under the strategy's scope is the author's call.
"""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import Fix, Invalid, Rule, Severity, Valid, argument

from ._tpu import INITIALIZE, STRATEGIES, is_tpu_device

from .tfx101_device_without_soft_placement import CANNOT_ASSIGN_DEVICE
from .tfx102_device_with_soft_placement_off import DEVICE_SPECIFICATION

# compat.v1 names fold to `tf.X` (tffix.names), whichever way they were imported.
GRAPH_MODE = ("tf.Session", "tf.InteractiveSession", "tf.disable_eager_execution", "tf.disable_v2_behavior")


class TpuDeviceWithoutStrategy(Rule):
    """`with tf.device('/TPU:0'):` where no TPU is connected or initialized: eager soft placement runs it on
    the CPU without a word. Use a TPUStrategy's `scope()` to run on a TPU."""

    code = "TFX203"
    name = "tpu-device-without-strategy"
    summary = "tf.device('/TPU:0') without a TPU strategy silently runs on the CPU"
    explains = (CANNOT_ASSIGN_DEVICE, DEVICE_SPECIFICATION)
    fix = Fix.none()
    severity = Severity.WARNING
    triggers = ("TPU", "tpu")
    # It reports at pins; a TPU set-up sliced away only makes it report more.
    anchors = leaves("tf.device")

    VALID = (
        Valid(
            "import tensorflow as tf\n"
            "with tf.device('/CPU:0'):\n"
            "    x = tf.ones((2, 2))\n"
        ),
        Valid(
            "import tensorflow as tf\n"
            "resolver = tf.distribute.cluster_resolver.TPUClusterResolver()\n"
            "tf.config.experimental_connect_to_cluster(resolver)\n"
            "tf.tpu.experimental.initialize_tpu_system(resolver)\n"
            "with tf.device('/TPU:0'):\n"
            "    c = tf.matmul(a, b)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "with tf.device('/TPU:0'):\n"
            "    c = tf.matmul(a, b)\n",
            None,
        ),
        Invalid(
            "import tensorflow as tf\n"
            "def step(x):\n"
            "    with tf.device('/job:localhost/replica:0/task:0/device:TPU:0'):\n"
            "        return model(x)\n",
            None,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._devices: list[tuple[cst.Call, str]] = []
        self._tpu_set_up = False
        self._device_errors = False

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a `with tf.device("<a TPU>")` whose device is a literal string."""
        return any(
            type(arg := ast_argument(call, "device_name", 0)) is ast.Constant and isinstance(arg.value, str)  # type: ignore[union-attr]
            and is_tpu_device(arg.value)  # type: ignore[union-attr]
            for call in facts.calls_of("tf.device")
        )

    def visit_WithItem(self, node: cst.WithItem) -> None:
        item = node.item
        if not self.is_call_to(item, "tf.device"):
            return
        arg = argument(item, "device_name", 0)  # type: ignore[arg-type]
        if arg is not None and isinstance(arg.value, cst.SimpleString):
            text = arg.value.evaluated_value
            if isinstance(text, str) and is_tpu_device(text):
                self._devices.append((item, text))  # type: ignore[arg-type]

    def visit_Call(self, node: cst.Call) -> None:
        if self.is_call_to(node, *STRATEGIES, *INITIALIZE):
            self._tpu_set_up = True
        elif self.is_call_to(node, *GRAPH_MODE):
            self._device_errors = True
        elif self.is_call_to(node, "tf.config.set_soft_device_placement"):
            arg = argument(node, "enabled", 0)
            if arg is not None and m.matches(arg.value, m.Name("False")):
                self._device_errors = True  # a missing device raises then: the device-placement rules' case

    def leave_Module(self, original_node: cst.Module) -> None:
        if self._tpu_set_up or self._device_errors:
            return
        for call, device in self._devices:
            self.report(
                call,
                f"`tf.device({device!r})` with no TPU set up: TF2 eager soft placement runs this block on the CPU, "
                "silently. To run on a TPU, connect and initialize it (TPUClusterResolver, "
                "experimental_connect_to_cluster, initialize_tpu_system) and build and run the model under "
                "`strategy.scope()` of a `tf.distribute.TPUStrategy`",
            )
