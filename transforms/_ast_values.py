"""What the rules' preconditions (`Rule.can_fire`, on Python's `ast`: `tffix.ast_facts`) share about values."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable

from tffix.ast_facts import Facts, argument

from ._constructors import TF_CONSTRUCTORS
from ._values import FLOAT_DTYPES, INT_DTYPES, SHAPE_PRESERVING


def least_fixpoint(
    facts: Facts, holds: Callable[[ast.expr, int | None], bool], names: set[tuple[str, int | None]], attributes: set[str]
) -> None:
    """Grow `names` ((name, scope of the binding)) and `attributes` (attribute names) with every binding of the file
    (`Facts.bindings`, `Facts.attribute_bindings`) whose value `holds` (read in the binding's scope) may be of a
    kind of value, until nothing changes: `holds` reads a name used in scope S as held when (name, S) or
    (name, None) is in `names` (a name means a binding of its own scope or the module's)."""
    changed = True
    while changed:
        changed = False
        for name, value, scope in facts.bindings:
            if (name, scope) not in names and holds(value, scope):
                names.add((name, scope))
                changed = True
        for name, value, scope in facts.attribute_bindings:
            if name not in attributes and holds(value, scope):
                attributes.add(name)
                changed = True


def maybe_int_dtype(facts: Facts, expr: ast.expr | None, dtype_of_int: Callable[[ast.expr], bool] | None = None) -> bool:
    """`expr` may be what `StaticValues.dtype_name` reads as an integer dtype: `tf.int32`, `np.int64`, `"int32"`,
    `int`, `x.dtype` (a qualified name ending in an integer dtype; a call or subscript by its callee or value).
    `dtype_of_int`: whether `x` may have an integer dtype, for `x.dtype` (None: it may)."""
    while type(expr) is ast.Call or type(expr) is ast.Subscript:
        expr = expr.func if type(expr) is ast.Call else expr.value  # type: ignore[union-attr]
    return _maybe_dtype(facts, expr, INT_DTYPES, "int", dtype_of_int)


# What `canonical_dtype` reads as a float dtype (its aliases included); `float` itself is float64.
_FLOAT_NAMES = FLOAT_DTYPES | {"half", "double", "float"}


def maybe_float_dtype(facts: Facts, expr: ast.expr | None, dtype_of_float: Callable[[ast.expr], bool] | None = None) -> bool:
    """As `maybe_int_dtype`, for a float dtype: `tf.float32`, `"float64"`, `"half"`, `float`, `x.dtype`."""
    return _maybe_dtype(facts, expr, _FLOAT_NAMES, "float", dtype_of_float)


def _maybe_dtype(facts: Facts, expr: ast.expr | None, dtypes: frozenset[str], builtin: str,
                 dtype_of: Callable[[ast.expr], bool] | None) -> bool:
    while type(expr) is ast.Call or type(expr) is ast.Subscript:
        expr = expr.func if type(expr) is ast.Call else expr.value  # type: ignore[union-attr]
    kind = type(expr)
    if kind is ast.Constant:
        return expr.value in dtypes  # type: ignore[union-attr]
    if kind is ast.Attribute:
        if expr.attr == "dtype":  # type: ignore[union-attr]
            return dtype_of is None or dtype_of(expr.value)  # type: ignore[union-attr]
        return expr.attr in dtypes  # type: ignore[union-attr]
    if kind is ast.Name:
        return expr.id == builtin or any(q.rpartition(".")[2] in dtypes for q in facts.chains.get(id(expr), ()))  # type: ignore[union-attr]
    return False


# Methods whose call `StaticValues` evaluates whatever the receiver is: a NumPy conversion, a model or layer applied.
VALUE_METHODS = ("astype", "numpy", "predict", "predict_on_batch", "__call__")


def opaque_call(facts: Facts, call: ast.Call, depth: int = 0) -> bool:
    """`call`, whose callee has no TensorFlow/Keras API name, is one `StaticValues` can give no value: its callee
    is not NumPy's, not a method it evaluates (`VALUE_METHODS`), not a name the file binds to something it can
    call (an assignment, a `def`, a class, a parameter that a call of the module's function may pass one to), and
    not `x.NAME` with `NAME` an attribute the file assigns (`self.layer = Dense(...)`). So: a builtin (`len`,
    `int`), an imported function that is not an API (`math.sqrt`, `np.random.seed` aside), a method of another
    object (`dist.sample()`, `self.helper()` without `self.helper = ...`)."""
    func = call.func
    kind = type(func)
    if kind is ast.Name:
        name = func.id  # type: ignore[attr-defined]
        if facts.defines(name):
            return False
        if any(_may_be_callable(facts, v, depth) for v in facts.bound.get(name, ())):
            return False
    elif kind is ast.Attribute:
        if func.attr in VALUE_METHODS:  # type: ignore[attr-defined]
            return False
        if type(func.value) is ast.Name and any(
            _may_be_callable(facts, v, depth) for v in facts.attributes_bound.get(func.attr, ())  # type: ignore[attr-defined]
        ):
            return False
    else:
        return False  # `make()(x)`, `layers[0](x)`: the callee's own value may be a layer or a function
    return not any(q.startswith("numpy.") or q == "numpy" for q in facts.chains.get(id(func), ()))


# Where each maker of `StaticValues` (`_constructors`, by handler) takes what its static shape comes from, as
# (keyword, position) slots: (slots a shape argument is given in; slots whose value's shape it keeps; whether it
# needs all of those values shaped). A maker not listed (`tf.range`, `tf.eye`) always has a shape.
_SHAPE_SLOTS_BY_MAKER: dict[str, tuple[tuple[tuple[str, int | None], ...], tuple[tuple[str, int | None], ...], bool]] = {
    "_filled": ((("shape", 0), ("dims", 0)), (), False),
    "_like": ((), (("input", 0), ("tensor", 0)), False),
    "_random": ((("shape", 0),), (), False),
    "_constant": ((("shape", 2),), (("value", 0),), False),
    "_variable": ((), (("initial_value", 0),), False),
    "_placeholder": ((("shape", 1),), (), False),
    "_keras_input": ((("shape", 0),), (), False),
    "_one_hot": ((), (("indices", 0),), False),
    "_cast": ((), (("x", 0),), False),
    "_tf_reshape": ((("shape", 1),), (), False),
    "_tf_expand_dims": ((), (("input", 0),), False),
    "_tf_squeeze": ((), (("input", 0),), False),
    "_tf_matmul": ((), (("b", 1),), False),
    "_tf_binary": ((), (("x", 0), ("y", 1)), True),
    "_tf_unary": ((), (("", 0),), False),  # its first argument, positional or not
    "_get_variable": ((("shape", 1),), (), False),
    "_tf_transpose": ((), (("a", 0),), False),
    "_tf_matrix_transpose": ((), (("a", 0),), False),
}
_SHAPE_SLOTS = {name: _SHAPE_SLOTS_BY_MAKER.get(make.__name__) for name, make in TF_CONSTRUCTORS.items()}


# The APIs whose call `StaticValues` makes a value it can call in turn (`_keras_models.layer_of`, `sequential_of`,
# a functional model); a call of any other API (`Conv2D(...)`, `tf.constant(...)`) is nothing it calls.
LAYER_MAKERS = frozenset({"keras.layers.Dense", "keras.layers.Flatten", *SHAPE_PRESERVING})  # `_keras_models.layer_of`
CALLABLE_MAKERS = LAYER_MAKERS | {"keras.Sequential", "keras.models.Sequential", "keras.Model", "keras.models.Model"}


def layer_makers(facts: Facts, func: ast.expr) -> frozenset[str] | None:
    """The layers `StaticValues` knows (`LAYER_MAKERS`) that a call of `func` may apply: `Dense(4)(x)`, or `d(x)` and
    `self.d(x)` where every assignment of `d` makes one of them. None when `func` may be anything else (a model, a
    function, a parameter...)."""
    kind = type(func)
    if kind is ast.Call:
        values: Iterable[ast.expr] = (func,)
    elif kind is ast.Name:
        name = func.id  # type: ignore[attr-defined]
        if facts.defines(name):
            return None
        values = facts.bound.get(name, ())
    elif kind is ast.Attribute and func.attr not in VALUE_METHODS:  # type: ignore[attr-defined]
        values = facts.attributes_bound.get(func.attr, ())  # type: ignore[attr-defined]
    else:
        return None
    makers: set[str] = set()
    for value in values:
        if type(value) is not ast.Call or type(value.func) not in (ast.Name, ast.Attribute):  # type: ignore[attr-defined]
            return None
        names = facts.api_names(value)
        if not names or not names <= LAYER_MAKERS:
            return None
        makers |= names
    return frozenset(makers) or None


def _may_be_callable(facts: Facts, value: ast.expr, depth: int) -> bool:
    """An assigned `value` `StaticValues` may read as something it evaluates a call of (a function or class of the
    module, a layer, a model): a name or attribute (bound to one), or a call that is not `opaque_call`. Not a
    lambda, a subscript, a literal, nor a call it gives no value."""
    kind = type(value)
    if kind is ast.Name or kind is ast.Attribute:
        return True
    if kind is ast.Call:
        names = facts.api_names(value.func)  # type: ignore[attr-defined]
        if names:  # only these APIs make a value StaticValues calls (`_call`: a layer, a model)
            return not names.isdisjoint(CALLABLE_MAKERS)
        if depth >= 3:
            return True  # `f = f(...)` and longer chains: not followed
        return not opaque_call(facts, value, depth + 1)  # type: ignore[arg-type]
    return False


class NamedValues:
    """Which expressions may be of one kind of value (`maybe`, a superset of what `StaticValues` shows), with the
    names and attribute names any assignment binds to such a value (`least_fixpoint`). Names are read in `scope`
    (the scope of the expression asked about, `Facts.scopes`): its bindings there and module-level ones."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.scope: int | None = None
        self.names: set[tuple[str, int | None]] = set()
        self.attributes: set[str] = set()
        least_fixpoint(facts, self._in, self.names, self.attributes)
        self.scope = None

    def _in(self, expr: ast.expr, scope: int | None) -> bool:
        self.scope = scope
        return self.maybe(expr)

    def _named(self, name: ast.Name) -> bool:
        """`name`, read in `scope`, has a binding to such a value there or at module level."""
        return (name.id, self.scope) in self.names or (name.id, None) in self.names

    def maybe(self, expr: ast.expr | None) -> bool:
        raise NotImplementedError


class FromTensorflow(NamedValues):
    """Which expressions may be made by a TensorFlow op (`_dtypes.from_tensorflow`): a call of a `tf.*` API (its
    callee a name or an attribute chain), a name or attribute name bound to one, arithmetic with one on a side."""

    def maybe(self, expr: ast.expr | None) -> bool:
        kind = type(expr)
        if kind is ast.Name:
            return self._named(expr)  # type: ignore[arg-type]
        if kind is ast.Attribute:
            return expr.attr in self.attributes  # type: ignore[union-attr]
        if kind is ast.Call:
            func = expr.func  # type: ignore[union-attr]
            return type(func) in (ast.Name, ast.Attribute) and any(
                name.startswith("tf.") for name in self.facts.api_names(func)
            )
        if kind is ast.BinOp:
            return self.maybe(expr.left) or self.maybe(expr.right)  # type: ignore[union-attr]
        if kind is ast.UnaryOp:
            return self.maybe(expr.operand)  # type: ignore[union-attr]
        return False


class Shaped(NamedValues):
    """Which expressions may have a static shape (`StaticValues.shape_of`). What StaticValues gives no shape: a
    subscript, a number, a comparison...; a call of a TensorFlow API that is not one of its makers
    (`tf.nn.conv2d(...)`); a function parameter (no binding)."""

    def __init__(self, facts: Facts, known: bool = False) -> None:
        """`known`: only a static shape with a known dimension (`Shape.dims` holding an int) counts: a matmul
        needs its inner dimensions known. A shape argument all of whose dimensions are unknown (`[-1, n]` with
        `n` a parameter, `[-1, x_shape[-1]]`) gives none; a number (shape ()) has none."""
        self.known = known
        super().__init__(facts)

    def maybe(self, expr: ast.expr | None) -> bool:
        kind = type(expr)
        if kind is ast.Name:
            return self._named(expr) and not self.facts.reads_parameter(self.scope, expr)  # type: ignore[arg-type]
        if kind is ast.Attribute:
            return expr.attr in self.attributes  # type: ignore[union-attr]
        if kind is ast.UnaryOp:
            return self.maybe(expr.operand)  # type: ignore[union-attr]
        if kind is ast.BinOp:
            return self.maybe(expr.left) or self.maybe(expr.right)  # type: ignore[union-attr]
        if kind is ast.List or kind is ast.Tuple:
            return True  # literal data
        if kind is ast.Constant:  # a number: shape ()
            return not self.known and type(expr.value) in (int, float)  # type: ignore[union-attr]
        if kind is not ast.Call:
            return False
        func = expr.func  # type: ignore[union-attr]
        if type(func) is ast.Attribute and func.attr in ("astype", "numpy", "predict", "predict_on_batch", "__call__"):
            return True
        names = self.facts.api_names(func)
        if not names:  # NumPy, the module's own functions, a layer or model bound to a name: maybe
            return not opaque_call(self.facts, expr)  # type: ignore[arg-type]
        if type(func) is ast.Name and (func.id in self.facts.bound or func.id in self.facts.functions):
            return True  # the callee name is also the module's own: that binding may be the one called
        return any(self._made(expr, name) for name in names)  # type: ignore[arg-type]

    def _made(self, call: ast.Call, name: str) -> bool:
        """A call of the API `name` may have a static shape: Keras (a layer applied, a model), a maker given a
        shape argument or keeping the shape of a value that may have one; not another TensorFlow API."""
        if name not in TF_CONSTRUCTORS:
            return not name.startswith("tf.")
        slots = _SHAPE_SLOTS[name]
        if slots is None:
            return True
        given, sources, every = slots
        shapes = [a for k, p in given if (a := argument(call, k, p)) is not None]
        if shapes and (not self.known or any(self._known_shape(a) for a in shapes)):
            return True
        if shapes and name in ("keras.Input", "keras.layers.Input") and argument(call, "batch_size", 1) is not None:
            return True  # its batch size is a dimension too
        values = [first_argument(call) if not k else argument(call, k, p) for k, p in sources]
        if every:
            return all(v is not None and self.maybe(v) for v in values)
        return any(v is not None and self.maybe(v) for v in values)


    def _known_shape(self, arg: ast.expr, depth: int = 0) -> bool:
        """A shape argument (`StaticValues.shape_arg`) may give a known dimension: a literal list or tuple with an
        element that may be a known int of at least 0 (or one element, which a reshape may infer), a name or
        attribute bound to one, `x.shape` of a value that may have one, an int, a call of the module's own."""
        kind = type(arg)
        if depth > 6:
            return True
        if kind is ast.List or kind is ast.Tuple:
            items = arg.elts  # type: ignore[attr-defined]
            return len(items) == 1 or any(type(i) is ast.Starred or self._known_int(i, depth + 1) for i in items)
        if kind is ast.Attribute and arg.attr == "shape":  # type: ignore[attr-defined]
            return self.maybe(arg.value)  # type: ignore[attr-defined]
        bound = self._bound(arg)
        if bound is not None:
            return any(self._known_shape(v, depth + 1) for v in bound)
        return self._known_int(arg, depth + 1) or kind is ast.BinOp or (
            kind is ast.Call and not opaque_call(self.facts, arg))  # type: ignore[arg-type]

    def _bound(self, expr: ast.expr) -> list[ast.expr] | None:
        """What the name or attribute `expr` may be bound to (none for a parameter read in its function); None
        for another expression."""
        kind = type(expr)
        if kind is ast.Name:
            if self.facts.reads_parameter(self.scope, expr):  # type: ignore[arg-type]
                return []
            return self.facts.bound.get(expr.id, [])  # type: ignore[attr-defined]
        if kind is ast.Attribute:
            return self.facts.attributes_bound.get(expr.attr, [])  # type: ignore[attr-defined]
        return None

    def _known_int(self, expr: ast.expr, depth: int = 0) -> bool:
        """`expr` may be what `StaticValues.int_of` reads as an int of at least 0 (a dimension it keeps)."""
        kind = type(expr)
        if depth > 6:
            return True
        if kind is ast.Constant:
            return type(expr.value) is int and expr.value >= 0  # type: ignore[attr-defined]
        bound = self._bound(expr)
        if bound is not None:
            return any(self._known_int(v, depth + 1) for v in bound)
        if kind is ast.BinOp:
            return self._known_int(expr.left, depth + 1) and self._known_int(expr.right, depth + 1)  # type: ignore[attr-defined]
        if kind is ast.Call:
            return not self.facts.api_names(expr.func) and not opaque_call(self.facts, expr)  # type: ignore[attr-defined, arg-type]
        return False


def first_argument(call: ast.Call) -> ast.expr | None:
    """The value of `call`'s first argument as LibCST orders them (`call.args[0]`: positional or keyword)."""
    first = min([*call.args, *(k.value for k in call.keywords)], key=lambda v: (v.lineno, v.col_offset), default=None)
    return first.value if type(first) is ast.Starred else first  # type: ignore[union-attr]


# What `_dtypes.literal_ints` reads through: these makers' data argument.
_DATA_WRAPPERS = ("tf.constant", "tf.convert_to_tensor", "tf.Variable")
_NUMPY_WRAPPERS = ("numpy.array", "numpy.asarray")


class LiteralInts:
    """Which expressions may be what `_dtypes.literal_ints` reads as literal integer data with at least one value:
    a list or tuple (nested) of int literals, such data in `tf.constant(...)`/`np.array(...)`, or a name or
    attribute name any assignment in the file binds to one (a superset of `StaticValues.assigned_value`)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts

    def maybe(self, expr: ast.expr | None, depth: int = 0) -> bool:
        if expr is None or depth > 6:
            return False
        kind = type(expr)
        if kind is ast.List or kind is ast.Tuple:
            found = False
            for element in expr.elts:  # type: ignore[union-attr]
                inner = type(element)
                if inner is ast.List or inner is ast.Tuple:
                    if not self.maybe(element, depth + 1):
                        return False
                    found = True
                elif _literal_int(element):
                    found = True
                else:
                    return False
            return found
        if kind is ast.Name:
            return any(self.maybe(v, depth + 1) for v in self.facts.bound.get(expr.id, ()))  # type: ignore[union-attr]
        if kind is ast.Attribute:
            return any(self.maybe(v, depth + 1) for v in self.facts.attributes_bound.get(expr.attr, ()))  # type: ignore[union-attr]
        if kind is ast.Call and type(expr.func) in (ast.Name, ast.Attribute):  # type: ignore[union-attr]
            facts, func = self.facts, expr.func  # type: ignore[union-attr]
            if facts.api_names(func).isdisjoint(_DATA_WRAPPERS) and not any(
                q in _NUMPY_WRAPPERS for q in facts.chains.get(id(func), ())
            ):
                return False
            data = argument(expr, "value", 0) or argument(expr, "object", 0) or argument(expr, "initial_value", 0)  # type: ignore[arg-type]
            return type(data) in (ast.List, ast.Tuple, ast.Name) and self.maybe(data, depth + 1)
        return False


def _literal_int(expr: ast.expr) -> bool:
    """What `tffix.rule.literal_int` reads: an int literal, or one negated."""
    if type(expr) is ast.UnaryOp and type(expr.op) is ast.USub:  # type: ignore[attr-defined]
        expr = expr.operand  # type: ignore[attr-defined]
    return type(expr) is ast.Constant and type(expr.value) is int  # type: ignore[attr-defined]


class LossObjects:
    """The calls of loss objects of `classes` (`_dtypes.loss_object`): of a constructor call itself
    (`Loss()(y, p)`), or through a name or attribute name that an assignment binds to one (or to such a name)."""

    def __init__(self, facts: Facts, classes: tuple[str, ...]) -> None:
        self.facts, self.classes = facts, classes
        self.names: set[tuple[str, int | None]] = set()
        self.attributes: set[str] = set()
        if any(facts.calls.get(c) for c in classes):
            least_fixpoint(facts, self._holds, self.names, self.attributes)

    def _holds(self, value: ast.expr, scope: int | None) -> bool:
        kind = type(value)
        if kind is ast.Call:
            return not self.facts.api_names(value.func).isdisjoint(self.classes) and type(value.func) in (ast.Name, ast.Attribute)  # type: ignore[attr-defined]
        if kind is ast.Name:
            return any(n == value.id for n, _ in self.names)  # type: ignore[attr-defined]
        if kind is ast.Attribute:
            return value.attr in self.attributes  # type: ignore[attr-defined]
        return False

    def calls(self) -> list[ast.Call]:
        facts = self.facts
        found = [c for c in facts.applied if self._holds(c.func, None)]
        names = {n for n, _ in self.names}
        found += [c for name in names for c in facts.name_calls.get(name, ())]
        found += [c for attr in self.attributes for c in facts.methods.get(attr, ())]
        return found
