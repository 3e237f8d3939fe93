"""TFX604: `workers=`, `use_multiprocessing=`, `max_queue_size=` passed to `fit`/`evaluate`/`predict`.

## What it does

Reports the three keyword arguments on `fit`, `evaluate`, `predict` and the `*_generator` methods, and removes
them. `fit` has no qualified name: the rule fires where the receiver is shown to be a Keras model in this file
or the method is a Keras-only one (`fit_generator` and its siblings), or, in a file that imports Keras, where
the call passes `use_multiprocessing=` or `max_queue_size=` (keywords that only Keras' training methods take).
`workers=` alone on an unknown receiver is left alone (other libraries' `fit` take it). Not where Keras 2 is
pinned (`tf_keras` imported, or `TF_USE_LEGACY_KERAS` in the program).

A receiver that is `self` in a class that is not a Keras model, or a method name the file defines itself (`def
fit_generator(...)`), is the program's own: no finding there unless the receiver is shown to be a Keras model.

## Why is this bad?

Keras 2's `fit`, `evaluate`, `predict` and the `*_generator` methods took these three to load batches from a
generator or `keras.utils.Sequence` in parallel threads or processes. In Keras 3 they belong to the data:
`keras.utils.PyDataset(workers=..., use_multiprocessing=..., max_queue_size=...)` (a `Sequence` subclass
passes them to `super().__init__(**kwargs)`). Passed to `fit` they stop the program.

## Measured TensorFlow behaviour

Measured on tensorflow-cpu 2.21 / Keras 3.15 (docs/tensorflow-behaviour.md, Keras 3 section; probe
keras3_legacy_args.py):

- `model.fit(x, y, workers=2)` / `use_multiprocessing=True` / `max_queue_size=2` raise `TypeError: ... fit()
  got an unexpected keyword argument`; `predict` the same; `evaluate` raises `ValueError: Arguments not
  recognized`;
- Keras 2 pinned (`tf_keras` 2.21): accepted.

## Fix safety

The fix removes the three arguments. It is unsafe: loading then runs in the training thread (slower), and with
`use_multiprocessing=True` each worker process drew its own random numbers for augmentation, so the batches a
program sees can differ. To keep parallel loading, pass the three to the `PyDataset`/`Sequence` constructor.
"""

from __future__ import annotations

import libcst as cst

from tffix.ast_facts import Facts, has_keyword
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid

from ._keras3 import is_keras_model, keras_receiver, method_call, own_method_names, pins_keras2, uses_keras, without_arguments
from ._shapes import StaticValues

WORKER_ARGUMENTS = frozenset({"workers", "use_multiprocessing", "max_queue_size"})
KERAS_ONLY_ARGUMENTS = frozenset({"use_multiprocessing", "max_queue_size"})
METHODS = ("fit", "evaluate", "predict")
GENERATOR_METHODS = ("fit_generator", "evaluate_generator", "predict_generator")


# The failure this rule explains (`tffix explain` maps the message to it).
DATA_WORKER_ARGUMENTS = FailureKind(
    "keras3-data-worker-arguments", "`fit`/`evaluate`/`predict` got `workers=`, `use_multiprocessing=` or `max_queue_size=`",
    """Keras 3's training methods no longer take the data-loading arguments: they belong to the dataset
    (`keras.utils.PyDataset(workers=..., use_multiprocessing=..., max_queue_size=...)`).""",
    r"unexpected keyword argument '(?:workers|use_multiprocessing|max_queue_size)'|Arguments not recognized: \{'(?:workers|use_multiprocessing|max_queue_size)'",
)

class DataWorkerArguments(Rule):
    """`fit(..., workers=, use_multiprocessing=, max_queue_size=)`: Keras 3 raises; they belong to the dataset."""

    code = "TFX604"
    name = "data-worker-arguments"
    summary = "Keras 3 fit/evaluate/predict reject workers=/use_multiprocessing=/max_queue_size="
    explains = (DATA_WORKER_ARGUMENTS,)
    fix = Fix.always("unsafe")
    severity = Severity.ERROR
    triggers = tuple(WORKER_ARGUMENTS)

    VALID = (
        Valid("import tensorflow as tf\nm = tf.keras.Sequential()\nm.fit(data, epochs=2)\n"),
        Valid("import keras\nclf.fit(X, y, workers=4)\n"),  # `workers` alone, receiver unknown
        Valid(
            "import os\nos.environ['TF_USE_LEGACY_KERAS'] = '1'\nimport tensorflow as tf\n"
            "m = tf.keras.models.load_model('m.keras')\nm.fit(seq, workers=4, use_multiprocessing=True)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\nmodel = tf.keras.models.load_model('m.keras')\n"
            "model.fit(seq, epochs=2, workers=4, use_multiprocessing=True)\n",
            "import tensorflow as tf\nmodel = tf.keras.models.load_model('m.keras')\n"
            "model.fit(seq, epochs=2)\n",
            unsafe=True,
        ),
        Invalid(
            "import keras\nnet.predict(seq, max_queue_size=10, verbose=0)\n",
            "import keras\nnet.predict(seq, verbose=0)\n",
            unsafe=True,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)
        self.pinned = pins_keras2(context.source)
        self.keras_file = uses_keras(context.source)
        self.own = own_method_names(context.source)

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a worker argument at a call `x.fit(...)`, `x.predict_generator(...)`, ..."""
        return has_keyword(facts.method_calls(*METHODS, *GENERATOR_METHODS), *WORKER_ARGUMENTS)

    def visit_Call(self, node: cst.Call) -> None:
        if self.pinned:
            return
        given = [a for a in node.args if a.keyword is not None and a.keyword.value in WORKER_ARGUMENTS]
        func = method_call(node, *METHODS, *GENERATOR_METHODS) if given else None
        if func is None:
            return
        names = {a.keyword.value for a in given}  # type: ignore[union-attr]
        shown = (
            is_keras_model(self, self.values, func.value)
            or ((func.attr.value in GENERATOR_METHODS or not names.isdisjoint(KERAS_ONLY_ARGUMENTS))
                and keras_receiver(self, self.values, func, self.keras_file, self.own))
        )
        if not shown:
            return
        listed = ", ".join(f"`{a.keyword.value}=`" for a in given)  # type: ignore[union-attr]
        self.report(
            given[0],
            f"Keras 3's `{func.attr.value}` does not take {listed} (it raises); pass them to the "
            "`keras.utils.PyDataset` / `Sequence` constructor instead",
            rewrite=Rewrite.replace(
                f"Remove {listed}",
                {node: lambda updated: without_arguments(updated, frozenset(names))},
                unsafe=True,
            ),
        )
