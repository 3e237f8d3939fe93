# Q: calling model(sample) on one feature vector fails
# expect: repaired batch-axis
# diff: model(np.expand_dims(sample, 0))
# stdout: ^\[\[
import numpy as np
import keras

model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="softmax")])
sample = np.array([5.1, 3.5, 1.4, 0.2], dtype="float32")
print(model(sample).numpy())
