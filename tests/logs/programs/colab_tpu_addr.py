"""The Colab TPU recipe outside Colab: the COLAB_TPU_ADDR variable is not set."""
import os

import tensorflow as tf

resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="grpc://" + os.environ["COLAB_TPU_ADDR"])
