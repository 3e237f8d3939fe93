# Q: multiply a matrix by a vector with tf.matmul
# expect: repaired matmul
# diff: tf.expand_dims(b, -1)
# stdout: ^\[\[-2\.\]
import tensorflow as tf

A = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
b = tf.constant([1.0, 0.0, -1.0])
print(tf.matmul(A, b).numpy())
