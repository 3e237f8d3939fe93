"""Eager matmul with mismatched inner dimensions."""
import tensorflow as tf

a = tf.ones([2, 2])
b = tf.ones([3, 2])
print(tf.matmul(a, b))
