# Q: Incompatible shapes: [3,4] vs. [4,3] [Op:AddV2]
# expect: repaired elementwise
# diff: tf.transpose(b)
# stdout: ^78\.0$
import tensorflow as tf

a = tf.ones((3, 4))
b = tf.reshape(tf.range(12, dtype=tf.float32), (4, 3))
c = a + b
print(c.numpy().sum())
