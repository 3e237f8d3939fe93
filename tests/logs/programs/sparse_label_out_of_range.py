"""Sparse categorical cross-entropy with a label value of 4 for 3 classes."""
import tensorflow as tf

logits = tf.random.normal((4, 3))
labels = tf.constant([0, 1, 2, 4])
loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
print(loss)
