"""What each TensorFlow/Keras constructor makes, from its arguments: the table `TF_CONSTRUCTORS`.

Each entry is a function of the `StaticValues` asking and the call: `tf.zeros((32, 1))` is a float32 tensor of
shape (32, 1), `tf.one_hot(labels, 3)` adds a last dimension of 3, `tf.Variable(0)` is an int32 scalar. One
entry per canonical API name (`tffix.names`); an argument that is not known leaves that part unknown.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m

from tffix.rule import argument, literal_int

from ._values import Shape, Static, elementwise, expanded, matmul_of, reshaped

if TYPE_CHECKING:
    from ._shapes import StaticValues


# --- TensorFlow constructors ------------------------------------------------------------------------------------
def _dtype_kw(values: StaticValues, call: cst.Call, position: int | None = None) -> str | None:
    arg = argument(call, "dtype", position)
    return values.dtype_name(arg.value) if arg is not None else None


def _dtype_or(values: StaticValues, call: cst.Call, position: int | None, default: str | None) -> str | None:
    """The dtype the call's `dtype=` names; `default` (what the op makes without one) when there is no such
    argument, and None (unknown) when there is one this analysis cannot read (`dtype=self.compute_dtype`)."""
    arg = argument(call, "dtype", position)
    if arg is None:
        return default
    return values.dtype_name(arg.value)


def _filled(values: StaticValues, call: cst.Call) -> Static:  # tf.zeros / tf.ones / tf.fill
    shape = values.shape_arg(argument(call, "shape", 0) or argument(call, "dims", 0))
    if values.is_api(call.func, "tf.fill"):
        fill = values.of(argument(call, "value", 1))
        dtype = "int32" if fill is not None and fill.kind == "int" else fill.dtype if fill is not None else None
        return Static(shape=shape, dtype=dtype)
    arg = argument(call, "dtype", 1)
    return Static(shape=shape, dtype=values.dtype_name(arg.value) if arg is not None else "float32")


def _like(values: StaticValues, call: cst.Call) -> Static | None:  # tf.zeros_like / tf.ones_like
    source = values.of(argument(call, "input", 0) or argument(call, "tensor", 0))
    if source is None or source.kind != "tensor":
        return None
    return Static(shape=source.shape, dtype=_dtype_or(values, call, 1, source.dtype))


def _random(values: StaticValues, call: cst.Call) -> Static:  # tf.random.normal / uniform / truncated_normal
    return Static(shape=values.shape_arg(argument(call, "shape", 0)), dtype=_dtype_or(values, call, None, "float32"))


def _constant(values: StaticValues, call: cst.Call) -> Static | None:  # tf.constant / convert_to_tensor
    source = values.of(argument(call, "value", 0))
    dtype = _dtype_kw(values, call, 1)
    if argument(call, "dtype", 1) is not None and dtype is None:  # a dtype this analysis cannot read
        source = values.of(argument(call, "value", 0))
        shape_arg = argument(call, "shape", 2)
        shape = values.shape_arg(shape_arg) if shape_arg is not None else source.shape if source is not None else None
        return Static(shape=shape) if shape is not None else None
    shape_arg = argument(call, "shape", 2)
    shape = values.shape_arg(shape_arg) if shape_arg is not None else None
    if source is None or source.kind not in ("tensor", "int"):
        return Static(shape=shape, dtype=dtype) if shape is not None or dtype is not None else None
    if source.kind == "int":
        return Static(shape=shape or Shape.of(()), dtype=dtype or "int32")
    return Static(shape=shape or source.shape, dtype=dtype or source.dtype)  # a NumPy array keeps its dtype


def _variable(values: StaticValues, call: cst.Call) -> Static | None:  # tf.Variable(initial_value, dtype=)
    source = values.of(argument(call, "initial_value", 0))
    dtype = _dtype_kw(values, call)
    if source is None or source.kind != "tensor":
        if dtype:
            return Static(dtype=dtype)
        if source is not None and source.kind == "int":  # tf.Variable(0): a Python int is int32
            return Static(shape=Shape.of(()), dtype="int32")
        return None
    return Static(shape=source.shape, dtype=_dtype_or(values, call, None, source.dtype))


def _placeholder(values: StaticValues, call: cst.Call) -> Static:  # tf.compat.v1.placeholder(dtype, shape)
    return Static(shape=values.shape_arg(argument(call, "shape", 1)), dtype=_dtype_kw(values, call, 0))


def _keras_input(values: StaticValues, call: cst.Call) -> Static | None:  # keras.Input(shape, batch_size)
    shape = values.shape_arg(argument(call, "shape", 0))
    batch = values.int_of(argument(call, "batch_size", 1))
    if shape is None or shape.dims is None:
        return None
    return Static(shape=Shape.of((batch,) + shape.dims), dtype=_dtype_or(values, call, None, "float32"))


def _one_hot(values: StaticValues, call: cst.Call) -> Static:  # tf.one_hot(indices, depth)
    depth = values.int_of(argument(call, "depth", 1))
    indices = values.shape_of(argument(call, "indices", 0))
    shape = Shape.of(indices.dims + (depth,)) if indices is not None and indices.dims is not None else Shape.ending_in(depth)
    axis = argument(call, "axis", 4)
    if axis is not None and values.int_of(axis.value) not in (-1,):
        shape = None  # the depth goes elsewhere
    return Static(shape=shape, dtype=_dtype_or(values, call, 5, "float32"))


def _cast(values: StaticValues, call: cst.Call) -> Static | None:  # tf.cast(x, dtype)
    source = values.of(argument(call, "x", 0))
    dtype = _dtype_kw(values, call, 1)
    shape = source.shape if source is not None and source.kind == "tensor" else None
    return Static(shape=shape, dtype=dtype) if shape is not None or dtype is not None else None


def _tf_reshape(values: StaticValues, call: cst.Call) -> Static | None:
    return reshaped(values.of(argument(call, "tensor", 0)), values.shape_arg(argument(call, "shape", 1)))


def _tf_expand_dims(values: StaticValues, call: cst.Call) -> Static | None:
    return expanded(values.of(argument(call, "input", 0)), values.int_of(argument(call, "axis", 1)))


def _tf_squeeze(values: StaticValues, call: cst.Call) -> Static | None:
    return squeezed(values.of(argument(call, "input", 0)), argument(call, "axis", 1), values)


def _tf_matmul(values: StaticValues, call: cst.Call) -> Static | None:  # tf.matmul(a, b, transpose_a, transpose_b)
    flags = []
    for keywords in ((("transpose_a", 2), ("adjoint_a", 4)), (("transpose_b", 3), ("adjoint_b", 5))):
        flag = False  # an adjoint has the transpose's shape
        for keyword, position in keywords:
            arg = argument(call, keyword, position)
            if arg is None or m.matches(arg.value, m.Name("False")):
                continue
            if not m.matches(arg.value, m.Name("True")):
                return None
            flag = True
        flags.append(flag)
    a, b = values.of(argument(call, "a", 0)) or Static(), values.of(argument(call, "b", 1))
    if b is None or a.kind != "tensor" or b.kind != "tensor":
        return None
    return matmul_of(a, b, flags[0], flags[1])


def _tf_binary(values: StaticValues, call: cst.Call) -> Static | None:  # tf.add(x, y), tf.multiply, ...
    a, b = values.of(argument(call, "x", 0)), values.of(argument(call, "y", 1))
    if a is None or b is None or a.kind != "tensor" or b.kind != "tensor":
        return None
    return elementwise(a, b)


def _tf_unary(values: StaticValues, call: cst.Call) -> Static | None:  # tf.nn.relu(x), tf.sigmoid(x), ...
    source = values.of(call.args[0].value if call.args else None)
    if source is None or source.kind != "tensor":
        return None
    names = values.qualified(call.func)
    activation = next((a for name, a in _ACTIVATION_FUNCTIONS.items() if name in names), "other")
    return replace(source, activation=activation, literal=False, value=None)


def _get_variable(values: StaticValues, call: cst.Call) -> Static:  # tf.compat.v1.get_variable(name, shape, dtype)
    return Static(shape=values.shape_arg(argument(call, "shape", 1)), dtype=_dtype_or(values, call, 2, "float32"))


_ACTIVATION_FUNCTIONS = {
    "tf.nn.softmax": "softmax", "tf.math.softmax": "softmax", "tf.nn.log_softmax": "softmax",
    "tf.nn.sigmoid": "sigmoid", "tf.sigmoid": "sigmoid", "tf.math.sigmoid": "sigmoid",
}


_ELEMENTWISE_UNARY = (
    *_ACTIVATION_FUNCTIONS,
    "tf.nn.relu", "tf.nn.relu6", "tf.nn.leaky_relu", "tf.nn.elu", "tf.nn.selu", "tf.nn.tanh", "tf.tanh",
    "tf.math.tanh", "tf.nn.dropout", "tf.identity", "tf.stop_gradient", "tf.abs", "tf.math.abs", "tf.exp",
    "tf.math.exp", "tf.math.log", "tf.log", "tf.square", "tf.math.square", "tf.sqrt", "tf.math.sqrt",
    "tf.negative", "tf.math.negative", "tf.clip_by_value", "tf.nn.bias_add",
)


def squeezed(source: Static | None, axis_arg: cst.Arg | None, values: StaticValues) -> Static | None:
    if source is None or source.shape is None or source.shape.dims is None:
        return None
    dims = list(source.shape.dims)
    if axis_arg is None:
        if any(d is None for d in dims):
            return None
        return replace(source, shape=Shape.of(d for d in dims if d != 1), head=None, value=None)
    axis = values.int_of(axis_arg.value)
    if axis is None or not -len(dims) <= axis < len(dims):
        return None
    del dims[axis]
    return replace(source, shape=Shape.of(dims), head=None, value=None)


def literal_data(expr: cst.BaseExpression) -> tuple[tuple[int, ...], str] | None:
    """Shape and dtype of nested literal lists of numbers: [[1.0], [0.0]] -> ((2, 1), "float32")."""
    if isinstance(expr, (cst.Integer, cst.Float)) or literal_int(expr) is not None:
        return (), "float32" if isinstance(expr, cst.Float) or (
            isinstance(expr, cst.UnaryOperation) and isinstance(expr.expression, cst.Float)
        ) else "int32"
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus) and isinstance(expr.expression, cst.Float):
        return (), "float32"
    if m.matches(expr, m.Name("True") | m.Name("False")):
        return (), "bool"
    if not isinstance(expr, (cst.List, cst.Tuple)) or not expr.elements:
        return None
    inner = [literal_data(e.value) if not isinstance(e, cst.StarredElement) else None for e in expr.elements]
    if any(i is None for i in inner) or len({i[0] for i in inner}) != 1:  # type: ignore[index]
        return None
    kinds = {i[1] for i in inner}  # type: ignore[index]
    dtype = "float32" if "float32" in kinds else kinds.pop() if len(kinds) == 1 else "int32"
    return (len(inner),) + inner[0][0], dtype  # type: ignore[index]


def _tf_range(values: StaticValues, call: cst.Call) -> Static | None:  # tf.range(limit) / (start, limit, delta)
    dtype = _dtype_kw(values, call)
    bounds = [a.value for a in call.args if a.keyword is None] or [
        a.value for a in call.args if a.keyword is not None and a.keyword.value in ("start", "limit", "delta")
    ]
    ints = [values.int_of(b) for b in bounds]
    if dtype is None:
        if any(isinstance(b, cst.Float) for b in bounds):
            dtype = "float32"
        elif ints and all(i is not None for i in ints):
            dtype = "int32"
    length = len(range(*ints)) if 1 <= len(ints) <= 3 and all(i is not None for i in ints) and ints[-1] != 0 else None  # type: ignore[arg-type]
    if dtype is None and length is None:
        return None
    return Static(shape=Shape.of((length,)), dtype=dtype)


def _tf_transpose(values: StaticValues, call: cst.Call) -> Static | None:  # tf.transpose(a, perm=None)
    source = values.of(argument(call, "a", 0))
    if source is None or source.kind != "tensor" or source.shape is None or source.shape.dims is None:
        return None
    dims = source.shape.dims
    perm = argument(call, "perm", 1)
    if perm is None or m.matches(perm.value, m.Name("None")):
        order = tuple(reversed(range(len(dims))))
    else:
        static = values.of(perm.value)
        order = static.value if static is not None and isinstance(static.value, tuple) else None  # type: ignore[assignment]
        if order is None or sorted(order) != list(range(len(dims))):  # type: ignore[arg-type]
            return None
    return replace(source, shape=Shape.of(dims[i] for i in order), head=None, value=None, literal=False)  # type: ignore[union-attr]


def _tf_matrix_transpose(values: StaticValues, call: cst.Call) -> Static | None:  # tf.linalg.matrix_transpose
    source = values.of(argument(call, "a", 0))
    if source is None or source.kind != "tensor" or source.shape is None or source.shape.dims is None:
        return None
    dims = source.shape.dims
    if len(dims) < 2:
        return None
    return replace(source, shape=Shape.of(dims[:-2] + (dims[-1], dims[-2])), head=None, value=None, literal=False)


def _tf_eye(values: StaticValues, call: cst.Call) -> Static:  # tf.eye(num_rows, num_columns=None, ..., dtype)
    rows = values.int_of(argument(call, "num_rows", 0))
    columns_arg = argument(call, "num_columns", 1)
    columns = values.int_of(columns_arg) if columns_arg is not None else rows
    shape = Shape.of((rows, columns)) if argument(call, "batch_shape", 2) is None else None
    return Static(shape=shape, dtype=_dtype_or(values, call, 3, "float32"))


def numpy_value(values: StaticValues, name: str, call: cst.Call) -> Static | None:  # np.zeros, np.array, ...
    dtype_arg = argument(call, "dtype")
    dtype = values.dtype_name(dtype_arg.value) if dtype_arg is not None else None
    if dtype_arg is not None and dtype is None:  # a dtype this analysis cannot read: the shape alone
        found = numpy_value(values, name, call.with_changes(args=[a for a in call.args if a is not dtype_arg]))
        return replace(found, dtype=None) if found is not None else None
    if name in ("zeros", "ones", "empty"):
        shape = values.shape_arg(argument(call, "shape", 0))
        return Static(shape=shape, dtype=dtype or ("float64" if dtype_arg is None else None), numpy=True)
    if name == "full":
        shape = values.shape_arg(argument(call, "shape", 0))
        return Static(shape=shape, dtype=dtype, numpy=True)
    if name in ("zeros_like", "ones_like", "empty_like", "full_like"):
        source = values.of(argument(call, "a", 0))
        if source is None or source.kind != "tensor":
            return None
        return Static(shape=source.shape, dtype=dtype or source.dtype, numpy=True)
    if name in ("array", "asarray"):
        source = values.of(argument(call, "object", 0))
        if source is None or source.kind != "tensor":
            return None
        base = source.dtype
        if source.literal and base in ("float32", "int32"):
            base = base.replace("32", "64")  # NumPy's defaults for Python floats and ints
        return Static(shape=source.shape, dtype=dtype or base, numpy=True)
    if name == "arange":
        positional = [a for a in call.args if a.keyword is None]
        if len(positional) == 1 and values.int_of(positional[0].value) is not None:
            return Static(shape=Shape.of((values.int_of(positional[0].value),)), dtype=dtype or "int64", numpy=True)
        return None
    if name in ("random.rand", "random.randn"):
        dims = [values.int_of(a.value) for a in call.args]
        if any(d is None for d in dims) or any(a.keyword for a in call.args):
            return None
        return Static(shape=Shape.of(dims), dtype="float64", numpy=True)
    if name in ("random.random", "random.random_sample", "random.normal", "random.uniform", "random.randint",
                "random.binomial", "random.choice"):
        size = argument(call, "size", {"random.random": 0, "random.random_sample": 0}.get(name, 2))
        shape = values.shape_arg(size) if size is not None else None
        if shape is None:
            return None
        kind = "int64" if name in ("random.randint", "random.binomial") else "float64"
        return Static(shape=shape, dtype=dtype or (None if name == "random.choice" else kind), numpy=True)
    if name in ("reshape",):
        source, shape = values.of(argument(call, "a", 0)), values.shape_arg(argument(call, "newshape", 1))
        return reshaped(source, shape, numpy=True)
    if name == "expand_dims":
        return expanded(values.of(argument(call, "a", 0)), values.int_of(argument(call, "axis", 1)))
    if name == "squeeze":
        return squeezed(values.of(argument(call, "a", 0)), argument(call, "axis", 1), values)
    return None


# What each constructor makes, by canonical API name (`tffix.names`).
TF_CONSTRUCTORS = {
    "tf.zeros": _filled,
    "tf.ones": _filled,
    "tf.fill": _filled,
    "tf.zeros_like": _like,
    "tf.ones_like": _like,
    "tf.random.normal": _random,
    "tf.random.uniform": _random,
    "tf.random.truncated_normal": _random,
    "tf.random_normal": _random,
    "tf.random_uniform": _random,
    "tf.constant": _constant,
    "tf.convert_to_tensor": _constant,
    "tf.placeholder": _placeholder,
    "keras.Input": _keras_input,
    "keras.layers.Input": _keras_input,
    "tf.one_hot": _one_hot,
    "tf.cast": _cast,
    "tf.reshape": _tf_reshape,
    "tf.expand_dims": _tf_expand_dims,
    "tf.squeeze": _tf_squeeze,
    "tf.matmul": _tf_matmul,
    "tf.linalg.matmul": _tf_matmul,
    "tf.add": _tf_binary,
    "tf.math.add": _tf_binary,
    "tf.subtract": _tf_binary,
    "tf.math.subtract": _tf_binary,
    "tf.multiply": _tf_binary,
    "tf.math.multiply": _tf_binary,
    "tf.maximum": _tf_binary,
    "tf.math.maximum": _tf_binary,
    "tf.minimum": _tf_binary,
    "tf.math.minimum": _tf_binary,
    "tf.get_variable": _get_variable,
    "tf.range": _tf_range,
    "tf.Variable": _variable,
    "tf.transpose": _tf_transpose,
    "tf.linalg.transpose": _tf_transpose,
    "tf.linalg.matrix_transpose": _tf_matrix_transpose,
    "tf.eye": _tf_eye,
    "tf.truncated_normal": _random,
    "tf.random.stateless_normal": _random,
    "tf.random.stateless_uniform": _random,
    **{name: _tf_unary for name in _ELEMENTWISE_UNARY},
}
