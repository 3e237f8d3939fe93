# Q: sigmoid_cross_entropy_with_logits: logits and labels must have the same shape ((16, 1) vs (16,))
# expect: repaired elementwise
# diff: tf.expand_dims(real_labels, -1)
# stdout: ^d_loss \d
import tensorflow as tf

discriminator = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(1)])
images = tf.random.normal((16, 8))
real_labels = tf.ones((16,))
real_logits = discriminator(images)
d_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=real_labels, logits=real_logits))
print("d_loss", float(d_loss))
