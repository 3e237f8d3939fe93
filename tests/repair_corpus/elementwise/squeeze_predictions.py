# Q: predictions (8, 3, 1) minus targets (8, 3): Incompatible shapes
# expect: repaired elementwise
# diff: tf.squeeze(preds, -1)
import tensorflow as tf

preds = tf.random.normal((8, 3, 1))
targets = tf.random.normal((8, 3))
err = preds - targets
print(tf.reduce_mean(tf.square(err)).numpy())
