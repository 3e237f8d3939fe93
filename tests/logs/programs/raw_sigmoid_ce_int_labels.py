"""tf.nn.sigmoid_cross_entropy_with_logits with int32 labels."""
import tensorflow as tf

logits = tf.random.normal((4, 1))
labels = tf.ones((4, 1), tf.int32)
loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
print(loss)
