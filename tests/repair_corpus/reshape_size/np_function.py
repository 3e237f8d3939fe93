# Q: np.reshape(data, (500, 64)) on a different number of samples
# expect: repaired reshape-size
# diff: np.reshape(data, (-1, 64))
import numpy as np
import tensorflow as tf

data = np.random.rand(120, 8, 8)
flat = np.reshape(data, (500, 64))
print(tf.reduce_mean(flat).numpy())
