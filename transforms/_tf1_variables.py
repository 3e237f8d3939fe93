"""TF1 variables: variable scopes, which functions run under them, where variables are created and
looked up by name, and the conversion of `tf.Variable(...)` to `tf.get_variable(...)` (TFX501, TFX502).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from tffix.parents import walk
from tffix.rule import Rule, argument

from ._cst_utils import code_of, enclosing_function, line_of, numpy_name, statement_of
from ._devices import enclosing_withs
from ._graph import GraphFacts, ModuleIndex, calls_of


_KERAS_OR_MODULE = ("tf.Module", "keras.layers.Layer", "keras.Layer", "keras.Model", "keras.Sequential")


def scope_call(rule: Rule, item: cst.WithItem) -> cst.Call | None:
    """The `tf.variable_scope(...)` call of a `with` item, if it is one."""
    return item.item if rule.is_call_to(item.item, "tf.variable_scope") else None  # type: ignore[return-value]


def is_false_or_none(node: cst.BaseExpression) -> bool:
    return m.matches(node, m.Name("False") | m.Name("None"))


def reuses_variables(rule: Rule, module: cst.Module) -> bool:
    """Does the module ask for variable sharing anywhere: `reuse=...` (not False/None), `tf.AUTO_REUSE`,
    `scope.reuse_variables()`?"""
    for node in ModuleIndex.of(rule).nodes:
        if isinstance(node, cst.Call):
            if rule.is_call_to(node, "tf.variable_scope"):
                reuse = argument(node, "reuse", 2)
                if reuse is not None and not is_false_or_none(reuse.value):
                    return True
            if m.matches(node.func, m.Attribute(attr=m.Name("reuse_variables"))):
                return True
        elif isinstance(node, (cst.Attribute, cst.Name)) and rule.is_api(node, "tf.AUTO_REUSE"):
            return True
    return False


def in_keras_or_module_class(rule: Rule, node: cst.CSTNode) -> bool:
    """Inside a class deriving from tf.Module or a Keras layer/model: TF2 object-oriented code."""
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, cst.ClassDef) and any(
            any(n == api or n.startswith("keras.") for api in _KERAS_OR_MODULE for n in rule.api_names(base.value))
            for base in ancestor.bases
        ):
            return True
    return False


def scope_region(rule: Rule, node: cst.CSTNode) -> cst.CSTNode | None:
    """The innermost `with tf.variable_scope(...)` around `node` in its function, else that function (or the
    module); None inside a lambda or class body."""
    child = node
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, cst.With) and child is ancestor.body and any(scope_call(rule, i) for i in ancestor.items):
            return ancestor
        if isinstance(ancestor, (cst.FunctionDef, cst.Module)):
            return ancestor
        if isinstance(ancestor, (cst.Lambda, cst.ClassDef)):
            return None
        child = ancestor
    return None


def scoped_functions(rule: Rule, module: cst.Module) -> set[cst.FunctionDef]:
    """Functions of the module that run under a variable scope: called inside a `with tf.variable_scope`
    block, or from such a function (by name, or as `self.name`)."""
    index = ModuleIndex.of(rule)
    if index.scoped is None:
        index.scoped = _scoped_functions(rule, module, index.functions)
    return index.scoped


def _scoped_functions(rule: Rule, module: cst.Module, functions: list[cst.FunctionDef]) -> set[cst.FunctionDef]:
    scoped: set[cst.FunctionDef] = set()
    changed = True
    while changed:
        changed = False
        for function in functions:
            if function in scoped:
                continue
            for call in calls_of(rule, function):
                region = scope_region(rule, call)
                if isinstance(region, cst.With) or (isinstance(region, cst.FunctionDef) and region in scoped):
                    scoped.add(function)
                    changed = True
                    break
    return scoped


def under_variable_scope(rule: Rule, node: cst.CSTNode, scoped: set[cst.FunctionDef]) -> bool:
    region = scope_region(rule, node)
    return isinstance(region, cst.With) or (isinstance(region, cst.FunctionDef) and region in scoped)


def assigned_name(rule: Rule, value: cst.CSTNode) -> str | None:
    """The name a value is stored under: `w = v`, `self.w = v`, `weights['h1'] = v`, `{'h1': v}`."""
    parent = rule.parent(value)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
        if isinstance(target, cst.Name):
            return target.value
        if isinstance(target, cst.Attribute):
            return target.attr.value
        if isinstance(target, cst.Subscript) and len(target.slice) == 1:
            index = target.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
                return index.value.evaluated_value  # type: ignore[return-value]
    if isinstance(parent, cst.DictElement) and isinstance(parent.key, cst.SimpleString):
        return parent.key.evaluated_value  # type: ignore[return-value]
    return None


def variable_name(rule: Rule, call: cst.Call) -> tuple[str | None, cst.BaseExpression | None]:
    """A variable's name as text (None when computed) and its `name=` expression (None when derived from the
    assignment target)."""
    name = argument(call, "name")
    if name is not None:
        text = name.value.evaluated_value if isinstance(name.value, cst.SimpleString) else None
        return text, name.value  # type: ignore[return-value]
    return assigned_name(rule, call), None


_RANDOM = {  # op -> (initializer, the op's (parameter, position) pairs kept by the initializer)
    "tf.random.normal": ("random_normal_initializer", (("mean", 1), ("stddev", 2), ("seed", 4))),
    "tf.random_normal": ("random_normal_initializer", (("mean", 1), ("stddev", 2), ("seed", 4))),
    "tf.random.truncated_normal": ("truncated_normal_initializer", (("mean", 1), ("stddev", 2), ("seed", 4))),
    "tf.truncated_normal": ("truncated_normal_initializer", (("mean", 1), ("stddev", 2), ("seed", 4))),
    "tf.random.uniform": ("random_uniform_initializer", (("minval", 1), ("maxval", 2), ("seed", 4))),
    "tf.random_uniform": ("random_uniform_initializer", (("minval", 1), ("maxval", 2), ("seed", 4))),
}


_KEPT_VARIABLE_ARGS = ("trainable", "collections", "validate_shape", "caching_device", "constraint",
                       "synchronization", "aggregation", "use_resource")


_NUMPY_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}


def _literal_dims(node: cst.BaseExpression) -> list[int] | None:
    """The shape of a nested literal list/tuple of numbers ([] for a number)."""
    if isinstance(node, (cst.Integer, cst.Float)) or (
        isinstance(node, cst.UnaryOperation) and isinstance(node.expression, (cst.Integer, cst.Float))
    ):
        return []
    if isinstance(node, (cst.List, cst.Tuple)) and node.elements:
        inner = [_literal_dims(e.value) for e in node.elements]
        if any(i is None or i != inner[0] for i in inner):
            return None
        return [len(node.elements), *inner[0]]  # type: ignore[misc]
    return None


def _literal_kind(node: cst.BaseExpression) -> str | None:
    """'float', 'int' or 'bool' for literal numbers and lists of them."""
    kinds = set()
    for found in walk(node):
        if isinstance(found, cst.Float):
            kinds.add("float")
        elif isinstance(found, cst.Integer):
            kinds.add("int")
        elif m.matches(found, m.Name("True") | m.Name("False")):
            kinds.add("bool")
    if "float" in kinds:
        return "float"
    return kinds.pop() if len(kinds) == 1 else None


@dataclass
class Conversion:
    """`tf.get_variable(...)` in place of a `tf.Variable(...)`: the new call's code, or why there is none."""

    code: str | None
    reason: str = ""


