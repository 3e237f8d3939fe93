"""Static shapes and dtypes of TensorFlow/NumPy values, inferred from the code alone (no TensorFlow import).

Shared by the shape and dtype rules (TFX301, TFX302, TFX303, TFX305, TFX306, TFX307). A rule makes one
`StaticValues` for the file it checks and asks it about expressions while it visits:

    class MyRule(Rule):
        def __init__(self, context):
            super().__init__(context)
            self.values = StaticValues(self)

        def visit_Call(self, node):
            labels = self.values.of(argument(node, "labels").value)   # Static, or None when nothing is known
            if labels and labels.shape and labels.shape.rank == 1: ...

What is known comes from constructors with literal arguments and follows names through their assignments
(LibCST scope metadata, so it is lazy: any expression anywhere in the file can be asked about at any time):

- tensors: `tf.constant/zeros/ones/fill/zeros_like/ones_like/random.normal/random.uniform/one_hot/reshape/
  cast/convert_to_tensor/Variable/expand_dims/squeeze`, `tf.placeholder` (compat.v1), `keras.Input`,
  NumPy `np.zeros/ones/empty/full/array/asarray/arange/random.*`, nested literal lists;
- layers and models: `Dense(k)` applied to something gives last dimension k (and records the Dense call as
  the value's `head`), shape-preserving layers (Activation, Dropout, normalisation...) keep it; `Sequential([...])`
  and `.add(...)` chains, functional `keras.Model(inputs, outputs)`, subclassed models (their `call` returns,
  with `self.x = Layer(...)` assigned in the class);
- calls of the module's functions (plain or `@tf.function`, every exit a `return <value>`, all agreeing): the
  return value evaluated with the parameters bound to what the call passes (defaults included; a parameter
  rebound in the body stays unknown), so a TF1 builder `def discriminator(x): ... return tf.matmul(h, w2)`
  called on a [None, 64] placeholder gives (None, 1); with the parameters unknown (recursion, calls nested
  deeper than `_CALL_DEPTH`), what the body alone decides: `tf.matmul(unknown, w2)` still ends in w2's columns;
- Python ints and tuples bound to names (`BATCH = 32`, `shape = (BATCH, 1)`, `BATCH, NOISE = 16, 32`), so
  shapes may use them; a shape list with unknown elements (`[shape[1], units]`) keeps its rank.

Unknowns stay unknown: a rule must fire only on what is known (`Shape.rank` None, a dimension None).
Dtypes are canonical strings: "float32", "int32", "int64", "bool", "string", ...

The names of this module's public API are stable; extensions by other rule families go in the clearly marked
section at the end of the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import libcst as cst
import libcst.matchers as m

from tffix.names import leaves
from tffix.parents import children as _libcst_children
from tffix.rule import FileAnalysis, Rule, argument, literal_int

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

    @property
    def is_tensor(self) -> bool:
        return self.kind == "tensor"


# Layers that keep the shape of their input (and so a Dense head's last dimension).
_SHAPE_PRESERVING = frozenset(
    f"keras.layers.{name}"
    for name in (
        "Activation", "Softmax", "ReLU", "LeakyReLU", "PReLU", "ELU", "Dropout", "AlphaDropout",
        "GaussianDropout", "GaussianNoise", "BatchNormalization", "LayerNormalization", "UnitNormalization",
        "ActivityRegularization", "Identity",
    )
)
_ACTIVATION_NAMES = {"softmax": "softmax", "sigmoid": "sigmoid", "linear": "linear", "log_softmax": "softmax"}
_UNKNOWN_LAYER = Static(kind="layer", value="unknown")
_MODEL_CLASSES = ("keras.Model", "keras.models.Model")
_CALL_DEPTH = 3  # calls of module functions followed with their arguments, one inside the other
_SEQUENTIAL = ("keras.Sequential", "keras.models.Sequential")


class StaticValues:
    """Infers `Static` values for expressions of the module a rule is visiting (cached per node)."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self._cache: dict[int, Static | None] = {}
        self._busy: set[int] = set()
        # Descendants of the bodies `_walk` goes through, shared by every evaluator of the file (see `_walk`).
        self._walks: dict = _walk_cache(rule)
        # Set only in an evaluator made for one call of a module function (`_called`): what the call passes to
        # the function's parameters (by id of the cst.Param), and the functions being so evaluated, outermost first.
        self._arguments: dict[int, Static] = {}
        self._calls: tuple[cst.FunctionDef, ...] = ()

    # --- public API --------------------------------------------------------------------------------------------
    def of(self, expr: cst.CSTNode | None) -> Static | None:
        expr = _unwrap(expr)
        if expr is None:
            return None
        key = id(expr)
        if key in self._cache:
            return self._cache[key]
        if key in self._busy:  # a cycle (x = f(x) in a loop, recursive functions): unknown
            return None
        self._busy.add(key)
        try:
            result = self._infer(expr)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError, RecursionError):
            # metadata missing for synthesized nodes, odd literals, code shapes not foreseen: unknown, never a crash
            result = None
        finally:
            self._busy.discard(key)
        self._cache[key] = result
        return result

    def shape_of(self, expr: cst.CSTNode | None) -> Shape | None:
        static = self.of(expr)
        return static.shape if static is not None else None

    def dtype_of(self, expr: cst.CSTNode | None) -> str | None:
        static = self.of(expr)
        return static.dtype if static is not None else None

    def int_of(self, expr: cst.CSTNode | None) -> int | None:
        """A Python int known statically (a literal, or a name bound to one)."""
        static = self.of(expr)
        return static.value if static is not None and static.kind == "int" else None  # type: ignore[return-value]

    def assigned_value(self, expr: cst.CSTNode | None) -> cst.BaseExpression | None:
        """The right-hand side `expr` (a Name, or `self.name` in a class) is bound to, when that is clear:
        one assignment, or the latest one before the use in the same block."""
        if isinstance(expr, cst.Name):
            return self._binding(expr)
        if isinstance(expr, cst.Attribute):
            return self._attribute_binding(expr)
        return None

    def dtype_name(self, expr: cst.CSTNode | None) -> str | None:
        """The canonical dtype a dtype expression names: `tf.float32`, `np.int64`, `"float32"`, `float`."""
        expr = _unwrap(expr)
        if expr is None:
            return None
        if isinstance(expr, cst.SimpleString):
            text = expr.evaluated_value
            return _canonical_dtype(text) if isinstance(text, str) else None
        if m.matches(expr, m.Name("float")):
            return "float64"
        if m.matches(expr, m.Name("int")):
            return "int64"
        if m.matches(expr, m.Name("bool")):
            return "bool"
        for name in self._qualified(expr):
            for prefix in ("tf.", "tf.dtypes.", "numpy.", "keras.backend."):
                if name.startswith(prefix):
                    dtype = _canonical_dtype(name[len(prefix):])
                    if dtype is not None:
                        return dtype
        if isinstance(expr, cst.Attribute) and expr.attr.value == "dtype":  # x.dtype
            return self.dtype_of(expr.value)
        return None

    # --- names -------------------------------------------------------------------------------------------------
    def _qualified(self, node: cst.CSTNode) -> frozenset[str]:
        """Canonical TF/Keras names (`tf.X`, `keras.X`) plus raw qualified names (`numpy.X`)."""
        return self.rule.api_names(node) | self.rule.qualified_names(node)

    def _is(self, node: cst.CSTNode, *names: str) -> bool:
        return not self._qualified(node).isdisjoint(names)

    def _numpy_name(self, func: cst.CSTNode) -> str | None:
        for name in self._qualified(func):
            if name.startswith("numpy."):
                return name[len("numpy."):]
        return None

    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.rule.parent(node)

    def _order(self, node: cst.CSTNode) -> int:
        """Where the statement holding `node` comes in the module, statements numbered in source order: what
        bindings are ordered by, as by line, without resolving positions (a codegen of the whole module).
        Two nodes of one statement compare equal, as two of one line did: `x = x + 1` reads the earlier `x`."""
        statement: cst.CSTNode | None = node
        while statement is not None and not isinstance(statement, _STATEMENTS):
            statement = self._parent(statement)
        numbers = self._walks.get(_STATEMENT_NUMBERS)
        if numbers is None:
            root = statement
            while root is not None and not isinstance(root, cst.Module):
                root = self._parent(root)
            numbers = self._walks[_STATEMENT_NUMBERS] = _number_statements(root) if root is not None else {}
        return numbers.get(statement, -1)  # type: ignore[arg-type]

    def _binding(self, name: cst.Name) -> cst.BaseExpression | None:
        scope = self.rule.analysis.scope(name)
        if scope is None:
            return None
        values: list[tuple[cst.CSTNode, cst.BaseExpression]] = []
        for assignment in scope[name.value]:
            if not isinstance(getattr(assignment, "node", None), cst.CSTNode):
                return None  # a builtin
            value = self._assigned_by(assignment.node)
            if value is None:
                return None  # bound by a loop, a parameter, an import, `with ... as`: unknown
            values.append((assignment.node, value))
        if len(values) == 1:
            return values[0][1]
        if not values:
            return None
        # Several assignments: the latest one before the use, when it is in the use's own block.
        use_block, use_at = self._block_of(name), self._order(name)
        before = [(self._order(target), target, value) for target, value in values if self._order(target) < use_at]
        if not before:
            return None
        _, target, value = max(before, key=lambda item: item[0])
        if self._block_of(target) is not use_block:
            return None
        later_in_loop = any(self._order(t) > use_at for t, _ in values) and self._in_loop(name)
        return None if later_in_loop else value

    def _assigned_by(self, node: cst.CSTNode) -> cst.BaseExpression | cst.CSTNode | None:
        """The value a binding node binds: the right-hand side of `name = value`, a FunctionDef/ClassDef."""
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return node  # type: ignore[return-value]
        parent = self._parent(node)
        if isinstance(parent, cst.AssignTarget):
            assign = self._parent(parent)
            if isinstance(assign, cst.Assign):
                return assign.value
        if isinstance(parent, cst.AnnAssign) and parent.value is not None:
            return parent.value
        if isinstance(parent, cst.Element):  # `BATCH, NOISE = 16, 32`: the literal element in the same place
            pattern = self._parent(parent)
            value = self._assigned_by(pattern) if isinstance(pattern, (cst.Tuple, cst.List)) else None
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(pattern.elements):
                elements = (*pattern.elements, *value.elements)
                if not any(isinstance(e, cst.StarredElement) for e in elements):
                    return next(v.value for p, v in zip(pattern.elements, value.elements) if p is parent)
        return None

    def _block_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        current = self._parent(node)
        while current is not None and not isinstance(current, (cst.IndentedBlock, cst.Module)):
            current = self._parent(current)
        return current

    def _in_loop(self, node: cst.CSTNode) -> bool:
        current = self._parent(node)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Module)):
            if isinstance(current, (cst.For, cst.While)):
                return True
            current = self._parent(current)
        return False

    # --- classes: `self.attr` ---------------------------------------------------------------------------------
    def _enclosing(self, node: cst.CSTNode, kind: type) -> cst.CSTNode | None:
        current = self._parent(node)
        while current is not None and not isinstance(current, kind):
            current = self._parent(current)
        return current

    def _attribute_binding(self, attr: cst.Attribute) -> cst.BaseExpression | None:
        """`self.name` inside a method: the single value `self.name = value` assigns anywhere in the class."""
        if not isinstance(attr.value, cst.Name):
            return None
        method = self._enclosing(attr, cst.FunctionDef)
        if method is None or not method.params.params or method.params.params[0].name.value != attr.value.value:
            return None
        cls = self._enclosing(method, cst.ClassDef)
        if cls is None:
            return None
        values = list(self._self_assignments(cls, attr.attr.value))  # type: ignore[arg-type]
        return values[0] if len(values) == 1 else None

    def _self_assignments(self, cls: cst.ClassDef, attr: str) -> Iterator[cst.BaseExpression]:
        """The values assigned to `self.<attr>` in the methods of `cls`, in order; `None` (a fresh Name) for an
        assignment that binds it ambiguously (unpacking, several targets, `self.attr[i] = ...`)."""
        for value in self._self_assignment_index(cls).get(attr, ()):
            yield cst.Name("None") if value is None else value  # type: ignore[misc]

    def _self_assignment_index(self, cls: cst.ClassDef) -> dict[str, list[cst.BaseExpression | None]]:
        # Built once per class (attribute name -> what each assignment gives it): a lookup per `self.x` read
        # used to walk every method of the class again.
        key = ("self_assignments", id(cls))
        entry = self._walks.get(key)
        if entry is not None:
            return entry[1]
        index: dict[str, list[cst.BaseExpression | None]] = {}
        for method in _methods(cls):
            if not method.params.params:
                continue
            self_name = method.params.params[0].name.value
            for assign in _walk(method.body, cst.Assign, cache=self._walks):
                first = assign.targets[0].target if len(assign.targets) == 1 else None
                exact = _self_attribute(first, self_name) if first is not None else None
                if exact is not None:
                    index.setdefault(exact, []).append(assign.value)
                    continue
                mentioned: list[str] = []
                for t in assign.targets:
                    for node in (t.target, *_walk(t.target, cst.Attribute, cache=self._walks)):
                        name = _self_attribute(node, self_name)
                        if name is not None and name not in mentioned:
                            mentioned.append(name)
                for name in mentioned:
                    index.setdefault(name, []).append(None)  # ambiguous binding
        self._walks[key] = (cls, index)
        return index

    # --- inference ---------------------------------------------------------------------------------------------
    def _infer(self, expr: cst.CSTNode) -> Static | None:
        if isinstance(expr, cst.Integer) or literal_int(expr) is not None:  # type: ignore[arg-type]
            return Static(kind="int", value=literal_int(expr))  # type: ignore[arg-type]
        if isinstance(expr, cst.Float):
            return Static(shape=Shape.of(()), dtype="float32", literal=True)
        if isinstance(expr, (cst.List, cst.Tuple)):
            return self._sequence(expr)
        if isinstance(expr, cst.Name):
            if expr.value in ("True", "False", "None"):
                return None
            if self._arguments:
                passed = self._argument(expr)
                if passed is not None:
                    return passed
            value = self._binding(expr)
            return self._bound(value)
        if isinstance(expr, cst.Attribute):
            value = self._attribute_binding(expr)
            return self._bound(value) if value is not None else None
        if isinstance(expr, cst.Call):
            return self._call(expr)
        if isinstance(expr, cst.BinaryOperation):
            return self._binary(expr)
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
            operand = self.of(expr.expression)
            return operand if operand is not None and operand.kind == "tensor" else None
        return None

    def _bound(self, value: cst.CSTNode | None) -> Static | None:
        if value is None:
            return None
        if isinstance(value, cst.ClassDef):
            return Static(kind="class", value=value)
        if isinstance(value, cst.FunctionDef):
            return Static(kind="function", value=value)
        return self.of(value)

    def _sequence(self, expr: cst.List | cst.Tuple) -> Static | None:
        """A Python tuple of ints (a shape), or a nested literal list of numbers (a tensor's data)."""
        items = [e.value for e in expr.elements if not isinstance(e, cst.StarredElement)]
        if len(items) != len(expr.elements):
            return None
        ints = [self.int_of(item) if not m.matches(item, m.Name("None")) else None for item in items]
        if items and all(i is not None for i in ints):  # [4, 3]: a shape, or the data of a 1-D int tensor
            return Static(shape=Shape.of((len(ints),)), dtype="int32", value=tuple(ints), literal=True)
        if items and all(i is not None or m.matches(it, m.Name("None")) for i, it in zip(ints, items)):
            return Static(kind="tuple", value=tuple(ints))  # (None, 1): a shape
        data = _literal_data(expr)
        if data is not None:
            shape, dtype = data
            return Static(shape=Shape.of(shape), dtype=dtype, literal=True)
        return None

    def _shape_arg(self, expr: cst.CSTNode | None) -> Shape | None:
        """A shape argument: a literal or name-bound tuple/list of ints, a single int, or `x.shape`."""
        expr = _unwrap(expr)
        if expr is None:
            return None
        if isinstance(expr, cst.Attribute) and expr.attr.value == "shape":
            return self.shape_of(expr.value)
        static = self.of(expr)
        if static is not None and static.kind == "int":
            return Shape.of((static.value,))  # type: ignore[arg-type]
        if static is not None and isinstance(static.value, tuple):
            return Shape.of(d if d is None or d >= 0 else None for d in static.value)
        if isinstance(expr, (cst.List, cst.Tuple)):
            # `[shape[1], output_size]`: each element is a dimension, known or not (not nested data)
            items = [e.value for e in expr.elements if isinstance(e, cst.Element)]
            if len(items) != len(expr.elements) or any(isinstance(i, (cst.List, cst.Tuple)) for i in items):
                return None
            dims = [self.int_of(item) for item in items]
            return Shape.of(d if d is None or d >= 0 else None for d in dims)
        return None

    def _call(self, call: cst.Call) -> Static | None:
        func = call.func
        # Only a name or attribute callee names an API: `Dense(2)(h)` resolves to `Dense` for LibCST too.
        names = self._qualified(func) if isinstance(func, (cst.Name, cst.Attribute)) else set()
        if isinstance(func, cst.Attribute) and func.attr.value in ("astype", "numpy"):  # a.astype("float32"), t.numpy()
            source = self.of(func.value)
            if source is None or source.kind != "tensor":
                return None
            dtype = self.dtype_name(argument(call, "dtype", 0)) if func.attr.value == "astype" else source.dtype
            return replace(source, dtype=dtype, numpy=True, head=None, literal=False)
        for name in names:
            handler = _TF_CONSTRUCTORS.get(name)
            if handler is not None:
                return handler(self, call)
        numpy = self._numpy_name(func)
        if numpy is not None:
            return self._numpy(numpy, call)
        if names & {"keras.layers.Dense", "keras.layers.Flatten"} or names & _SHAPE_PRESERVING:
            return self._layer(call, names)
        if names & set(_SEQUENTIAL):
            return self._sequential(call)
        if names & set(_MODEL_CLASSES):
            outputs = argument(call, "outputs", 1)
            output = self.of(outputs.value) if outputs is not None else None
            return Static(kind="model", output=output) if output is not None else None
        if isinstance(func, cst.Attribute) and func.attr.value in ("predict", "predict_on_batch", "__call__"):
            callee = self.of(func.value)
            if callee is not None and callee.kind in ("model", "layer"):
                return self._apply(callee, argument(call, "x", 0), call)
            return None
        callee = self.of(func)
        if callee is None:
            return None
        if callee.kind in ("model", "layer"):
            return self._apply(callee, argument(call, "inputs", 0), call)
        if callee.kind == "class":
            return self._subclassed_model(callee.value)  # type: ignore[arg-type]
        if callee.kind == "function":
            return self._called(callee.value, call)  # type: ignore[arg-type]
        return None

    # layers and models
    def _layer(self, call: cst.Call, names: set[str]) -> Static:
        if "keras.layers.Dense" in names:
            units = self.int_of(argument(call, "units", 0))
            activation = self._activation(argument(call, "activation", 1))
            return Static(kind="layer", output=Static(shape=Shape.ending_in(units), dtype="float32", head=call,
                                                       activation=activation), value="dense")
        if "keras.layers.Flatten" in names:
            return Static(kind="layer", value="flatten")
        activation = None
        if "keras.layers.Softmax" in names:
            activation = "softmax"
        elif "keras.layers.Activation" in names:
            activation = self._activation(argument(call, "activation", 0)) or "unknown"
        return Static(kind="layer", value="preserve", activation=activation)

    def _activation(self, arg: cst.Arg | None) -> str | None:
        """"linear" for no activation, "softmax"/"sigmoid", "other" for the rest; None only when unknown."""
        if arg is None or m.matches(arg.value, m.Name("None")):
            return "linear"
        value = arg.value
        if isinstance(value, cst.SimpleString):
            text = value.evaluated_value
            return _ACTIVATION_NAMES.get(text, "other") if isinstance(text, str) else None
        for name in self._qualified(value):
            last = name.rsplit(".", 1)[-1]
            if name.startswith(("tf.", "keras.")):
                return _ACTIVATION_NAMES.get(last, "other")
        return None

    def _apply(self, callee: Static, arg: cst.Arg | None, call: cst.Call) -> Static | None:
        """The value of calling a layer or model on `arg`."""
        inputs = self.of(arg.value) if arg is not None else None
        if callee.layers is not None:  # Sequential: fold the input through the layers
            current = inputs if inputs is not None else Static()
            for layer in callee.layers:
                current = _apply_layer(layer, current)
                if current is None:
                    return None
            return current
        if callee.kind == "layer":
            return _apply_layer(callee, inputs if inputs is not None else Static())
        output = callee.output
        if output is None or output.shape is None:
            return output
        if inputs is not None and inputs.shape is not None and inputs.shape.dims and output.shape.dims:
            if output.shape.dims[0] is None:  # the batch dimension comes from the input
                output = replace(output, shape=Shape.of((inputs.shape.dims[0],) + output.shape.dims[1:]))
        return output

    def _sequential(self, call: cst.Call) -> Static | None:
        arg = argument(call, "layers", 0)
        layers: list[Static] = []
        if arg is not None:
            if not isinstance(arg.value, (cst.List, cst.Tuple)):
                return None
            layers.extend(self._layer_value(element.value) for element in arg.value.elements)
        added = self._added_layers(call)
        if added is None:
            return None
        layers.extend(added)
        return Static(kind="model", layers=tuple(layers), output=_fold(layers))

    def _layer_value(self, expr: cst.BaseExpression) -> Static:
        """A layer in a Sequential list; `keras.Input(...)` starts the chain with a known input. A layer of
        unknown effect (Conv2D, Flatten, ...) gives an unknown tensor, after which a Dense still sets the last
        dimension."""
        static = self.of(expr)
        if static is not None and static.kind == "tensor":  # keras.Input: an "input layer"
            return Static(kind="layer", value="input", output=static)
        if static is not None and static.kind in ("layer", "model"):
            return static
        return _UNKNOWN_LAYER

    def _added_layers(self, call: cst.Call) -> list[Static] | None:
        """Layers added with `name.add(layer)` to the Sequential `name = Sequential(...)` (in line order)."""
        assign_target = self._parent(call)
        if not isinstance(assign_target, cst.Assign):
            return []
        if len(assign_target.targets) != 1 or not isinstance(assign_target.targets[0].target, cst.Name):
            return []
        target = assign_target.targets[0].target
        scope = self.rule.analysis.scope(target)
        if scope is None:
            return []
        added: list[tuple[int, cst.BaseExpression]] = []
        for assignment in scope[target.value]:
            if assignment.node is not target:
                continue
            for access in assignment.references:
                attribute = self._parent(access.node)
                if not (isinstance(attribute, cst.Attribute) and attribute.attr.value == "add"):
                    continue
                add_call = self._parent(attribute)
                if not isinstance(add_call, cst.Call) or not add_call.args:
                    return None
                added.append((self._order(add_call), add_call.args[0].value))
        return [self._layer_value(expr) for _, expr in sorted(added, key=lambda item: item[0])]

    def _subclassed_model(self, cls: cst.ClassDef) -> Static | None:
        """An instance of a class of this module with a `call` method: its output is what `call` returns."""
        call_method = next((f for f in _methods(cls) if f.name.value == "call"), None)
        if call_method is None:
            return None
        output = self._function_result(call_method)
        return Static(kind="model", output=output, value=cls) if output is not None else None

    def _function_result(self, function: cst.FunctionDef) -> Static | None:
        """What a function of the module returns (its parameters unknown), when every way out of it is a
        `return <value>` and all of them agree. A generator, a coroutine, a body that may end without a
        return (None), or a decorator other than tf.function (it may return anything): unknown."""
        if function.asynchronous is not None or not _ends_in_return(function.body):
            return None
        if any(not self._is(_decorator_name(d), "tf.function") for d in function.decorators):
            return None
        if any(True for _ in _walk(function.body, (cst.Yield, cst.Await), skip_nested=True, cache=self._walks)):
            return None
        returns = _walk(function.body, cst.Return, skip_nested=True, cache=self._walks)
        results = [self.of(r.value) for r in returns]
        if not results or any(r is None for r in results):
            return None
        first = results[0]
        return first if all(_same_value(first, r) for r in results[1:]) else None  # type: ignore[arg-type]

    # calls of the module's functions
    def _called(self, function: cst.FunctionDef, call: cst.Call) -> Static | None:
        """The value of `call`, a call of `function`: its return value evaluated with the parameters bound to
        what the call passes (Python binds them so), else with the parameters unknown. Recursion and calls
        nested more than a few functions deep fall back to the parameters unknown."""
        if function not in self._calls and len(self._calls) < _CALL_DEPTH:
            arguments = self._bind(function, call)
            if arguments:
                inner = StaticValues(self.rule)
                inner._arguments, inner._calls = arguments, (*self._calls, function)
                result = inner._function_result(function)
                if result is not None:
                    return result
        return self._function_result(function)

    def _bind(self, function: cst.FunctionDef, call: cst.Call) -> dict[int, Static] | None:
        """What `call` passes to each parameter of `function` that is known (defaults included), by id of
        the cst.Param; None when the call's arguments cannot be matched to the parameters statically."""
        params = function.params
        positional = [*params.posonly_params, *params.params]
        by_keyword = {p.name.value: p for p in (*params.params, *params.kwonly_params)}
        passed: dict[int, cst.BaseExpression] = {}
        index = 0
        for arg in call.args:
            if arg.star:  # f(*args), f(**kwargs)
                return None
            if arg.keyword is None:
                if index >= len(positional):
                    if isinstance(params.star_arg, cst.Param):
                        continue  # into *args: not a parameter this evaluation follows
                    return None
                param = positional[index]
                index += 1
            else:
                param = by_keyword.get(arg.keyword.value)
                if param is None:
                    if params.star_kwarg is not None:
                        continue
                    return None
            if id(param) in passed:
                return None
            passed[id(param)] = arg.value
        for param in (*positional, *params.kwonly_params):
            if id(param) not in passed and param.default is not None:
                passed[id(param)] = param.default  # evaluated where the function was defined
        arguments = {key: self.of(value) for key, value in passed.items()}
        return {key: value for key, value in arguments.items() if value is not None}

    def _argument(self, name: cst.Name) -> Static | None:
        """What the call passes to the parameter `name` stands for, when that parameter is its only binding."""
        scope = self.rule.analysis.scope(name)
        if scope is None:
            return None
        assignments = list(scope[name.value])
        if len(assignments) != 1 or not isinstance(assignments[0].node, cst.Param):
            return None
        return self._arguments.get(id(assignments[0].node))

    def _binary(self, expr: cst.BinaryOperation) -> Static | None:
        """Arithmetic on tensors keeps a tensor operand's shape when the other side is a scalar; `/` of integers
        is true division, in a float dtype (TensorFlow's `_TRUEDIV_TABLE`; NumPy: float64)."""
        found = self._binary_operands(expr)
        if found is not None and isinstance(expr.operator, cst.Divide) and found.kind == "tensor":
            if found.dtype in INT_DTYPES:
                narrow = found.dtype in ("int8", "uint8", "int16", "uint16") and not found.numpy
                return replace(found, dtype="float32" if narrow else "float64")
        return found

    def _binary_operands(self, expr: cst.BinaryOperation) -> Static | None:
        left, right = self.of(expr.left), self.of(expr.right)
        if left is not None and left.kind == "int" and right is not None and right.kind == "int":
            value = _int_arithmetic(expr.operator, left.value, right.value)  # type: ignore[arg-type]
            return Static(kind="int", value=value) if value is not None else None
        scalar = (cst.Integer, cst.Float)
        if left is not None and left.kind == "tensor" and isinstance(expr.right, scalar):
            return replace(left, head=None, value=None, literal=False)
        if right is not None and right.kind == "tensor" and isinstance(expr.left, scalar):
            return replace(right, head=None, value=None, literal=False)
        if isinstance(expr.operator, cst.MatrixMultiply) and right is not None and right.kind == "tensor":
            left = left or Static()  # an operand of unknown shape still leaves the result's last dimension known
            return _matmul(left, right, False, False) if left.kind == "tensor" else None
        if left is None or right is None or left.kind != "tensor" or right.kind != "tensor":
            return None
        if isinstance(expr.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)):
            return _elementwise(left, right)
        return None

    def _numpy(self, name: str, call: cst.Call) -> Static | None:
        dtype_arg = argument(call, "dtype")
        dtype = self.dtype_name(dtype_arg.value) if dtype_arg is not None else None
        if dtype_arg is not None and dtype is None:  # a dtype this analysis cannot read: the shape alone
            found = self._numpy(name, call.with_changes(args=[a for a in call.args if a is not dtype_arg]))
            return replace(found, dtype=None) if found is not None else None
        if name in ("zeros", "ones", "empty"):
            shape = self._shape_arg(argument(call, "shape", 0))
            return Static(shape=shape, dtype=dtype or ("float64" if dtype_arg is None else None), numpy=True)
        if name == "full":
            shape = self._shape_arg(argument(call, "shape", 0))
            return Static(shape=shape, dtype=dtype, numpy=True)
        if name in ("zeros_like", "ones_like", "empty_like", "full_like"):
            source = self.of(argument(call, "a", 0))
            if source is None or source.kind != "tensor":
                return None
            return Static(shape=source.shape, dtype=dtype or source.dtype, numpy=True)
        if name in ("array", "asarray"):
            source = self.of(argument(call, "object", 0))
            if source is None or source.kind != "tensor":
                return None
            base = source.dtype
            if source.literal and base in ("float32", "int32"):
                base = base.replace("32", "64")  # NumPy's defaults for Python floats and ints
            return Static(shape=source.shape, dtype=dtype or base, numpy=True)
        if name == "arange":
            positional = [a for a in call.args if a.keyword is None]
            if len(positional) == 1 and self.int_of(positional[0].value) is not None:
                return Static(shape=Shape.of((self.int_of(positional[0].value),)), dtype=dtype or "int64", numpy=True)
            return None
        if name in ("random.rand", "random.randn"):
            dims = [self.int_of(a.value) for a in call.args]
            if any(d is None for d in dims) or any(a.keyword for a in call.args):
                return None
            return Static(shape=Shape.of(dims), dtype="float64", numpy=True)
        if name in ("random.random", "random.random_sample", "random.normal", "random.uniform", "random.randint",
                    "random.binomial", "random.choice"):
            size = argument(call, "size", {"random.random": 0, "random.random_sample": 0}.get(name, 2))
            shape = self._shape_arg(size) if size is not None else None
            if shape is None:
                return None
            kind = "int64" if name in ("random.randint", "random.binomial") else "float64"
            return Static(shape=shape, dtype=dtype or (None if name == "random.choice" else kind), numpy=True)
        if name in ("reshape",):
            source, shape = self.of(argument(call, "a", 0)), self._shape_arg(argument(call, "newshape", 1))
            return _reshaped(source, shape, numpy=True)
        if name == "expand_dims":
            return _expanded(self.of(argument(call, "a", 0)), self.int_of(argument(call, "axis", 1)))
        if name == "squeeze":
            return _squeezed(self.of(argument(call, "a", 0)), argument(call, "axis", 1), self)
        return None


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
    shape = values._shape_arg(argument(call, "shape", 0) or argument(call, "dims", 0))
    if values._is(call.func, "tf.fill"):
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
    return Static(shape=values._shape_arg(argument(call, "shape", 0)), dtype=_dtype_or(values, call, None, "float32"))


