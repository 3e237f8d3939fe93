"""TFX601: a Keras optimizer made with `lr=`, the Keras 1 and early Keras 2 spelling of `learning_rate=`.

## What it does

Reports `lr=` passed to a Keras optimizer class (`keras.optimizers.Adam`, `SGD`, `RMSprop`, ...), reached
through any import form (`keras`, `tf.keras`, `from tensorflow.keras.optimizers import Adam`), and renames
it to `learning_rate=`. It fires where Keras 2 is pinned too (there `lr` is silently ignored), but not on
`keras.optimizers.legacy.*` optimizers, which honour `lr` where they exist. A call that passes both `lr=`
and `learning_rate=` is reported without a fix.

## Why is this bad?

Keras 1 named the step size `lr`; Keras 2 renamed it `learning_rate` and kept `lr` as a deprecated alias on
its (now "legacy") optimizers, with the same meaning. Keras 3 optimizers take only `learning_rate`: the
program stops before it trains.

## Measured TensorFlow behaviour

Measured on tensorflow-cpu 2.21 / Keras 3.15 (docs/tensorflow-behaviour.md, Keras 3 section; probe
keras3_legacy_args.py adam_lr, sgd_lr):

- `keras.optimizers.Adam(lr=0.01)`, `tf.keras.optimizers.SGD(lr=0.1)` (every optimizer) raise
  `ValueError: Argument(s) not recognized: {'lr': 0.01}`;
- with Keras 2 pinned (`tf_keras` 2.21, `TF_USE_LEGACY_KERAS=1`) the non-legacy optimizers accept `lr=` and
  ignore it (an absl log line says `lr` is deprecated): the optimizer trains with its default learning rate
  (0.001 for Adam; `tf_keras.optimizers.SGD(lr=0.1)` trains at 0.01).

## Fix safety

The fix renames the keyword to `learning_rate=`: exactly the value the code meant, which is what Keras 2's
legacy optimizers did with `lr`. It is safe.
"""

from __future__ import annotations

import ast

import libcst as cst

from tffix.ast_detection import AstReport, NamesOnAst
from tffix.ast_facts import Facts, has_keyword, keyword
from tffix.model import Applicability
from tffix.names import canonical, canonical_all
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._keras3 import pins_keras2

OPTIMIZERS = (
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl", "Lion", "Adafactor",
    "Lamb", "Muon",
)
OPTIMIZER_NAMES = tuple(f"keras.optimizers.{name}" for name in OPTIMIZERS)


# The failure this rule explains (`tffix explain` maps the message to it).
KERAS3_OPTIMIZER_LR = FailureKind(
    "keras3-optimizer-lr", "A Keras 3 optimizer got `lr=`",
    """Keras 3 optimizers take the step size only as `learning_rate=`; `lr=`, the Keras 1 and early Keras 2
    spelling, is rejected. Rename the argument: it means the same.""",
    r"Argument\(s\) not recognized: \{'lr'", exception="ValueError",
)

class OptimizerLrArgument(Rule):
    """A Keras optimizer made with `lr=`: Keras 3 raises (`Argument(s) not recognized`); use `learning_rate=`.

    The rename is exact: `lr` was Keras 2's alias of `learning_rate`.
    """

    code = "TFX601"
    name = "optimizer-lr-argument"
    summary = "Keras 3 optimizers reject lr= (Keras 2 pinned: ignore it); the argument is learning_rate="
    explains = (KERAS3_OPTIMIZER_LR,)
    fix = Fix.sometimes("safe")
    severity = Severity.ERROR
    triggers = ("lr",)
    anchors = frozenset(OPTIMIZERS)

    VALID = (
        Valid("import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=0.01)\n"),
        Valid(  # not a Keras optimizer
            "import tensorflow as tf\nopt = tf.compat.v1.train.AdamOptimizer(0.01)\ndef f(lr=0.1): return lr\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=0.01)\n",
            "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=0.01)\n",
        ),
        Invalid(
            "from keras.optimizers import SGD\nopt = SGD(lr=0.1, momentum=0.9)\n",
            "from keras.optimizers import SGD\nopt = SGD(learning_rate=0.1, momentum=0.9)\n",
        ),
        Invalid(
            "from tensorflow import keras\nopt = keras.optimizers.RMSprop(lr=1e-3, learning_rate=1e-3)\n",
            None,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is `lr=` at a call of a Keras optimizer."""
        return has_keyword(facts.calls_of(*OPTIMIZER_NAMES), "lr")

    @classmethod
    def detect(cls, module: NamesOnAst) -> list[AstReport] | None:
        reports = []
        for call in module.calls:
            lr = keyword(call, "lr")
            if lr is None or type(call.func) not in (ast.Name, ast.Attribute):
                continue
            qualified = module.qualified(call.func, _is_optimizer)
            if qualified is None:
                return None
            if canonical_all(qualified).isdisjoint(OPTIMIZER_NAMES):
                continue
            callee = call.func.attr if type(call.func) is ast.Attribute else call.func.id  # type: ignore[union-attr]
            message = _message(callee, pins_keras2(module.source) or _tf_keras(qualified))
            if keyword(call, "learning_rate") is not None:
                reports.append(AstReport(lr, message + _BOTH))
            else:
                reports.append(AstReport(lr, message, (_RENAME, Applicability.SAFE)))
        return reports

    def visit_Call(self, node: cst.Call) -> None:
        lr = argument(node, "lr")
        if lr is None or not self.is_call_to(node, *OPTIMIZER_NAMES):
            return
        callee = node.func.attr.value if isinstance(node.func, cst.Attribute) else node.func.value  # type: ignore[union-attr]
        message = _message(callee, pins_keras2(self.context.source) or _tf_keras(self.qualified_names(node.func)))
        if argument(node, "learning_rate") is not None:
            self.report(lr, message + _BOTH)
            return
        self.report(lr, message, rewrite=Rewrite.replace(_RENAME, {lr.keyword: cst.Name("learning_rate")}))


_BOTH = " (this call passes both: remove one)"
_RENAME = "Rename `lr=` to `learning_rate=`"


def _is_optimizer(qualified_name: str) -> bool:
    return canonical(qualified_name) in OPTIMIZER_NAMES


def _tf_keras(qualified_names: frozenset[str]) -> bool:
    return any(q.startswith("tf_keras.") for q in qualified_names)


def _message(callee: str, pinned: bool) -> str:
    if pinned:
        return (
            f"`{callee}(lr=...)`: the Keras 2 optimizers this program pins ignore `lr=` and train with the default "
            "learning rate; the argument is `learning_rate=`"
        )
    return f"`{callee}(lr=...)` raises under Keras 3 (`Argument(s) not recognized`); the argument is `learning_rate=`"
