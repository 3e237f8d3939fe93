# Q: tf.reshape(x, (batch_size, -1)) fails on the last, smaller batch
# expect: repaired reshape-size
# diff: tf.reshape(features, (tf.shape(features)[0], -1))
# stdout: ^90$
import tensorflow as tf

batch_size = 64
data = tf.random.uniform((90, 4, 4))
dataset = tf.data.Dataset.from_tensor_slices(data).batch(batch_size)
total = 0
for features in dataset:
    flat = tf.reshape(features, (batch_size, -1))
    total += int(flat.shape[0])
print(total)