def _constant(values: StaticValues, call: cst.Call) -> Static | None:  # tf.constant / convert_to_tensor
    source = values.of(argument(call, "value", 0))
    dtype = _dtype_kw(values, call, 1)
    if argument(call, "dtype", 1) is not None and dtype is None:  # a dtype this analysis cannot read
        source = values.of(argument(call, "value", 0))
        shape_arg = argument(call, "shape", 2)
        shape = values._shape_arg(shape_arg) if shape_arg is not None else source.shape if source is not None else None
        return Static(shape=shape) if shape is not None else None
    shape_arg = argument(call, "shape", 2)
    shape = values._shape_arg(shape_arg) if shape_arg is not None else None
    if source is None or source.kind not in ("tensor", "int"):
        return Static(shape=shape, dtype=dtype) if shape is not None or dtype is not None else None
    if source.kind == "int":
        return Static(shape=shape or Shape.of(()), dtype=dtype or "int32")
    return Static(shape=shape or source.shape, dtype=dtype or source.dtype)  # a NumPy array keeps its dtype


def _variable(values: StaticValues, call: cst.Call) -> Static | None:  # tf.Variable(initial_value)
    source = values.of(argument(call, "initial_value", 0))
    dtype = _dtype_kw(values, call)
    if source is None or source.kind != "tensor":
        return Static(dtype=dtype) if dtype else None
    return Static(shape=source.shape, dtype=_dtype_or(values, call, None, source.dtype))


