"""TFX606: a Keras optimizer made with `decay=`, which Keras 3 accepts and ignores.

## What it does

Reports `decay=` (other than 0) passed to a Keras optimizer class through any import form, and makes the
learning rate the `keras.optimizers.schedules.InverseTimeDecay` schedule that computes Keras 2's decay,
dropping `decay=`. Not where Keras 2 is pinned (`tf_keras` imported, or `TF_USE_LEGACY_KERAS` in the program).
Without a learning rate in the call it is reported without a fix: the default rate differs between Keras
versions (Adagrad: 0.01 in Keras 2, 0.001 in Keras 3).

## Why is this bad?

Keras 1 and 2 optimizers (Keras 2's "legacy" ones since TF 2.11) took `decay=d` and trained with the learning
rate `lr / (1 + d * iterations)`, lowered after every step. Keras 3 optimizers take a schedule as
`learning_rate`; `decay` is popped with a `UserWarning` and the rate stays constant: the program trains, with
another learning rate than its author tuned.

## Measured TensorFlow behaviour

Measured on tensorflow-cpu 2.21 / Keras 3.15 (docs/tensorflow-behaviour.md, Keras 3 section; probe
keras3_decay.py):

- `keras.optimizers.SGD(learning_rate=1.0, decay=0.5)` warns "Argument `decay` is no longer supported and will
  be ignored"; three steps of gradient 1 on a variable at 0 give -3.0 (no decay), where Keras 2's formula gives
  -(1 + 1/1.5 + 1/2) = -2.1667;
- `keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.InverseTimeDecay(1.0, decay_steps=1,
  decay_rate=0.5))`: -2.1667, Keras 2's decay exactly (the schedule is `lr / (1 + rate * step / steps)`, called
  with the optimizer's iteration count);
- Keras 2 pinned (`tf_keras` 2.21): the non-legacy optimizers raise `ValueError: decay is deprecated in the new
  TF-Keras optimizer`; the legacy ones decay (-2.1667).

## Fix safety

The fix is unsafe: it changes what the program computes now (it trained without decay under Keras 3), and
code that sets the learning rate later (`ReduceLROnPlateau`, `optimizer.learning_rate.assign(...)`,
`K.set_value(opt.lr, ...)`) cannot set a schedule.
"""

from __future__ import annotations

import libcst as cst

from tffix.ast_facts import Facts, has_keyword
from tffix.rule import Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._keras3 import keras_name, pins_keras2, without_arguments
from .tfx601_optimizer_lr_argument import OPTIMIZER_NAMES, OPTIMIZERS

_CODE = cst.Module([])


def _is_zero(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.Integer, cst.Float)) and float(expr.evaluated_value) == 0.0


class OptimizerDecayIgnored(Rule):
    """`keras.optimizers.X(..., decay=d)`: Keras 3 ignores `decay` (a warning only): the rate never decays.

    The fix turns the learning rate into the `InverseTimeDecay` schedule that computes Keras 2's decay.
    """

    code = "TFX606"
    name = "optimizer-decay-ignored"
    summary = "Keras 3 optimizers ignore decay=: the learning rate never decays; use an InverseTimeDecay schedule"
    fix = Fix.sometimes("unsafe")
    severity = Severity.WARNING
    triggers = ("decay",)
    anchors = frozenset(OPTIMIZERS)

    VALID = (
        Valid("import tensorflow as tf\nopt = tf.keras.optimizers.SGD(0.1, decay=0.0)\n"),
        Valid("import tensorflow as tf\nlr = tf.compat.v1.train.exponential_decay(0.1, step, 100, decay_rate=0.9)\n"),
        Valid("import tf_keras\nopt = tf_keras.optimizers.legacy.SGD(0.1, decay=1e-4)\n"),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\nopt = tf.keras.optimizers.SGD(learning_rate=0.1, decay=1e-4, momentum=0.9)\n",
            "import tensorflow as tf\nopt = tf.keras.optimizers.SGD(learning_rate=tf.keras.optimizers.schedules."
            "InverseTimeDecay(0.1, decay_steps=1, decay_rate=1e-4), momentum=0.9)\n",
            unsafe=True,
        ),
        Invalid(
            "from keras.optimizers import Adam\nopt = Adam(1e-3, decay=1e-6)\n",
            "from keras.optimizers import Adam\nimport keras\n\n"
            "opt = Adam(keras.optimizers.schedules.InverseTimeDecay(1e-3, decay_steps=1, decay_rate=1e-6))\n",
            unsafe=True,
        ),
        Invalid("import keras\nopt = keras.optimizers.Adagrad(decay=0.01)\n", None),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is `decay=` at a call of a Keras optimizer."""
        return has_keyword(facts.calls_of(*OPTIMIZER_NAMES), "decay")

    def visit_Call(self, node: cst.Call) -> None:
        decay = argument(node, "decay")
        if decay is None or _is_zero(decay.value) or not self.is_call_to(node, *OPTIMIZER_NAMES):
            return
        if pins_keras2(self.context.source):
            return
        message = (
            "Keras 3 ignores `decay=` (only a warning): the learning rate never decays; "
            "Keras 2 trained with `lr / (1 + decay * step)`"
        )
        rate = argument(node, "learning_rate") or argument(node, "lr") or argument(node, "", 0)
        if rate is None or rate.star:
            self.report(decay, message + ": pass `learning_rate=keras.optimizers.schedules.InverseTimeDecay(lr, "
                        "decay_steps=1, decay_rate=decay)` (the default rate differs between Keras versions)")
            return
        func = node.func
        if isinstance(func, cst.Attribute) and self.is_api(func.value, "keras.optimizers"):
            prefix, imports = _CODE.code_for_node(func.value), ()
        else:
            name, imports = keras_name(self.context.source)
            prefix = f"{name}.optimizers"
        keyword = rate.keyword.value if rate.keyword is not None else None

        def rewrite(updated: cst.Call) -> cst.Call:
            args = []
            for index, arg in enumerate(updated.args):
                matches = arg.keyword.value == keyword if keyword and arg.keyword else (not keyword and index == 0)
                if matches:
                    value = cst.parse_expression(
                        f"{prefix}.schedules.InverseTimeDecay({_CODE.code_for_node(arg.value)}, decay_steps=1, "
                        f"decay_rate={_CODE.code_for_node(decay.value)})"
                    )
                    arg = arg.with_changes(value=value)
                args.append(arg)
            return without_arguments(updated.with_changes(args=args), frozenset({"decay"}))

        self.report(decay, message, rewrite=Rewrite.replace(
            "Make the learning rate an InverseTimeDecay schedule (Keras 2's decay)", {node: rewrite},
            unsafe=True, imports=imports,
        ))
