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

Where the parts live: the values and their arithmetic in `_values`, what each TensorFlow constructor makes in
`_constructors`, the tree walks this inference repeats in `_code_walks`; the inference itself here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import libcst as cst
import libcst.matchers as m

from tffix.names import leaves
from tffix.rule import Rule, argument, literal_int

from ._code_walks import (
    STATEMENT_NUMBERS,
    STATEMENTS,
    decorator_name,
    ends_in_return,
    methods,
    number_statements,
    self_attribute,
    unwrap,
    walk_cache,
    walk_kind,
)
from ._cst_utils import numpy_name
from ._constructors import TF_CONSTRUCTORS, literal_data, numpy_value
from ._keras_models import applied, layer_of, sequential_of, subclassed_model
from ._values import (
    INT_DTYPES,
    SHAPE_PRESERVING,
    Shape,
    Static,
    canonical_dtype,
    elementwise,
    int_arithmetic,
    matmul_of,
    same_value,
)


_MODEL_CLASSES = ("keras.Model", "keras.models.Model")


_CALL_DEPTH = 3  # calls of module functions followed with their arguments, one inside the other


_SEQUENTIAL = ("keras.Sequential", "keras.models.Sequential")


class StaticValues:
    """Infers `Static` values for expressions of the module a rule is visiting (cached per node)."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self._cache: dict[int, Static | None] = {}
        self._busy: set[int] = set()
        # Descendants of the bodies `walk_kind` goes through, shared by every evaluator of the file (see `walk_kind`).
        self._walks: dict = walk_cache(rule)
        # Set only in an evaluator made for one call of a module function (`_called`): what the call passes to
        # the function's parameters (by id of the cst.Param), and the functions being so evaluated, outermost first.
        self._arguments: dict[int, Static] = {}
        self._calls: tuple[cst.FunctionDef, ...] = ()

    # --- public API --------------------------------------------------------------------------------------------
    def of(self, expr: cst.CSTNode | None) -> Static | None:
        expr = unwrap(expr)
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
        expr = unwrap(expr)
        if expr is None:
            return None
        if isinstance(expr, cst.SimpleString):
            text = expr.evaluated_value
            return canonical_dtype(text) if isinstance(text, str) else None
        if m.matches(expr, m.Name("float")):
            return "float64"
        if m.matches(expr, m.Name("int")):
            return "int64"
        if m.matches(expr, m.Name("bool")):
            return "bool"
        for name in self.qualified(expr):
            for prefix in ("tf.", "tf.dtypes.", "numpy.", "keras.backend."):
                if name.startswith(prefix):
                    dtype = canonical_dtype(name[len(prefix):])
                    if dtype is not None:
                        return dtype
        if isinstance(expr, cst.Attribute) and expr.attr.value == "dtype":  # x.dtype
            return self.dtype_of(expr.value)
        return None

    # --- names -------------------------------------------------------------------------------------------------
    def qualified(self, node: cst.CSTNode) -> frozenset[str]:
        """Canonical TF/Keras names (`tf.X`, `keras.X`) plus raw qualified names (`numpy.X`)."""
        return self.rule.api_names(node) | self.rule.qualified_names(node)

    def is_api(self, node: cst.CSTNode, *names: str) -> bool:
        return not self.qualified(node).isdisjoint(names)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.rule.parent(node)

    def order(self, node: cst.CSTNode) -> int:
        """Where the statement holding `node` comes in the module, statements numbered in source order: what
        bindings are ordered by, as by line, without resolving positions (a codegen of the whole module).
        Two nodes of one statement compare equal, as two of one line did: `x = x + 1` reads the earlier `x`."""
        statement: cst.CSTNode | None = node
        while statement is not None and not isinstance(statement, STATEMENTS):
            statement = self.parent(statement)
        numbers = self._walks.get(STATEMENT_NUMBERS)
        if numbers is None:
            root = statement
            while root is not None and not isinstance(root, cst.Module):
                root = self.parent(root)
            numbers = self._walks[STATEMENT_NUMBERS] = number_statements(root) if root is not None else {}
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
        use_block, use_at = self._block_of(name), self.order(name)
        before = [(self.order(target), target, value) for target, value in values if self.order(target) < use_at]
        if not before:
            return None
        _, target, value = max(before, key=lambda item: item[0])
        if self._block_of(target) is not use_block:
            return None
        later_in_loop = any(self.order(t) > use_at for t, _ in values) and self._in_loop(name)
        return None if later_in_loop else value

    def _assigned_by(self, node: cst.CSTNode) -> cst.BaseExpression | cst.CSTNode | None:
        """The value a binding node binds: the right-hand side of `name = value`, a FunctionDef/ClassDef."""
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return node  # type: ignore[return-value]
        parent = self.parent(node)
        if isinstance(parent, cst.AssignTarget):
            assign = self.parent(parent)
            if isinstance(assign, cst.Assign):
                return assign.value
        if isinstance(parent, cst.AnnAssign) and parent.value is not None:
            return parent.value
        if isinstance(parent, cst.Element):  # `BATCH, NOISE = 16, 32`: the literal element in the same place
            pattern = self.parent(parent)
            value = self._assigned_by(pattern) if isinstance(pattern, (cst.Tuple, cst.List)) else None
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(pattern.elements):
                elements = (*pattern.elements, *value.elements)
                if not any(isinstance(e, cst.StarredElement) for e in elements):
                    return next(v.value for p, v in zip(pattern.elements, value.elements) if p is parent)
        return None

    def _block_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        current = self.parent(node)
        while current is not None and not isinstance(current, (cst.IndentedBlock, cst.Module)):
            current = self.parent(current)
        return current

    def _in_loop(self, node: cst.CSTNode) -> bool:
        current = self.parent(node)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Module)):
            if isinstance(current, (cst.For, cst.While)):
                return True
            current = self.parent(current)
        return False

    # --- classes: `self.attr` ---------------------------------------------------------------------------------
    def _enclosing(self, node: cst.CSTNode, kind: type) -> cst.CSTNode | None:
        current = self.parent(node)
        while current is not None and not isinstance(current, kind):
            current = self.parent(current)
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
        for method in methods(cls):
            if not method.params.params:
                continue
            self_name = method.params.params[0].name.value
            for assign in walk_kind(method.body, cst.Assign, cache=self._walks):
                first = assign.targets[0].target if len(assign.targets) == 1 else None
                exact = self_attribute(first, self_name) if first is not None else None
                if exact is not None:
                    index.setdefault(exact, []).append(assign.value)
                    continue
                mentioned: list[str] = []
                for t in assign.targets:
                    for node in (t.target, *walk_kind(t.target, cst.Attribute, cache=self._walks)):
                        name = self_attribute(node, self_name)
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
        data = literal_data(expr)
        if data is not None:
            shape, dtype = data
            return Static(shape=Shape.of(shape), dtype=dtype, literal=True)
        return None

    def shape_arg(self, expr: cst.CSTNode | None) -> Shape | None:
        """A shape argument: a literal or name-bound tuple/list of ints, a single int, or `x.shape`."""
        expr = unwrap(expr)
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
        names = self.qualified(func) if isinstance(func, (cst.Name, cst.Attribute)) else set()
        if isinstance(func, cst.Attribute) and func.attr.value in ("astype", "numpy"):  # a.astype("float32"), t.numpy()
            source = self.of(func.value)
            if source is None or source.kind != "tensor":
                return None
            dtype = self.dtype_name(argument(call, "dtype", 0)) if func.attr.value == "astype" else source.dtype
            return replace(source, dtype=dtype, numpy=True, head=None, literal=False)
        for name in names:
            handler = TF_CONSTRUCTORS.get(name)
            if handler is not None:
                return handler(self, call)
        numpy = numpy_name(self.rule, func)
        if numpy is not None:
            return numpy_value(self, numpy, call)
        if names & {"keras.layers.Dense", "keras.layers.Flatten"} or names & SHAPE_PRESERVING:
            return layer_of(self, call, names)
        if names & set(_SEQUENTIAL):
            return sequential_of(self, call)
        if names & set(_MODEL_CLASSES):
            outputs = argument(call, "outputs", 1)
            output = self.of(outputs.value) if outputs is not None else None
            return Static(kind="model", output=output) if output is not None else None
        if isinstance(func, cst.Attribute) and func.attr.value in ("predict", "predict_on_batch", "__call__"):
            callee = self.of(func.value)
            if callee is not None and callee.kind in ("model", "layer"):
                return applied(self, callee, argument(call, "x", 0), call)
            return None
        callee = self.of(func)
        if callee is None:
            return None
        if callee.kind in ("model", "layer"):
            return applied(self, callee, argument(call, "inputs", 0), call)
        if callee.kind == "class":
            return subclassed_model(self, callee.value)  # type: ignore[arg-type]
        if callee.kind == "function":
            return self._called(callee.value, call)  # type: ignore[arg-type]
        return None

    # layers and models
    def function_result(self, function: cst.FunctionDef) -> Static | None:
        """What a function of the module returns (its parameters unknown), when every way out of it is a
        `return <value>` and all of them agree. A generator, a coroutine, a body that may end without a
        return (None), or a decorator other than tf.function (it may return anything): unknown."""
        if function.asynchronous is not None or not ends_in_return(function.body):
            return None
        if any(not self.is_api(decorator_name(d), "tf.function") for d in function.decorators):
            return None
        if any(True for _ in walk_kind(function.body, (cst.Yield, cst.Await), skip_nested=True, cache=self._walks)):
            return None
        returns = walk_kind(function.body, cst.Return, skip_nested=True, cache=self._walks)
        results = [self.of(r.value) for r in returns]
        if not results or any(r is None for r in results):
            return None
        first = results[0]
        return first if all(same_value(first, r) for r in results[1:]) else None  # type: ignore[arg-type]

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
                result = inner.function_result(function)
                if result is not None:
                    return result
        return self.function_result(function)

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
            value = int_arithmetic(expr.operator, left.value, right.value)  # type: ignore[arg-type]
            return Static(kind="int", value=value) if value is not None else None
        scalar = (cst.Integer, cst.Float)
        if left is not None and left.kind == "tensor" and isinstance(expr.right, scalar):
            return replace(left, head=None, value=None, literal=False)
        if right is not None and right.kind == "tensor" and isinstance(expr.left, scalar):
            return replace(right, head=None, value=None, literal=False)
        if isinstance(expr.operator, cst.MatrixMultiply) and right is not None and right.kind == "tensor":
            left = left or Static()  # an operand of unknown shape still leaves the result's last dimension known
            return matmul_of(left, right, False, False) if left.kind == "tensor" else None
        if left is None or right is None or left.kind != "tensor" or right.kind != "tensor":
            return None
        if isinstance(expr.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)):
            return elementwise(left, right)
        return None

# The leaf names of every API `StaticValues` makes a tensor, layer or model value of. A TensorFlow tensor that a
# rule reasons about was made by one of them, so a rule that reports where such a tensor is used (an operator
# has no API name of its own) takes these as its anchors (`Rule.anchors`, `tffix.slicing`).
VALUE_SOURCES = leaves(
    *TF_CONSTRUCTORS, "keras.layers.Dense", "keras.layers.Flatten", *SHAPE_PRESERVING, *_SEQUENTIAL,
    *_MODEL_CLASSES,
)
