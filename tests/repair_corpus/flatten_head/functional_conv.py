# Q: functional CNN, the head gets a 4-D tensor
# expect: repaired flatten-head
# diff: layers.Dense(2, activation="softmax")(layers.Flatten()(x))
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers

inputs = tf.keras.Input(shape=(9, 9, 1))
x = layers.Conv2D(6, 3, activation="relu")(inputs)
x = layers.MaxPooling2D()(x)
outputs = layers.Dense(2, activation="softmax")(x)
model = tf.keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(np.random.rand(20, 9, 9, 1), np.random.randint(0, 2, 20), epochs=1, verbose=0)
