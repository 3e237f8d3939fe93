# Q: x @ w with a 1-D x raises in TensorFlow
# expect: repaired matmul
# diff: tf.expand_dims(x, 0) @ w
import tensorflow as tf

x = tf.ones((5,))
w = tf.ones((5, 2))
y = x @ w
print(y.numpy())