def _placeholder(values: StaticValues, call: cst.Call) -> Static:  # tf.compat.v1.placeholder(dtype, shape)
    return Static(shape=values._shape_arg(argument(call, "shape", 1)), dtype=_dtype_kw(values, call, 0))


def _keras_input(values: StaticValues, call: cst.Call) -> Static | None:  # keras.Input(shape, batch_size)
    shape = values._shape_arg(argument(call, "shape", 0))
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
    return _reshaped(values.of(argument(call, "tensor", 0)), values._shape_arg(argument(call, "shape", 1)))


def _tf_expand_dims(values: StaticValues, call: cst.Call) -> Static | None:
    return _expanded(values.of(argument(call, "input", 0)), values.int_of(argument(call, "axis", 1)))


def _tf_squeeze(values: StaticValues, call: cst.Call) -> Static | None:
    return _squeezed(values.of(argument(call, "input", 0)), argument(call, "axis", 1), values)


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
    return _matmul(a, b, flags[0], flags[1])


def _tf_binary(values: StaticValues, call: cst.Call) -> Static | None:  # tf.add(x, y), tf.multiply, ...
    a, b = values.of(argument(call, "x", 0)), values.of(argument(call, "y", 1))
    if a is None or b is None or a.kind != "tensor" or b.kind != "tensor":
        return None
    return _elementwise(a, b)


