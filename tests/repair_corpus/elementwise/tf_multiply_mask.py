# Q: tf.multiply(scores, mask) with mask (4, 6) and scores (6, 4)
# expect: repaired elementwise
# diff: tf.transpose(
# stdout: ^\(6, 4\)$
import tensorflow as tf

scores = tf.random.uniform((6, 4))
mask = tf.cast(tf.random.uniform((4, 6)) > 0.5, tf.float32)
masked = tf.multiply(scores, mask)
print(masked.shape)
