# Q: MaxPooling2D(pool_size=(4, 4)) after a conv on small inputs
# expect: repaired conv-window
# diff: padding="same"
import numpy as np
import tensorflow as tf

model = tf.keras.Sequential()
model.add(tf.keras.Input(shape=(5, 5, 2)))
model.add(tf.keras.layers.Conv2D(4, (3, 3), activation="relu"))
model.add(tf.keras.layers.MaxPooling2D(pool_size=(4, 4)))
model.add(tf.keras.layers.Flatten())
model.add(tf.keras.layers.Dense(1))
model.compile(optimizer="adam", loss="mse")
model.fit(np.random.rand(10, 5, 5, 2), np.random.rand(10, 1), epochs=1, verbose=0)