def _tf_unary(values: StaticValues, call: cst.Call) -> Static | None:  # tf.nn.relu(x), tf.sigmoid(x), ...
    source = values.of(call.args[0].value if call.args else None)
    if source is None or source.kind != "tensor":
        return None
    names = values._qualified(call.func)
    activation = next((a for name, a in _ACTIVATION_FUNCTIONS.items() if name in names), "other")
    return replace(source, activation=activation, literal=False, value=None)


def _get_variable(values: StaticValues, call: cst.Call) -> Static:  # tf.compat.v1.get_variable(name, shape, dtype)
    return Static(shape=values._shape_arg(argument(call, "shape", 1)), dtype=_dtype_or(values, call, 2, "float32"))


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

_TF_CONSTRUCTORS = {
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
    "tf.Variable": _variable,
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
    **{name: _tf_unary for name in _ELEMENTWISE_UNARY},
}


# --- shape arithmetic -------------------------------------------------------------------------------------------
def _reshaped(source: Static | None, shape: Shape | None, numpy: bool = False) -> Static | None:
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


def _expanded(source: Static | None, axis: int | None) -> Static | None:
    if source is None or source.shape is None or source.shape.dims is None or axis is None:
        return None
    dims = list(source.shape.dims)
    index = axis if axis >= 0 else len(dims) + 1 + axis
    if not 0 <= index <= len(dims):
        return None
    dims.insert(index, 1)
    return replace(source, shape=Shape.of(dims), head=None, value=None)


