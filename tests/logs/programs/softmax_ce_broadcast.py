"""tf.nn.softmax_cross_entropy_with_logits with one-hot labels of depth 3 and 4 logits."""
import tensorflow as tf

labels = tf.one_hot([0, 1, 2, 1], 3)
logits = tf.random.normal((4, 4))
print(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
