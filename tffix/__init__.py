"""tffix: find and fix the code patterns behind TensorFlow failures, with LibCST."""

__version__ = "0.1.0"