def _squeezed(source: Static | None, axis_arg: cst.Arg | None, values: StaticValues) -> Static | None:
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


def _matmul(a: Static, b: Static, transpose_a: bool, transpose_b: bool) -> Static | None:
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


def _elementwise(a: Static, b: Static) -> Static | None:
    shape = broadcast(a.shape, b.shape) if a.shape is not None and b.shape is not None else None
    if shape is None and a.shape is not None and b.shape is not None and None in (a.shape.dims, b.shape.dims):
        shape = _partial_broadcast(a.shape, b.shape)
    dtype = a.dtype if a.dtype == b.dtype else None
    if shape is None and dtype is None:
        return None
    return Static(shape=shape, dtype=dtype, numpy=a.numpy and b.numpy)


def _apply_layer(layer: Static, inputs: Static) -> Static | None:
    if layer.kind == "model":
        if layer.layers is not None:
            current: Static | None = inputs
            for inner in layer.layers:
                current = _apply_layer(inner, current) if current is not None else None
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


def _fold(layers: list[Static]) -> Static | None:
    current: Static | None = Static()
    for layer in layers:
        current = _apply_layer(layer, current) if current is not None else None
    return current


def _same_value(a: Static, b: Static) -> bool:
    return a.kind == b.kind and a.shape == b.shape and a.dtype == b.dtype and a.head is b.head


