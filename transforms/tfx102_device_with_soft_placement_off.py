"""TFX102: soft placement turned off, and ops pinned to a GPU/TPU that the machine may not have.

## What it does

Reports `tf.config.set_soft_device_placement(False)` in TF2 code that pins ops to a GPU or TPU
(`with tf.device('/gpu:1'):`, `tf.device('/TPU:0')`).

TF1 graph code with a session is left to TFX101 (a session's own ConfigProto decides there); pins to the CPU
and pins under a `if tf.config.list_physical_devices('GPU'):`-style guard are not reported.

## Why is this bad?

TF2 eager code places ops softly by default: `with tf.device('/gpu:1'):` or `tf.device('/TPU:0')` on a
machine without that device runs on the CPU. After `tf.config.set_soft_device_placement(False)` the pin is a
hard requirement again, and the program fails on every machine without that device.

## Measured TensorFlow behaviour

On such a machine the first op raises `InvalidArgumentError: Could not satisfy device specification
'/job:localhost/replica:0/task:0/device:GPU:1'. enable_soft_placement=0` in eager code, or
`InvalidArgumentError: Unable to find any devices for spec /device:GPU:0` inside a `tf.function` (measured
with tensorflow-cpu 2.21: docs/tensorflow-behaviour.md, "Device placement").

## Fix safety

The fix turns the call's argument to True. It is unsafe: turning soft placement off is a deliberate choice
(often to be told when an op quietly runs on the CPU instead of the GPU), and only the author can decide to
give it up. Where the device exists the program computes the same values either way.
"""

from __future__ import annotations

import libcst as cst

from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid

from ._cst_utils import line_of
from ._devices import pin_text
from ._graph import GraphFacts

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
DEVICE_SPECIFICATION = FailureKind(
    "device-specification", "Soft device placement is off and the requested device does not exist",
    """An op asks for a device (a GPU or TPU) that this machine does not have, and soft device placement
    was switched off (`tf.config.set_soft_device_placement(False)`, or a session config with
    `allow_soft_placement=False`), so TensorFlow does not fall back to a device it has.""",
    r"Could not satisfy (?:explicit )?device specification|Unable to find any devices for spec",
)

# Failures other rules are the main cause of, imported after this module's own (those modules import them).
from .tfx101_device_without_soft_placement import CANNOT_ASSIGN_DEVICE  # noqa: E402


class DeviceWithSoftPlacementOff(Rule):
    """`tf.config.set_soft_device_placement(False)` with ops pinned to a GPU/TPU: the pins raise on every
    machine without that device."""

    code = "TFX102"
    name = "device-with-soft-placement-off"
    summary = "Soft placement turned off while ops are pinned to a GPU/TPU: raises on machines without it"
    explains = (CANNOT_ASSIGN_DEVICE, DEVICE_SPECIFICATION)
    fix = Fix.always("unsafe")
    severity = Severity.ERROR
    triggers = ("set_soft_device_placement",)
    # It reports at the switch, and only with a pin (kept with it).
    anchors = leaves("tf.config.set_soft_device_placement", "tf.device")

    VALID = (
        Valid(
            "import tensorflow as tf\n"
            "tf.config.set_soft_device_placement(False)\n"
            "with tf.device('/cpu:0'):\n"
            "    y = tf.ones([2]) * 2\n"
        ),
        Valid(
            "import tensorflow as tf\n"
            "tf.config.set_soft_device_placement(False)\n"
            "if tf.config.list_physical_devices('GPU'):\n"
            "    with tf.device('/gpu:0'):\n"
            "        y = tf.ones([2]) * 2\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "tf.config.set_soft_device_placement(False)\n"
            "with tf.device('/gpu:1'):\n"
            "    y = tf.ones([2]) * 2\n",
            "import tensorflow as tf\n"
            "tf.config.set_soft_device_placement(True)\n"
            "with tf.device('/gpu:1'):\n"
            "    y = tf.ones([2]) * 2\n",
            unsafe=True,
        ),
        Invalid(
            "from tensorflow import config, device, function\n"
            "config.set_soft_device_placement(enabled=False)\n"
            "@function\n"
            "def step(x):\n"
            "    with device('/TPU:0'):\n"
            "        return x * 2\n",
            "from tensorflow import config, device, function\n"
            "config.set_soft_device_placement(enabled=True)\n"
            "@function\n"
            "def step(x):\n"
            "    with device('/TPU:0'):\n"
            "        return x * 2\n",
            unsafe=True,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        facts = GraphFacts.of(self, node)
        if not facts.soft_off or not facts.pins or facts.soft_on:
            return
        if facts.tf1_graph and facts.sessions:
            return  # TFX101: the sessions' configs decide
        pin = facts.pins[0][0]
        for call in facts.soft_off:
            self.report(
                call,
                f"soft placement is turned off and ops are pinned to {pin_text(pin)} (line {line_of(self, pin)}): "
                "on a machine without that device they raise InvalidArgumentError: Could not satisfy device "
                "specification ... enable_soft_placement=0",
                rewrite=Rewrite.replace(
                    "Turn soft placement back on", {call.args[0].value: cst.Name("True")}, unsafe=True
                ),
            )
