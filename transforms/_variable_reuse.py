"""Variable-making code that demonstrably runs twice under a reusing variable scope (TFX501): the call
sites, loops and scope names that make a second `tf.get_variable` share the first one's variable.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

import libcst.matchers as m

from tffix.parents import walk

from tffix.rule import Rule, argument

from ._cst_utils import BARRIERS, code_of, enclosing_function, line_of
from ._devices import enclosing_withs
from ._graph import ModuleIndex, calls_of
from ._tf1_variables import is_false_or_none, reuse_switched_before, scope_call


def _truthy_reuse(rule: Rule, value: cst.BaseExpression) -> bool:
    return m.matches(value, m.Name("True")) or rule.is_api(value, "tf.AUTO_REUSE")


def _scope_key(rule: Rule, call: cst.Call) -> str | None:
    """What names a variable scope the same on every run: a literal, the current scope re-entered, or an
    attribute of `self` (one object: one name). None when it may differ between runs."""
    first = argument(call, "name_or_scope", 0)
    if first is None:
        return None  # default_name=: a fresh, uniquified scope on every run
    value = first.value
    if isinstance(value, cst.SimpleString):
        return repr(value.evaluated_value)
    if rule.is_call_to(value, "tf.get_variable_scope"):
        return "<current>"
    if m.matches(value, m.Attribute(value=m.Name("self"))):
        return "self." + value.attr.value  # type: ignore[attr-defined]
    if isinstance(value, cst.Name):
        return "param:" + value.value  # resolved per call where it is a parameter
    return None


def _exclusive(rule: Rule, a: cst.CSTNode, b: cst.CSTNode) -> bool:
    """`a` and `b` are in different branches of one `if`: at most one of them runs."""
    chain_a = [a, *rule.ancestors(a)]
    index = {id(n): i for i, n in enumerate(chain_a)}
    below_b: cst.CSTNode = b
    for ancestor in rule.ancestors(b):
        if id(ancestor) in index:
            if not isinstance(ancestor, (cst.If, cst.IfExp)) or index[id(ancestor)] == 0:
                return False
            below_a = chain_a[index[id(ancestor)] - 1]
            return below_a is not below_b and ancestor.test not in (below_a, below_b)
        below_b = ancestor
    return False


@dataclass
class _Context:
    """The variable scopes around a node inside its function, innermost first, and the loops among them."""

    keys: list[str | None]  # scope keys from the node outwards
    reuse: bool  # a scope around it (in its function) reuses: reuse=True / AUTO_REUSE
    reuse_params: list[str]  # `reuse=name` scopes: the name decides (a parameter, usually)


def _context(rule: Rule, node: cst.CSTNode, stop: cst.CSTNode | None = None) -> _Context:
    keys: list[str | None] = []
    reuse, params = False, []
    for with_node, item in enclosing_withs(rule, node):
        if stop is not None and with_node is stop:
            break
        call = scope_call(rule, item)
        if call is None:
            continue
        keys.append(_scope_key(rule, call))
        value = argument(call, "reuse", 2)
        if value is not None:
            if _truthy_reuse(rule, value.value):
                reuse = True
            elif isinstance(value.value, cst.Name) and not is_false_or_none(value.value):
                params.append(value.value.value)
    return _Context(keys, reuse, params)


def _loop_repeats_with_reuse(rule: Rule, node: cst.CSTNode) -> bool:
    """A loop in the node's function runs it again and again under one scope name, reusing: `for i in
    range(n): with tf.variable_scope(tf.get_variable_scope(), reuse=i > 0): tower(...)` (or AUTO_REUSE, True,
    or `scope.reuse_variables()` in the loop)."""
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, BARRIERS):
            return False
        if not isinstance(ancestor, (cst.For, cst.While)):
            continue
        targets = {n.value for n in walk(ancestor.target) if isinstance(n, cst.Name)} if isinstance(ancestor, cst.For) else set()
        reuse = False
        for with_node, item in enclosing_withs(rule, node):
            if not any(a is ancestor for a in rule.ancestors(with_node)):
                break  # outside the loop: entered once for every iteration
            call = scope_call(rule, item)
            if call is None:
                continue
            key = _scope_key(rule, call)
            first = argument(call, "name_or_scope", 0)
            if key is None or (first is not None and any(isinstance(n, cst.Name) and n.value in targets for n in walk(first.value))):
                return False  # a new scope name per iteration: nothing is shared
            value = argument(call, "reuse", 2)
            if value is not None and (
                _truthy_reuse(rule, value.value)
                or any(isinstance(n, cst.Name) and n.value in targets for n in walk(value.value))
            ):
                reuse = True
        if not reuse:
            reuse = any(
                m.matches(c.func, m.Attribute(attr=m.Name("reuse_variables")))
                for c in walk(ancestor.body)
                if isinstance(c, cst.Call)
            )
        return reuse
    return False


def _call_sites(rule: Rule, module: cst.Module, function: cst.FunctionDef) -> list[tuple[cst.Call, str | None]]:
    """The calls of `function` in this module, each with the instance it is called on (for a method called
    as `obj.method(...)` or `obj(...)` for `__call__`; None for `name(...)` and `self.name(...)`)."""
    sites: list[tuple[cst.Call, str | None]] = [(c, None) for c in calls_of(rule, function)]
    owner = next((a for a in rule.ancestors(function) if isinstance(a, cst.ClassDef)), None)
    if owner is None or rule.parent(rule.parent(function)) is not owner:
        return sites
    instances = set()
    for call in ModuleIndex.of(rule).calls:
        if m.matches(call.func, m.Name(owner.name.value)):
            parent = rule.parent(call)
            if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
                instances.add(parent.targets[0].target.value)
    for call in ModuleIndex.of(rule).calls:
        func = call.func
        if function.name.value == "__call__" and isinstance(func, cst.Name) and func.value in instances:
            sites.append((call, func.value))
        elif m.matches(func, m.Attribute(value=m.Name(), attr=m.Name(function.name.value))) and func.value.value in instances:  # type: ignore[attr-defined]
            sites.append((call, func.value.value))  # type: ignore[attr-defined]
    return sites


def _argument_key(rule: Rule, function: cst.FunctionDef, call: cst.Call, name: str) -> str | None:
    """The literal a call passes for parameter `name` (its default when not passed), as a key."""
    listed = [*function.params.posonly_params, *function.params.params]
    position = next((i for i, p in enumerate(listed) if p.name.value == name), None)
    shift = 1 if listed and listed[0].name.value in ("self", "cls") else 0  # obj.method(...), obj(...)
    arg = argument(call, name, None if position is None else position - shift)
    value = arg.value if arg is not None else next(
        (p.default for p in [*listed, *function.params.kwonly_params] if p.name.value == name), None
    )
    if isinstance(value, cst.SimpleString):
        return repr(value.evaluated_value)
    if value is not None and (m.matches(value, m.Name("True") | m.Name("False") | m.Name("None")) or rule.is_api(value, "tf.AUTO_REUSE")):
        return code_of(value)
    return None


def repeats_under_reuse(rule: Rule, module: cst.Module, node: cst.CSTNode, depth: int = 0) -> bool:
    """The code at `node` demonstrably runs at least twice under one variable-scope name with a reusing scope
    in effect the second time: a loop that reuses (the multi-GPU tower loop), or two calls of its function
    (that are not alternatives of one `if`) under the same scope, the later one reusing (the GAN
    discriminator's `reuse=True` call, `scope.reuse_variables()` between the calls, AUTO_REUSE)."""
    if depth > 4:
        return False
    if _loop_repeats_with_reuse(rule, node):
        return True
    function = enclosing_function(rule, node)
    if function is None:
        return False
    inner = _context(rule, node)
    if any(key is None for key in inner.keys):
        return False  # a scope whose name may differ between runs
    sites = _call_sites(rule, module, function)
    reuse_calls = [c for c in ModuleIndex.of(rule).calls if m.matches(c.func, m.Attribute(attr=m.Name("reuse_variables")))]
    for call, _ in sites:
        if enclosing_function(rule, call) is function:
            continue  # recursion
        if repeats_under_reuse(rule, module, call, depth + 1) and _same_inner_names(rule, function, inner, call, call):
            return True
    for i, (first, first_on) in enumerate(sites):
        for second, second_on in sites[i + 1:]:
            if first is second or _exclusive(rule, first, second):
                continue
            if enclosing_function(rule, first) is not enclosing_function(rule, second):
                continue
            if any(k.startswith("self.") for k in inner.keys) and (first_on is None or first_on != second_on):
                continue  # scope names read from the object: the same only for one object
            if _context_names(rule, first) != _context_names(rule, second) or None in _context_names(rule, first):
                continue
            if not _same_inner_names(rule, function, inner, first, second):
                continue
            if line_of(rule, second) < line_of(rule, first):
                first, second = second, first
            passed = [_argument_key(rule, function, second, name) or "" for name in inner.reuse_params]
            if inner.reuse or _reuses_at_call(rule, second, reuse_calls) or any(
                key == "True" or key.endswith("AUTO_REUSE") for key in passed
            ):
                return True
    return False


def _reuses_at_call(rule: Rule, call: cst.Call, reuse_calls: list[cst.Call]) -> bool:
    """A reusing scope is in effect where `call` runs, as its own function shows: an enclosing scope with
    reuse=True or AUTO_REUSE, or `scope.reuse_variables()` earlier in an enclosing block."""
    return _context(rule, call).reuse or reuse_switched_before(rule, call, reuse_calls)


def _context_names(rule: Rule, call: cst.CSTNode) -> list[str | None]:
    return _context(rule, call).keys


def _same_inner_names(rule: Rule, function: cst.FunctionDef, inner: _Context, first: cst.Call, second: cst.Call) -> bool:
    """The scope names inside `function` are the same for both calls (literals, or a parameter both pass
    equally)."""
    for key in inner.keys:
        if key is not None and key.startswith("param:"):
            name = key[len("param:"):]
            a, b = _argument_key(rule, function, first, name), _argument_key(rule, function, second, name)
            if a is None or a != b:
                return False
    return True