def _int_arithmetic(operator: cst.BaseBinaryOp, a: int, b: int) -> int | None:
    if isinstance(operator, cst.Add):
        return a + b
    if isinstance(operator, cst.Subtract):
        return a - b
    if isinstance(operator, cst.Multiply):
        return a * b
    if isinstance(operator, cst.FloorDivide) and b:
        return a // b
    return None


def _unwrap(node: cst.CSTNode | None) -> cst.CSTNode | None:
    """An argument's value (rules may pass `argument(...)` results as they come)."""
    return node.value if isinstance(node, cst.Arg) else node


def _canonical_dtype(text: str) -> str | None:
    text = _DTYPE_ALIASES.get(text, text)
    return text if text in DTYPES else None


def _literal_data(expr: cst.BaseExpression) -> tuple[tuple[int, ...], str] | None:
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
    inner = [_literal_data(e.value) if not isinstance(e, cst.StarredElement) else None for e in expr.elements]
    if any(i is None for i in inner) or len({i[0] for i in inner}) != 1:  # type: ignore[index]
        return None
    kinds = {i[1] for i in inner}  # type: ignore[index]
    dtype = "float32" if "float32" in kinds else kinds.pop() if len(kinds) == 1 else "int32"
    return (len(inner),) + inner[0][0], dtype  # type: ignore[index]


