"""A tf.Variable attribute of a Keras layer, trained by fit: is it tracked, does it change? CASE tf_variable
(Keras 3), keras_variable (keras.Variable, Keras 3), legacy (tf.Variable, Keras 2 pinned with TF_USE_LEGACY_KERAS=1).
Prints `CASE tracked=N changed=BOOL`."""
import os
import sys
import warnings

case = sys.argv[1]
if case == "legacy":
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
import numpy as np
import tensorflow as tf

keras = tf.keras
make = keras.Variable if case == "keras_variable" else tf.Variable


class Linear(keras.layers.Layer):
    def build(self, shape):
        self.w = make(tf.ones((shape[-1], 1)))

    def call(self, x):
        return tf.matmul(x, self.w)


model = keras.Sequential([keras.Input((3,)), Linear()])
model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
start = model.layers[0].w.numpy().copy()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model.fit(np.ones((8, 3)), np.zeros((8, 1)), verbose=0)
print(case, f"tracked={len(model.trainable_weights)}", f"changed={not np.allclose(start, model.layers[0].w.numpy())}")
