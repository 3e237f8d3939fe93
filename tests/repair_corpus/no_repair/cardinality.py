# Q: Data cardinality is ambiguous: x sizes: 100, y sizes: 90 -- which rows belong together is the author's call
# expect: no-repair
import numpy as np
import keras

x = np.random.rand(100, 4)
y = np.random.rand(90)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=1, verbose=0)
