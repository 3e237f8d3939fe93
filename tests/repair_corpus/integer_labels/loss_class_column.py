# Q: CategoricalCrossentropy with labels of shape (N, 1): target.shape=(None, 1), output.shape=(None, 5)
# expect: repaired integer-labels
# diff: SparseCategoricalCrossentropy
import numpy as np
import tensorflow as tf

images = np.random.rand(60, 16).astype("float32")
labels = np.random.randint(0, 5, size=(60, 1))
model = tf.keras.Sequential([tf.keras.Input(shape=(16,)), tf.keras.layers.Dense(5, activation="softmax")])
model.compile(optimizer="adam", loss=tf.keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
model.fit(images, labels, epochs=1, verbose=0)