def convert_variable(rule: Rule, facts: GraphFacts, call: cst.Call) -> Conversion:
    v1 = facts.v1_prefix
    if v1 is None:
        return Conversion(None, "no TensorFlow alias to spell tf.get_variable with")
    positional = [a for a in call.args if a.keyword is None]
    if len(positional) > 1 or any(a.star for a in call.args):
        return Conversion(None, "arguments passed by position")
    initial = argument(call, "initial_value", 0)
    if initial is None:
        return Conversion(None, "no initial value")
    others = [a for a in call.args if a.keyword is not None and a.keyword.value not in ("initial_value", "name", "dtype")]
    if any(a.keyword.value not in _KEPT_VARIABLE_ARGS for a in others):  # type: ignore[union-attr]
        return Conversion(None, "arguments tf.get_variable does not take")
    text, name_expr = variable_name(rule, call)
    if name_expr is None and text is None:
        return Conversion(None, "no name to give the variable (pass name=...)")
    name_code = code_of(name_expr) if name_expr is not None else facts.string(text)  # type: ignore[arg-type]
    mapped = _initializer(rule, v1, initial.value)
    if mapped is None:
        return Conversion(None, "an initial value that cannot be made an initializer")
    parts = [name_code, *mapped]
    explicit_dtype = argument(call, "dtype")
    if explicit_dtype is not None:
        parts = [p for p in parts if not p.startswith("dtype=")] + [f"dtype={code_of(explicit_dtype.value)}"]
    parts += [f"{a.keyword.value}={code_of(a.value)}" for a in others]  # type: ignore[union-attr]
    return Conversion(f"{v1}.get_variable({', '.join(parts)})")


