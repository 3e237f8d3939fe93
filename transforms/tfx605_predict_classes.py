"""TFX605: `model.predict_classes(x)` / `model.predict_proba(x)`, the Sequential helpers removed in TF 2.6.

## What it does

Reports the two methods and writes out what they computed. `predict_classes` has no qualified name: the rule
fires where the receiver is shown to be a Keras model in this file, or where the file imports Keras in any form
(the name is Keras' own). `predict_proba` is also scikit-learn's: it is reported only on a receiver shown to
be a Keras model. It fires where Keras 2 is pinned too: the methods are gone there as well.

A receiver that is `self` in a class that is not a Keras model, or a method name the file defines itself (`def
fit_generator(...)`), is the program's own: no finding there unless the receiver is shown to be a Keras model.

## Why is this bad?

Keras 2's `Sequential.predict_classes(x, batch_size=32, verbose=0)` was

    proba = self.predict(x, batch_size=batch_size, verbose=verbose)
    return proba.argmax(axis=-1) if proba.shape[-1] > 1 else (proba > 0.5).astype("int32")

and `predict_proba(x, batch_size=32, verbose=0)` returned `self.predict(...)` itself. Only `predict` is left,
and a call of the old methods stops the program.

## Measured TensorFlow behaviour

Measured on tensorflow-cpu 2.21 (docs/tensorflow-behaviour.md, Keras 3 section; probe keras3_legacy_args.py
predict_classes, predict_proba): both raise `AttributeError: 'Sequential' object has no attribute
'predict_classes'` under Keras 3 and under pinned Keras 2 (`tf_keras` 2.21) alike.

## Fix safety

The fix writes out what the old method computed: `model.predict(x, verbose=0).argmax(axis=-1)` for a head of
more than one unit (a softmax classifier), `(model.predict(x, verbose=0) > 0.5).astype("int32")` for a
one-unit head (a sigmoid classifier), and `model.predict(x, verbose=0)` for `predict_proba`; `verbose=0` keeps
the old default (`predict` prints a progress bar by default). Which expression is right depends on the width of
the model's last layer, so `predict_classes` gets a fix only where that width is known from this file (a model
built here whose head is a `Dense(n)`); the fix is then exact, hence safe. Elsewhere there is no fix: the
message says the two choices.
"""

from __future__ import annotations

import libcst as cst

from tffix.ast_facts import Facts
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._keras3 import is_keras_model, keras_receiver, method_call, own_method_names, pins_keras2, uses_keras
from ._shapes import StaticValues

_EMPTY = cst.SimpleWhitespace("")


def _predict(call: cst.Call) -> cst.Call:
    """`call` (`m.predict_classes(...)`) as `m.predict(..., verbose=0)` (its own `verbose` kept)."""
    func = call.func.with_changes(attr=cst.Name("predict"))  # type: ignore[attr-defined]
    args = list(call.args)
    if argument(call, "verbose", 2) is None:
        if args:
            args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args.append(cst.Arg(cst.Integer("0"), keyword=cst.Name("verbose"), equal=cst.AssignEqual(_EMPTY, _EMPTY)))
    return call.with_changes(func=func, args=args)


def _classes(call: cst.Call, width: int) -> cst.BaseExpression:
    predict = _predict(call)
    if width > 1:
        return cst.Call(
            cst.Attribute(predict, cst.Name("argmax")),
            [cst.Arg(cst.UnaryOperation(cst.Minus(), cst.Integer("1")), keyword=cst.Name("axis"), equal=cst.AssignEqual(_EMPTY, _EMPTY))],
        )
    above = cst.Comparison(
        predict, [cst.ComparisonTarget(cst.GreaterThan(), cst.Float("0.5"))],
        lpar=[cst.LeftParen()], rpar=[cst.RightParen()],
    )
    return cst.Call(cst.Attribute(above, cst.Name("astype")), [cst.Arg(cst.SimpleString('"int32"'))])