def _ends_in_return(body: cst.BaseSuite) -> bool:
    """Every way through `body` ends in a `return` or `raise` (so the function never returns None unseen)."""
    if isinstance(body, cst.SimpleStatementSuite):
        return bool(body.body) and isinstance(body.body[-1], (cst.Return, cst.Raise))
    return bool(body.body) and _exits(body.body[-1])


def _exits(statement: cst.BaseStatement) -> bool:
    if isinstance(statement, cst.SimpleStatementLine):
        return isinstance(statement.body[-1], (cst.Return, cst.Raise))
    if isinstance(statement, cst.With):
        return _ends_in_return(statement.body)
    if isinstance(statement, cst.If) and statement.orelse is not None and _ends_in_return(statement.body):
        rest = statement.orelse
        return _exits(rest) if isinstance(rest, cst.If) else _ends_in_return(rest.body)
    return False


def _decorator_name(decorator: cst.Decorator) -> cst.BaseExpression:
    """What a decorator names: `tf.function` for both `@tf.function` and `@tf.function(jit_compile=True)`."""
    expr = decorator.decorator
    return expr.func if isinstance(expr, cst.Call) else expr


def _methods(cls: cst.ClassDef) -> Iterator[cst.FunctionDef]:
    for statement in cls.body.body:
        if isinstance(statement, cst.FunctionDef):
            yield statement


