# Q: CNN predict on one image: expected min_ndim=4, found ndim=3
# expect: repaired batch-axis
# diff: expand_dims(picture, 0)
import numpy as np
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(16, 16, 3)), layers.Conv2D(4, 3), layers.GlobalAveragePooling2D(), layers.Dense(2)])
picture = np.random.rand(16, 16, 3).astype("float32")
print(model.predict(picture, verbose=0))
