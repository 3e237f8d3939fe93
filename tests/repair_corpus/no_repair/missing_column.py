# Q: KeyError on a feature name: not a shape problem
# expect: no-repair
import numpy as np
import keras

columns = {"age": np.random.rand(20), "income": np.random.rand(20)}
x = np.stack([columns["age"], columns["height"]], axis=1)
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