def _walk(node: cst.CSTNode, kind: type, skip_nested: bool = False, cache: dict | None = None) -> Iterator:
    """Nodes of `kind` under `node` (preorder, lexical order), optionally not entering nested functions and
    classes. `cache` (one dict per module being checked, see `StaticValues`) keeps each node's descendants:
    `node.children` rebuilds the node on every read, and the same bodies are walked again and again."""
    return (n for n in _descendants(node, skip_nested, {} if cache is None else cache) if isinstance(n, kind))


_NESTED = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def _walk_cache(rule: Rule | FileAnalysis) -> dict:
    """The structural facts `_walk` and `_self_assignment_index` keep for the file being checked: one dict per
    check, shared by its rules. They are pure functions of the (immutable) nodes, so sharing them cannot change
    a result."""
    return rule.analysis.fact(_walk_cache, dict)


_STATEMENTS = (cst.SimpleStatementLine, cst.BaseCompoundStatement)
# What holds statements, below a statement: suites, and the clauses of compound statements.
_STATEMENT_HOLDERS = (*_STATEMENTS, cst.BaseSuite, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally,
                      cst.MatchCase)
_STATEMENT_NUMBERS = "statement numbers"  # the key of `_number_statements`' result in the shared walk cache


def _number_statements(module: cst.Module) -> dict[cst.CSTNode, int]:
    """Every statement of `module`, numbered in source order (a compound statement before its body)."""
    numbers: dict[cst.CSTNode, int] = {}
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, _STATEMENTS):
            numbers[node] = len(numbers)
            if isinstance(node, cst.SimpleStatementLine):
                continue
        stack.extend(reversed([c for c in _libcst_children(node) if isinstance(c, _STATEMENT_HOLDERS)]))
    return numbers


def _self_attribute(node: cst.CSTNode, self_name: str) -> str | None:
    """`attr` when `node` is `<self_name>.attr`."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == self_name:
        return node.attr.value
    return None


def _descendants(node: cst.CSTNode, skip_nested: bool, cache: dict) -> tuple[cst.CSTNode, ...]:
    # Cached for the node walked from only (keyed by id, with the node kept in the entry so that its id cannot be
    # reused while cached): caching every node's descendants on the way made the cache as large as the file
    # times its depth.
    key = (id(node), skip_nested)
    entry = cache.get(key)
    if entry is not None:
        return entry[1]
    found: list[cst.CSTNode] = []
    stack = list(reversed(_libcst_children(node)))
    while stack:
        child = stack.pop()
        found.append(child)
        if skip_nested and isinstance(child, _NESTED):
            continue
        stack.extend(reversed(_libcst_children(child)))
    result = tuple(found)
    cache[key] = (node, result)
    return result


# =============================================================================================================
# Additions by other rule families (TFX303/305/306/307) go below this line.
# =============================================================================================================
# --- dtypes (TFX303/305/306/307) ---
# More constructors whose dtype (and shape) literal arguments decide: `tf.range`, transposes, `tf.eye`, and
# the TF1 name of the truncated normal. Registered into `_TF_CONSTRUCTORS` so every rule sees them.


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


def _tf_variable(values: StaticValues, call: cst.Call) -> Static | None:  # tf.Variable(0): a Python int is int32
    known = _variable(values, call)
    if known is not None:
        return known
    source = values.of(argument(call, "initial_value", 0))
    if source is not None and source.kind == "int":
        return Static(shape=Shape.of(()), dtype=_dtype_or(values, call, None, "int32"))
    return None


def _tf_eye(values: StaticValues, call: cst.Call) -> Static:  # tf.eye(num_rows, num_columns=None, ..., dtype)
    rows = values.int_of(argument(call, "num_rows", 0))
    columns_arg = argument(call, "num_columns", 1)
    columns = values.int_of(columns_arg) if columns_arg is not None else rows
    shape = Shape.of((rows, columns)) if argument(call, "batch_shape", 2) is None else None
    return Static(shape=shape, dtype=_dtype_or(values, call, 3, "float32"))


_TF_CONSTRUCTORS.update(
    {
        "tf.range": _tf_range,
        "tf.Variable": _tf_variable,
        "tf.transpose": _tf_transpose,
        "tf.linalg.transpose": _tf_transpose,
        "tf.linalg.matrix_transpose": _tf_matrix_transpose,
        "tf.eye": _tf_eye,
        "tf.truncated_normal": _random,
        "tf.random.stateless_normal": _random,
        "tf.random.stateless_uniform": _random,
    }
)

# The leaf names of every API `StaticValues` makes a tensor, layer or model value of. A TensorFlow tensor that a
# rule reasons about was made by one of them, so a rule that reports where such a tensor is used (an operator
# has no API name of its own) takes these as its anchors (`Rule.anchors`, `tffix.slicing`).
VALUE_SOURCES = leaves(
    *_TF_CONSTRUCTORS, "keras.layers.Dense", "keras.layers.Flatten", *_SHAPE_PRESERVING, *_SEQUENTIAL,
    *_MODEL_CLASSES,
)
