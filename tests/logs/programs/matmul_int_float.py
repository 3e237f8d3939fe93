"""Eager matmul of an int32 tensor by a float32 one."""
import tensorflow as tf

counts = tf.constant([[1, 2]])
weights = tf.constant([[1.0], [2.0]])
print(tf.matmul(counts, weights))
