"""A helper module of a small project: the loss lives here, away from the training script."""
import tensorflow as tf


def discriminator_loss(labels, logits):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