def _initializer(rule: Rule, v1: str, value: cst.BaseExpression) -> list[str] | None:
    """`shape=..., initializer=..., dtype=...` arguments that make what `value` made, or None."""
    if isinstance(value, cst.Lambda):
        return None  # tf.get_variable would call it as an initializer(shape, dtype, partition_info)
    mapped = _mapped_initializer(rule, v1, value) if isinstance(value, cst.Call) else None
    # Otherwise a tensor, array or number: tf.get_variable takes shape and dtype from it (measured).
    return mapped if mapped is not None else [f"initializer={code_of(value)}"]


def _mapped_initializer(rule: Rule, v1: str, value: cst.Call) -> list[str] | None:
    names = rule.api_names(value.func)
    for op, (initializer, params) in _RANDOM.items():
        if op in names:
            return _random_args(v1, value, initializer, params)
    if names & {"tf.zeros", "tf.ones"}:
        shape, dtype = argument(value, "shape", 0), argument(value, "dtype", 1)
        if shape is None:
            return None
        kind = "zeros" if "tf.zeros" in names else "ones"
        return _args(shape=code_of(shape.value), initializer=f"{v1}.{kind}_initializer()", dtype=_opt(dtype))
    if "tf.constant" in names or "tf.fill" in names:
        return _constant_args(v1, value, fill="tf.fill" in names)
    numpy = numpy_name(rule, value.func)
    if numpy in ("zeros", "ones"):
        shape, dtype = argument(value, "shape", 0), argument(value, "dtype", 1)
        if shape is None:
            return None
        kind = numpy
        return _args(shape=code_of(shape.value), initializer=f"{v1}.{kind}_initializer()",
                     dtype=_numpy_dtype(v1, dtype.value if dtype else None, "float"))
    if numpy in ("array", "asarray"):
        data, dtype = argument(value, "object", 0) or argument(value, "a", 0), argument(value, "dtype", 1)
        dims = _literal_dims(data.value) if data is not None else None
        if dims is not None:
            return _args(shape=str(dims), initializer=f"{v1}.constant_initializer({code_of(value)})",
                         dtype=_numpy_dtype(v1, dtype.value if dtype else None, _literal_kind(data.value)))  # type: ignore[union-attr]
    return None


def _args(**values: str | None) -> list[str]:
    return [f"{key}={value}" for key, value in values.items() if value is not None]


def _opt(arg: cst.Arg | None) -> str | None:
    return code_of(arg.value) if arg is not None else None


def _random_args(v1: str, op: cst.Call, initializer: str, params: tuple[tuple[str, int], ...]) -> list[str] | None:
    shape, dtype = argument(op, "shape", 0), argument(op, "dtype", 3)
    if shape is None:
        return None
    kept = [f"{name}={code_of(arg.value)}" for name, position in params if (arg := argument(op, name, position))]
    return _args(shape=code_of(shape.value), initializer=f"{v1}.{initializer}({', '.join(kept)})", dtype=_opt(dtype))


def _constant_args(v1: str, op: cst.Call, fill: bool) -> list[str] | None:
    if fill:
        shape_arg, value, dtype = argument(op, "dims", 0), argument(op, "value", 1), None
        shape = code_of(shape_arg.value) if shape_arg is not None else None
    else:
        value, dtype, shape_arg = argument(op, "value", 0), argument(op, "dtype", 1), argument(op, "shape", 2)
        dims = _literal_dims(value.value) if value is not None else None
        shape = code_of(shape_arg.value) if shape_arg is not None else (str(dims) if dims is not None else None)
    if value is None or shape is None:
        return None
    dtype_code = _opt(dtype)
    if dtype_code is None:  # tf.constant(0) is int32: keep that
        kind = _literal_kind(value.value)
        if kind is None and not isinstance(value.value, (cst.Name, cst.Attribute)):
            return None
        dtype_code = {"int": f"{v1}.int32", "bool": f"{v1}.bool"}.get(kind or "")
    return _args(shape=shape, initializer=f"{v1}.constant_initializer({code_of(value.value)})", dtype=dtype_code)


