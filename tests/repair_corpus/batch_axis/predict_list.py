# Q: model.predict([5.9, 3.0, 5.1, 1.8]) on one flower
# expect: repaired batch-axis
# diff: np.expand_dims([5.9, 3.0, 5.1, 1.8], 0)
import numpy as np
import keras

model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(np.random.rand(30, 4), np.random.randint(0, 3, 30), epochs=1, verbose=0)
print(model.predict([5.9, 3.0, 5.1, 1.8], verbose=0))
