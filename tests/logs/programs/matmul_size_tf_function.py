"""Matmul with mismatched inner dimensions inside tf.function: a TF2 graph execution error."""
import tensorflow as tf


@tf.function
def project(a, b):
    return tf.matmul(a, b)


print(project(tf.ones([2, 2]), tf.ones([3, 2])))
