# Q: x @ w with a 1-D x raises in TensorFlow
# expect: repaired matmul
# diff: tf.expand_dims(x, 0) @ w
# stdout: ^\[\[5\. 5\.\]\]$
import tensorflow as tf

x = tf.ones((5,))
w = tf.ones((5, 2))
y = x @ w
print(y.numpy())
