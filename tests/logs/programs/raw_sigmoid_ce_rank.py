"""tf.nn.sigmoid_cross_entropy_with_logits with labels (32,) and logits (32, 1)."""
import tensorflow as tf

logits = tf.keras.layers.Dense(1)(tf.random.normal((32, 8)))
labels = tf.ones((32,))
loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
print(float(tf.reduce_mean(loss)))
