# Q: sparse_softmax_cross_entropy_with_logits: labels (N, 1) read as a column, rank must equal logits rank - 1
# expect: repaired elementwise
# diff: tf.squeeze(class_ids, -1)
# stdout: ^loss \d
import numpy as np
import tensorflow as tf

class_ids = np.random.randint(0, 4, size=(12, 1))
logits = tf.random.normal((12, 4))
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=class_ids, logits=logits))
print("loss", float(loss))
