"""TFX602: `model.fit(..., nb_epoch=N)`, Keras 1's name for `epochs=`.

## What it does

Reports `nb_epoch=` passed to `.fit(...)` or `.fit_generator(...)` and renames it to `epochs=`. `fit` has no
qualified name: the rule fires where the receiver is shown to be a Keras model in this file (built by
`Sequential`/`Model`, loaded by `keras.models.load_model`, `self` in a `keras.Model` subclass), or where the
file imports Keras in any form (`nb_epoch` is a keyword only Keras ever had). A call that passes both
`nb_epoch=` and `epochs=` is reported without a fix.

A receiver that is `self` in a class that is not a Keras model, or a method name the file defines itself (`def
fit_generator(...)`), is the program's own: no finding there unless the receiver is shown to be a Keras model.

## Why is this bad?

Keras 1's `fit`/`fit_generator` took the number of epochs as `nb_epoch`; Keras 2.0-2.2 still accepted it
with a deprecation warning and used it as `epochs`. Later versions take `epochs=` only, and the program stops
before it trains.

## Measured TensorFlow behaviour

Measured on tensorflow-cpu 2.21 (docs/tensorflow-behaviour.md, Keras 3 section; probe keras3_legacy_args.py
fit_nb_epoch):

- Keras 3: `model.fit(x, y, nb_epoch=1)` raises `TypeError: ... fit() got an unexpected keyword argument
  'nb_epoch'`;
- Keras 2 pinned (`tf_keras` 2.21): the same `TypeError`, so this rule also fires where Keras 2 is pinned.

## Fix safety

The fix renames the keyword to `epochs=`: the same number of passes over the data. It is safe.
"""

from __future__ import annotations

import libcst as cst

from tffix.ast_facts import Facts, has_keyword
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._keras3 import keras_receiver, method_call, own_method_names, pins_keras2, uses_keras
from ._shapes import StaticValues


# The failure this rule explains (`tffix explain` maps the message to it).
FIT_NB_EPOCH = FailureKind(
    "fit-nb-epoch", "`fit` got Keras 1's `nb_epoch=`",
    """Keras 1 named the number of epochs `nb_epoch`; Keras 2.3 and later (and Keras 3) take only
    `epochs=`. Rename the argument: it means the same.""",
    r"unexpected keyword argument 'nb_epoch'|Arguments not recognized: \{'nb_epoch'",
)

class FitNbEpoch(Rule):
    """`fit(..., nb_epoch=N)`: Keras 2 and 3 raise `TypeError` (unexpected keyword); the argument is `epochs=`."""

    code = "TFX602"
    name = "fit-nb-epoch"
    summary = "fit(nb_epoch=) raises TypeError on Keras 2.3+ and 3; the argument is epochs="
    explains = (FIT_NB_EPOCH,)
    fix = Fix.sometimes("safe")
    severity = Severity.ERROR
    triggers = ("nb_epoch",)

    VALID = (
        Valid("import tensorflow as tf\nm = tf.keras.Sequential()\nm.fit([], [], epochs=3)\n"),
        Valid("class Model:\n    def fit(self, nb_epoch=1): pass\nModel().fit(nb_epoch=2)\n"),  # no Keras here
    )
    INVALID = (
        Invalid(
            "from keras.models import Sequential\nmodel = Sequential()\nmodel.fit(x, y, nb_epoch=10, batch_size=32)\n",
            "from keras.models import Sequential\nmodel = Sequential()\nmodel.fit(x, y, epochs=10, batch_size=32)\n",
        ),
        Invalid(
            "from tensorflow import keras\nhistory = net.fit(x, y, nb_epoch=5, epochs=5)\n",
            None,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is `nb_epoch=` at a call `x.fit(...)` or `x.fit_generator(...)`."""
        return has_keyword(facts.method_calls("fit", "fit_generator"), "nb_epoch")

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)
        self.keras_file = uses_keras(context.source) or pins_keras2(context.source)
        self.own = own_method_names(context.source)

    def visit_Call(self, node: cst.Call) -> None:
        nb_epoch = argument(node, "nb_epoch")
        func = method_call(node, "fit", "fit_generator")
        if nb_epoch is None or func is None:
            return
        if not keras_receiver(self, self.values, func, self.keras_file, self.own):
            return
        message = (
            f"`{func.attr.value}(nb_epoch=...)` raises `TypeError` under Keras 3 (and Keras 2.3+): "
            "the argument is `epochs=`"
        )
        if argument(node, "epochs") is not None:
            self.report(nb_epoch, message + " (this call passes both: remove `nb_epoch=`)")
            return
        self.report(nb_epoch, message, rewrite=Rewrite.replace(
            "Rename `nb_epoch=` to `epochs=`", {nb_epoch.keyword: cst.Name("epochs")}
        ))
