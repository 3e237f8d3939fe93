"""Keras 2 spellings on Keras 3 (TF 2.21), one per CASE; with `legacy` as a second argument, on pinned Keras 2
(TF_USE_LEGACY_KERAS=1, tf-keras installed). Prints `CASE OK value` or `CASE ERR Exception message`."""
import os
import sys

case = sys.argv[1]
if sys.argv[2:] == ["legacy"]:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
import warnings

import numpy as np
import tensorflow as tf

keras = tf.keras


def model():
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    return m


def gen(tuples=True):
    while True:
        yield (np.ones((4, 3)), np.ones((4, 1))) if tuples else np.ones((4, 3))


x, y = np.ones((8, 3)), np.ones((8, 1))
CASES = {
    "adam_lr": lambda: round(float(keras.optimizers.Adam(lr=0.5).learning_rate), 4),
    "sgd_lr": lambda: keras.optimizers.SGD(lr=0.1),
    "fit_nb_epoch": lambda: model().fit(x, y, nb_epoch=1, verbose=0),
    "fit_generator": lambda: len(model().fit_generator(gen(), steps_per_epoch=2, verbose=0).history["loss"]),
    "fit_generator_attr": lambda: model().fit_generator,
    "fit_with_generator": lambda: len(model().fit(gen(), steps_per_epoch=2, epochs=2, verbose=0).history["loss"]),
    "evaluate_generator_attr": lambda: model().evaluate_generator,
    "predict_generator_attr": lambda: model().predict_generator,
    "predict_bare_generator": lambda: model().predict(gen(False), steps=2, verbose=0).shape,
    "fit_workers": lambda: model().fit(x, y, workers=2, verbose=0),
    "fit_use_multiprocessing": lambda: model().fit(x, y, use_multiprocessing=True, verbose=0),
    "fit_max_queue_size": lambda: model().fit(x, y, max_queue_size=2, verbose=0),
    "evaluate_workers": lambda: model().evaluate(x, y, workers=2, verbose=0),
    "predict_classes": lambda: model().predict_classes,
    "predict_proba": lambda: model().predict_proba,
    "dense_float": lambda: keras.layers.Dense(2.0),
    "dense_float_units": lambda: keras.layers.Dense(2.7).units,
    "embedding_float": lambda: keras.layers.Embedding(10.0, 3),
    "conv2d_float": lambda: type(keras.layers.Conv2D(2.0, 3)).__name__,
    "get_session": lambda: keras.backend.get_session,
    "set_session": lambda: keras.backend.set_session,
    "layers_merge": lambda: keras.layers.merge,
    "np_utils": lambda: keras.utils.np_utils,
    "legacy_optimizer": lambda: keras.optimizers.legacy.Adam(learning_rate=0.1),
    "conv2d_init": lambda: keras.layers.Conv2D(3, 3, init="he_normal"),
}
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        print(case, "OK", CASES[case]())
except Exception as e:  # noqa: BLE001 (the probe reports whatever is raised)
    print(case, "ERR", type(e).__name__, str(e)[:160].replace("\n", " "))
