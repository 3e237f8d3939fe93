# Q: multiply each row by its weight: Incompatible shapes: [5,3] vs. [5]
# expect: repaired elementwise
# diff: tf.expand_dims(w, -1)
import tensorflow as tf

rows = tf.random.normal((5, 3))
w = tf.constant([0.1, 0.2, 0.3, 0.2, 0.2])
weighted = rows * w
print(tf.reduce_sum(weighted).numpy())
