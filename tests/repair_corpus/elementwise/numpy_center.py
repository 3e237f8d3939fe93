# Q: operands could not be broadcast together with shapes (10,2) (10,)
# expect: repaired elementwise
# diff: np.expand_dims(means, -1)
import numpy as np
import tensorflow as tf

points = np.random.rand(10, 2)
means = points.mean(axis=1)
centered = points - means
print(tf.constant(centered).shape)
