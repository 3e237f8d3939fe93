"""TFX603: `model.fit_generator` / `evaluate_generator` / `predict_generator`, removed in Keras 3.

## What it does

Reports calls of the three methods and renames them to `fit`, `evaluate`, `predict`. The method names have no
qualified name: the rule fires where the receiver is shown to be a Keras model in this file, or where the file
imports Keras (keras, tf.keras, tensorflow.keras); the three names are Keras' own. Not where Keras 2 is pinned
(`tf_keras` imported, or `TF_USE_LEGACY_KERAS` in the program): there the methods still run. The keyword
arguments carry over (`steps_per_epoch`, `epochs`, `validation_data`, `validation_steps`, `class_weight`,
`callbacks`, `initial_epoch`, `steps`; `workers`, `use_multiprocessing` and `max_queue_size` are TFX604's).
Positional arguments after the generator mean other things (`fit`'s second is `y`, `fit_generator`'s
`steps_per_epoch`): such a call is reported without a fix.

A receiver that is `self` in a class that is not a Keras model, or a method name the file defines itself (`def
fit_generator(...)`), is the program's own: no finding there unless the receiver is shown to be a Keras model.

## Why is this bad?

Keras 1 and 2 trained, evaluated and predicted from a Python generator or `keras.utils.Sequence` with these
methods; from Keras 2.4 (TF 2.1) `fit`, `evaluate` and `predict` accept generators themselves and the
`*_generator` methods only forwarded to them. Keras 3 has only `fit`/`evaluate`/`predict`.

## Measured TensorFlow behaviour

Measured on tensorflow-cpu 2.21 (docs/tensorflow-behaviour.md, Keras 3 section; probe keras3_legacy_args.py):

- Keras 3: `model.fit_generator` (and the other two) raise `AttributeError: 'Sequential' object has no
  attribute 'fit_generator'`; `model.fit(generator, steps_per_epoch=2)` and `model.evaluate(generator,
  steps=2)` train and evaluate from the generator of `(x, y)` tuples as `fit_generator` did;
- Keras 3's `predict(generator)` raises `ValueError` when the generator yields bare input arrays (`x`, not
  `(x,)`), which `predict_generator` (and Keras 2's `predict`) accepted;
- Keras 2 pinned (`tf_keras` 2.21): the `*_generator` methods still run (deprecated).

## Fix safety

`fit_generator` -> `fit` and `evaluate_generator` -> `evaluate` are safe: the same computation. Where the old
call passed `verbose` by default, `evaluate_generator` and `predict_generator` printed nothing (default 0)
while `evaluate`/`predict` print a progress bar ("auto"), so the fix writes `verbose=0` for them.
`predict_generator` -> `predict` is unsafe: a generator yielding bare arrays makes `predict` raise, and whether
it does is rarely visible in the file.
"""

from __future__ import annotations

import libcst as cst

from tffix.ast_facts import Facts
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid

from ._keras3 import keras_receiver, method_call, own_method_names, pins_keras2, uses_keras
from ._shapes import StaticValues

RENAMES = {"fit_generator": "fit", "evaluate_generator": "evaluate", "predict_generator": "predict"}
QUIET_BY_DEFAULT = ("evaluate_generator", "predict_generator")


# The failure this rule explains (`tffix explain` maps the message to it).
GENERATOR_METHODS = FailureKind(
    "keras3-generator-methods", "A Keras model has no `fit_generator` (or its siblings)",
    """Keras 3 removed `fit_generator`, `evaluate_generator` and `predict_generator`: `fit`, `evaluate` and
    `predict` take the generator or `Sequence` themselves.""",
    r"has no attribute '(?:fit|evaluate|predict)_generator'", exception="AttributeError",
)

class GeneratorMethods(Rule):
    """`model.fit_generator(...)` and its siblings: Keras 3 has no such methods; `fit`/`evaluate`/`predict`
    take the generator."""

    code = "TFX603"
    name = "generator-methods"
    summary = "Keras 3 models have no fit_generator/evaluate_generator/predict_generator: use fit/evaluate/predict"
    explains = (GENERATOR_METHODS,)
    fix = Fix.sometimes("safe", "unsafe")
    severity = Severity.ERROR
    triggers = tuple(RENAMES)

    VALID = (
        Valid("import tensorflow as tf\nm = tf.keras.Sequential()\nm.fit(gen, steps_per_epoch=10)\n"),
        Valid(  # Keras 2 pinned: the methods still exist
            "import tf_keras as keras\nm = keras.Sequential()\nm.fit_generator(gen, steps_per_epoch=10)\n"
        ),
    )
    INVALID = (
        Invalid(
            "from tensorflow import keras\nmodel = keras.Sequential()\n"
            "model.fit_generator(gen, steps_per_epoch=10, epochs=3)\n",
            "from tensorflow import keras\nmodel = keras.Sequential()\n"
            "model.fit(gen, steps_per_epoch=10, epochs=3)\n",
        ),
        Invalid(
            "import keras\nscore = model.evaluate_generator(val_gen, steps=5)\n",
            "import keras\nscore = model.evaluate(val_gen, steps=5, verbose=0)\n",
        ),
        Invalid(
            "import keras\npred = model.predict_generator(test_gen, 5, verbose=1)\n",
            None,
        ),
        Invalid(
            "import keras\npred = model.predict_generator(test_gen, steps=5)\n",
            "import keras\npred = model.predict(test_gen, steps=5, verbose=0)\n",
            unsafe=True,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a call `x.fit_generator(...)`, `x.evaluate_generator(...)` or `x.predict_generator(...)`."""
        return bool(facts.method_calls(*RENAMES))

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)
        self.pinned = pins_keras2(context.source)
        self.keras_file = uses_keras(context.source)
        self.own = own_method_names(context.source)

    def visit_Call(self, node: cst.Call) -> None:
        func = method_call(node, *RENAMES)
        if func is None or self.pinned:
            return
        if not keras_receiver(self, self.values, func, self.keras_file, self.own):
            return
        old = func.attr.value
        new = RENAMES[old]
        message = f"`{old}` does not exist in Keras 3 (`AttributeError`): `{new}` takes the generator"
        positional = [arg for arg in node.args if arg.keyword is None]
        if len(positional) != 1 or positional[0].star:
            self.report(func.attr, message + " (positional arguments after the generator mean other things "
                        f"to `{new}`: pass them by keyword)")
            return
        changes: dict[cst.CSTNode, object] = {func.attr: cst.Name(new)}
        if old in QUIET_BY_DEFAULT and not any(a.keyword is not None and a.keyword.value == "verbose" for a in node.args):
            last = node.args[-1]
            changes[last] = lambda arg: cst.FlattenSentinel([
                arg.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.Arg(cst.Integer("0"), keyword=cst.Name("verbose"),
                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))),
            ])
        unsafe = old == "predict_generator"
        if unsafe:
            message += " (unsafe: Keras 3's `predict` raises on a generator that yields bare arrays, not tuples)"
        self.report(func.attr, message, rewrite=Rewrite.replace(f"Call `{new}` instead of `{old}`", changes, unsafe=unsafe))
