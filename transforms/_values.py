"""Shapes, dtypes and static values of tensors, layers and models, and the arithmetic on them.

What `_shapes.StaticValues` infers is a `Static`: a kind (tensor, layer, model, int, ...), a `Shape` whose rank
or dimensions may be unknown (None), a canonical dtype string, and for a layer or model what it does to its
input. The functions here combine known values the way TensorFlow does (broadcasting, reshape, matmul, a layer
applied to an input) and answer None whenever the result is not known for certain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import libcst as cst


Dims = tuple["int | None", ...]


DTYPES = frozenset(
    {
        "float16", "bfloat16", "float32", "float64", "half", "double",
        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "bool", "string", "complex64", "complex128",
    }
)


_DTYPE_ALIASES = {"half": "float16", "double": "float64", "float": "float32", "bool_": "bool"}


FLOAT_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64"})


INT_DTYPES = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"})


@dataclass(frozen=True)
class Shape:
    """A static shape. `dims` None: the rank is unknown (yet `last` may be known, e.g. after `Dense(k)`).
    A dimension None is unknown (a batch dimension, a placeholder's `None`)."""

    dims: Dims | None
    last: int | None = None  # the last dimension when `dims` is None

    @classmethod
    def of(cls, dims: Iterable[int | None]) -> Shape:
        return cls(tuple(dims))

    @classmethod
    def ending_in(cls, last: int | None) -> Shape:
        return cls(None, last)

    @property
    def rank(self) -> int | None:
        return None if self.dims is None else len(self.dims)

    @property
    def last_dim(self) -> int | None:
        if self.dims is None:
            return self.last
        return self.dims[-1] if self.dims else None

    @property
    def fully_known(self) -> bool:
        return self.dims is not None and all(d is not None for d in self.dims)

    @property
    def size(self) -> int | None:
        """Number of elements, when every dimension is known."""
        if not self.fully_known:
            return None
        total = 1
        for d in self.dims:  # type: ignore[union-attr]
            total *= d  # type: ignore[operator]
        return total

    def with_last(self, last: int | None) -> Shape:
        """This shape with its last dimension replaced (what a Dense layer does)."""
        if self.dims is None or not self.dims:
            return Shape(None, last)
        return Shape(self.dims[:-1] + (last,))

    def squeezed(self) -> Dims | None:
        """The dimensions without the ones known to be 1 (None when the rank is unknown)."""
        return None if self.dims is None else tuple(d for d in self.dims if d != 1)

    def single_column(self) -> bool:
        """(N,) or (N, 1): one target per example, as a binary loss expects for a 1-unit head."""
        if self.dims is None:
            return False
        return self.rank == 1 or (self.rank == 2 and self.dims[-1] == 1)

    def definitely_differs(self, other: Shape) -> bool:
        """True only when the shapes are known to differ (a known rank or a known dimension disagrees)."""
        if self.dims is not None and other.dims is not None:
            if len(self.dims) != len(other.dims):
                return True
            return any(a is not None and b is not None and a != b for a, b in zip(self.dims, other.dims))
        a, b = self.last_dim, other.last_dim
        return a is not None and b is not None and a != b

    def __str__(self) -> str:
        if self.dims is None:
            return f"(..., {self.last if self.last is not None else '?'})"
        inner = ", ".join("None" if d is None else str(d) for d in self.dims)
        return f"({inner},)" if len(self.dims) == 1 else f"({inner})"


@dataclass(frozen=True)
class Static:
    """What is statically known about a value. Every field may be None (unknown).

    kind: "tensor" (tensors and arrays), "layer", "model" (a callable that maps tensors to tensors), "int"
    or "tuple" (Python constants: `value` holds them).
    For tensors, `head` is the `Dense(...)` call that produced the last dimension and `activation` that
    head's activation after any Activation/Softmax layers ("softmax", "sigmoid", "linear", or None when
    unknown). For a layer or model, `output` is what calling it on an unknown input gives, and `layers`
    (Sequential) the layer values in order, so a call on a known input can be folded through them.
    """

    kind: str = "tensor"
    shape: Shape | None = None
    dtype: str | None = None
    value: object = None
    head: cst.Call | None = None
    activation: str | None = None
    layers: tuple[Static, ...] | None = None
    output: Static | None = None
    numpy: bool = False  # a NumPy array rather than a tf.Tensor (NumPy's default dtypes are 64-bit)
    literal: bool = False  # Python literal data ([[1.0], [0.0]], 3.0): its dtype is the one TensorFlow infers


# Layers that keep the shape of their input (and so a Dense head's last dimension).
SHAPE_PRESERVING = frozenset(
    f"keras.layers.{name}"
    for name in (
        "Activation", "Softmax", "ReLU", "LeakyReLU", "PReLU", "ELU", "Dropout", "AlphaDropout",
        "GaussianDropout", "GaussianNoise", "BatchNormalization", "LayerNormalization", "UnitNormalization",
        "ActivityRegularization", "Identity",
    )
)


ACTIVATION_NAMES = {"softmax": "softmax", "sigmoid": "sigmoid", "linear": "linear", "log_softmax": "softmax"}


UNKNOWN_LAYER = Static(kind="layer", value="unknown")


# --- shape arithmetic -------------------------------------------------------------------------------------------
def reshaped(source: Static | None, shape: Shape | None, numpy: bool = False) -> Static | None:
    if shape is None or shape.dims is None:
        return None
    dims = list(shape.dims)
    unknown = [i for i, d in enumerate(dims) if d is None]
    size = source.shape.size if source is not None and source.shape is not None else None
    if len(unknown) == 1 and size is not None:
        rest = 1
        for d in dims:
            rest *= d if d is not None else 1
        if rest and size % rest == 0:
            dims[unknown[0]] = size // rest
    dtype = source.dtype if source is not None else None
    return Static(shape=Shape.of(dims), dtype=dtype, numpy=numpy or bool(source and source.numpy))


def expanded(source: Static | None, axis: int | None) -> Static | None:
    if source is None or source.shape is None or source.shape.dims is None or axis is None:
        return None
    dims = list(source.shape.dims)
    index = axis if axis >= 0 else len(dims) + 1 + axis
    if not 0 <= index <= len(dims):
        return None
    dims.insert(index, 1)
    return replace(source, shape=Shape.of(dims), head=None, value=None)


def matmul_of(a: Static, b: Static, transpose_a: bool, transpose_b: bool) -> Static | None:
    """(..., n, k) @ (..., k, m) -> (..., n, m). When only `b`'s rank is known, the result still ends in m
    (both operands must have rank 2 or more, and the batch dimensions broadcast in front); None when `b`'s
    rank is unknown or a rank is below 2."""
    if b.shape is not None and b.shape.dims is not None and len(b.shape.dims) >= 2 and (
        a.shape is None or a.shape.dims is None
    ):
        last = b.shape.dims[-2] if transpose_b else b.shape.dims[-1]
        # a Python list `b` takes `a`'s dtype; otherwise the op runs only when the dtypes agree
        dtype = b.dtype if not b.literal or a.dtype == b.dtype else None
        return Static(shape=Shape.ending_in(last), dtype=dtype)
    if a.shape is None or b.shape is None or a.shape.dims is None or b.shape.dims is None:
        return None
    if len(a.shape.dims) < 2 or len(b.shape.dims) < 2:
        return None
    n = a.shape.dims[-1] if transpose_a else a.shape.dims[-2]
    k_out = b.shape.dims[-2] if transpose_b else b.shape.dims[-1]
    batch = a.shape.dims[:-2] if len(a.shape.dims) >= len(b.shape.dims) else b.shape.dims[:-2]
    dtype = a.dtype if a.dtype == b.dtype else None
    return Static(shape=Shape.of(batch + (n, k_out)), dtype=dtype)


def broadcast(a: Shape, b: Shape) -> Shape | None:
    """The broadcast of two shapes of known rank; None when unknown or known to be incompatible."""
    if a.dims is None or b.dims is None:
        return None
    rank = max(len(a.dims), len(b.dims))
    left = (1,) * (rank - len(a.dims)) + a.dims
    right = (1,) * (rank - len(b.dims)) + b.dims
    dims: list[int | None] = []
    for x, y in zip(left, right):
        if x is not None and y is not None and x != y and 1 not in (x, y):
            return None
        dims.append(_broadcast_dim(x, y))
    return Shape.of(dims)


def _broadcast_dim(x: int | None, y: int | None) -> int | None:
    """One dimension of a broadcast that runs: a known dimension other than 1 wins."""
    if x == y or y == 1:
        return x
    if x == 1:
        return y
    return x if y is None else y


def _partial_broadcast(a: Shape, b: Shape) -> Shape | None:
    """The broadcast when a rank is unknown: the last dimensions align, so the result's may be known
    ((..., 128) + (128,) -> (..., 128)). A scalar counts as a last dimension of 1."""
    x = 1 if a.dims == () else a.last_dim
    y = 1 if b.dims == () else b.last_dim
    if x is not None and y is not None and x != y and 1 not in (x, y):
        return None
    last = _broadcast_dim(x, y)
    return Shape.ending_in(last) if last is not None else None


def elementwise(a: Static, b: Static) -> Static | None:
    shape = broadcast(a.shape, b.shape) if a.shape is not None and b.shape is not None else None
    if shape is None and a.shape is not None and b.shape is not None and None in (a.shape.dims, b.shape.dims):
        shape = _partial_broadcast(a.shape, b.shape)
    dtype = a.dtype if a.dtype == b.dtype else None
    if shape is None and dtype is None:
        return None
    return Static(shape=shape, dtype=dtype, numpy=a.numpy and b.numpy)


def apply_layer(layer: Static, inputs: Static) -> Static | None:
    if layer.kind == "model":
        if layer.layers is not None:
            current: Static | None = inputs
            for inner in layer.layers:
                current = apply_layer(inner, current) if current is not None else None
            return current
        return layer.output
    if layer.value == "input":  # keras.Input in a Sequential: a known input of the same rank wins
        known = inputs.shape is not None and inputs.shape.rank == layer.output.shape.rank  # type: ignore[union-attr]
        return inputs if known else layer.output
    if layer.value == "dense":
        out = layer.output
        shape = inputs.shape.with_last(out.shape.last) if inputs.shape is not None else out.shape  # type: ignore[union-attr]
        return replace(out, shape=shape)  # type: ignore[arg-type]
    if layer.value == "flatten":  # (N, ...) -> (N, product of the rest)
        dims = inputs.shape.dims if inputs.shape is not None else None
        if not dims:
            return Static(shape=Shape.of((None, None)), dtype=inputs.dtype)
        rest = Shape.of(dims[1:]).size if len(dims) > 1 else 1
        return Static(shape=Shape.of((dims[0], rest)), dtype=inputs.dtype)
    if layer.value == "preserve":
        if layer.activation is not None:
            return replace(inputs, activation=layer.activation)
        return inputs
    return Static()  # a layer of unknown effect


def fold_layers(layers: list[Static]) -> Static | None:
    current: Static | None = Static()
    for layer in layers:
        current = apply_layer(layer, current) if current is not None else None
    return current


def same_value(a: Static, b: Static) -> bool:
    return a.kind == b.kind and a.shape == b.shape and a.dtype == b.dtype and a.head is b.head


def int_arithmetic(operator: cst.BaseBinaryOp, a: int, b: int) -> int | None:
    if isinstance(operator, cst.Add):
        return a + b
    if isinstance(operator, cst.Subtract):
        return a - b
    if isinstance(operator, cst.Multiply):
        return a * b
    if isinstance(operator, cst.FloorDivide) and b:
        return a // b
    return None


def canonical_dtype(text: str) -> str | None:
    text = _DTYPE_ALIASES.get(text, text)
    return text if text in DTYPES else None