def _numpy_dtype(v1: str, dtype: cst.BaseExpression | None, kind: str | None) -> str | None:
    """The TensorFlow dtype of a NumPy array: its dtype= (np.float32 -> tf.float32), else NumPy's default."""
    if dtype is not None:
        name = dtype.attr.value if isinstance(dtype, cst.Attribute) else (
            dtype.evaluated_value if isinstance(dtype, cst.SimpleString) else None
        )
        return f"{v1}.{name}" if name in _NUMPY_DTYPES else None
    return {"float": f"{v1}.float64", "int": f"{v1}.int64", "bool": f"{v1}.bool"}.get(kind or "")


@dataclass(frozen=True)
class Creation:
    call: cst.Call
    by_variable: bool  # made by tf.Variable (else by tf.get_variable)
    full_name: str


@dataclass(frozen=True)
class Lookup:
    """`tf.get_variable("scope/name")` with no shape and no initializer: it can only find an existing variable."""

    call: cst.Call
    full_name: str
    creation: Creation
    reuse: bool  # a reusing variable scope is in effect where the lookup runs


def _scope_prefix(rule: Rule, node: cst.CSTNode, scoped: set[cst.FunctionDef], name_scopes: bool) -> list[str] | None:
    """The literal variable-scope names (and name-scope names, for tf.Variable) around `node`, outermost
    first; None when one is computed or the function runs under a caller's scope."""
    names: list[str] = []
    for _, item in enclosing_withs(rule, node):
        call = scope_call(rule, item)
        if call is None and name_scopes and rule.is_call_to(item.item, "tf.name_scope"):
            call = item.item  # type: ignore[assignment]
        if call is None:
            continue
        first = argument(call, "name_or_scope", 0) or argument(call, "name", 0)
        if first is not None and rule.is_call_to(first.value, "tf.get_variable_scope"):
            continue  # re-entering the current scope adds nothing
        if first is None or not isinstance(first.value, cst.SimpleString):
            return None
        names.insert(0, first.value.evaluated_value)  # type: ignore[arg-type]
    function = enclosing_function(rule, node)
    if function is not None and function in scoped:
        return None
    return names


def reuse_at(rule: Rule, node: cst.CSTNode, reuse_calls: list[cst.Call]) -> bool:
    """A reusing scope may be in effect at `node`: an enclosing scope with reuse= anything but False/None, or
    `scope.reuse_variables()` earlier in an enclosing block."""
    for _, item in enclosing_withs(rule, node):
        call = scope_call(rule, item)
        reuse = argument(call, "reuse", 2) if call is not None else None
        if reuse is not None and not is_false_or_none(reuse.value):
            return True
    return reuse_switched_before(rule, node, reuse_calls)


def reuse_switched_before(rule: Rule, node: cst.CSTNode, reuse_calls: list[cst.Call]) -> bool:
    """`scope.reuse_variables()` runs earlier than `node` in a block that encloses it."""
    ancestors = set(map(id, rule.ancestors(node)))
    for call in reuse_calls:
        statement = statement_of(rule, call)
        if statement is not None and id(rule.parent(statement)) in ancestors and line_of(rule, call) < line_of(rule, node):
            return True
    return False


def variable_lookups(rule: Rule, module: cst.Module, scoped: set[cst.FunctionDef]) -> list[Lookup]:
    """Name-only `tf.get_variable` calls that find a variable this module makes, with how it was made."""
    creations: dict[str, Creation] = {}
    lookups: list[tuple[cst.Call, str]] = []
    reuse_calls: list[cst.Call] = []
    for call in ModuleIndex.of(rule).calls:
        if m.matches(call.func, m.Attribute(attr=m.Name("reuse_variables"))):
            reuse_calls.append(call)
        if rule.is_call_to(call, "tf.Variable") and not in_keras_or_module_class(rule, call):
            text, _ = variable_name(rule, call)
            prefix = _scope_prefix(rule, call, scoped, name_scopes=True)
            if text is not None and prefix is not None:
                creations.setdefault("/".join([*prefix, text]), Creation(call, True, "/".join([*prefix, text])))
        elif rule.is_call_to(call, "tf.get_variable"):
            name = argument(call, "name", 0)
            prefix = _scope_prefix(rule, call, scoped, name_scopes=False)
            if name is None or not isinstance(name.value, cst.SimpleString) or prefix is None:
                continue
            full = "/".join([*prefix, name.value.evaluated_value])  # type: ignore[list-item]
            if argument(call, "shape", 1) is None and argument(call, "initializer", 3) is None:
                lookups.append((call, full))
            else:
                creations.setdefault(full, Creation(call, False, full))
    return [
        Lookup(call, full, creations[full], reuse_at(rule, call, reuse_calls))
        for call, full in lookups
        if full in creations and line_of(rule, creations[full].call) < line_of(rule, call)
    ]
