# Q: Incompatible shapes: [4,5] vs. [3] -- the bias has the wrong length; what it should hold is unknown
# expect: no-repair
import tensorflow as tf

x = tf.ones((4, 5))
bias = tf.constant([0.1, 0.2, 0.3])
print((x + bias).numpy())
