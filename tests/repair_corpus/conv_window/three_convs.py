# Q: Computed output size would be zero or negative: three 3x3 convs and a pool on 8x8 images
# expect: repaired conv-window
# diff: padding="same"
import numpy as np
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    layers.Conv2D(8, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Conv2D(8, 3, activation="relu"),
    layers.Conv2D(8, 3, activation="relu"),
    layers.Flatten(),
    layers.Dense(2, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(np.random.rand(16, 8, 8, 1), np.random.randint(0, 2, 16), epochs=1, verbose=0)