# The failure this rule explains (`tffix explain` maps the message to it).
PREDICT_CLASSES = FailureKind(
    "predict-classes-removed", "A Keras model has no `predict_classes` / `predict_proba`",
    """`Sequential.predict_classes` and `predict_proba` were removed in TF 2.6: take the argmax of
    `predict(x)` for a softmax head, `predict(x) > 0.5` for a sigmoid head; `predict_proba` was `predict`.""",
    r"has no attribute 'predict_(?:classes|proba)'", exception="AttributeError",
)

class PredictClasses(Rule):
    """`model.predict_classes(x)` / `predict_proba(x)`: removed (AttributeError); write out what they computed."""

    code = "TFX605"
    name = "predict-classes"
    summary = "predict_classes/predict_proba are gone (TF 2.6+): argmax or > 0.5 of predict, per the head"
    explains = (PREDICT_CLASSES,)
    fix = Fix.sometimes("safe")
    severity = Severity.ERROR
    triggers = ("predict_classes", "predict_proba")

    VALID = (
        Valid("import keras\nfrom sklearn.svm import SVC\nclf = SVC(probability=True)\np = clf.predict_proba(X)\n"),
    )
    INVALID = (
        Invalid(
            "from tensorflow import keras\n"
            "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation='softmax')])\n"
            "labels = model.predict_classes(x)\n",
            "from tensorflow import keras\n"
            "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation='softmax')])\n"
            "labels = model.predict(x, verbose=0).argmax(axis=-1)\n",
        ),
        Invalid(
            "import keras\n"
            "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation='sigmoid')])\n"
            "labels = model.predict_classes(x, batch_size=8)\n",
            "import keras\n"
            "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation='sigmoid')])\n"
            'labels = (model.predict(x, batch_size=8, verbose=0) > 0.5).astype("int32")\n',
        ),
        Invalid("import keras\nlabels = model.predict_classes(x)\n", None),
        Invalid(
            "import keras\nmodel = keras.models.load_model('m.h5')\np = model.predict_proba(x)\n",
            "import keras\nmodel = keras.models.load_model('m.h5')\np = model.predict(x, verbose=0)\n",
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a call `x.predict_classes(...)` or `x.predict_proba(...)`."""
        return bool(facts.method_calls("predict_classes", "predict_proba"))

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)
        self.keras_file = uses_keras(context.source) or pins_keras2(context.source)
        self.own = own_method_names(context.source)

    def visit_Call(self, node: cst.Call) -> None:
        func = method_call(node, "predict_classes", "predict_proba")
        if func is None:
            return
        model = is_keras_model(self, self.values, func.value)
        if func.attr.value == "predict_proba":
            if model:
                self.report(func.attr, "`predict_proba` was removed from Keras models (TF 2.6; `AttributeError`): "
                            "it returned `predict(x)`", rewrite=Rewrite.replace(
                                "Call `predict(..., verbose=0)`", {node: _predict}))
            return
        if not (model or keras_receiver(self, self.values, func, self.keras_file, self.own)):
            return
        message = "`predict_classes` was removed from Keras models (TF 2.6; `AttributeError`)"
        static = self.values.of(func.value) if model else None
        output = static.output if static is not None and static.kind == "model" else None
        width = output.shape.last_dim if output is not None and output.shape is not None else None
        if width is None or width < 1:
            self.report(func.attr, message + ": use `predict(x).argmax(axis=-1)` for a multi-unit (softmax) head, "
                        "`(predict(x) > 0.5).astype('int32')` for a one-unit (sigmoid) head")
            return
        how = "argmax of `predict`" if width > 1 else "`predict > 0.5`"
        self.report(func.attr, f"{message}: for this {width}-unit head it computed the {how}",
                    rewrite=Rewrite.replace(f"Write out the {how}", {node: lambda updated: _classes(updated, width)}))
