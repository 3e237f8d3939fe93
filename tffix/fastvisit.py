"""Read-only visits of a LibCST tree without copying it, for tffix's own visits only.

`CSTNode.visit` passes every node to `_visit_and_replace_children`, which builds and validates a new copy of the
node from its visited children, also for a read-only `CSTVisitor`, whose `visit` then returns the original node
and drops the copy. The metadata providers (scopes, expression contexts) and the rules only read, and the
copying was a third of the cost of checking a file.

Nothing here changes LibCST: another library's visitor in the same process gets LibCST's own `visit`. tffix
asks for the copy-free visit where it visits:

- `visit(node, visitor)` visits like `node.visit(visitor)` for a `CSTVisitor`;
- a visitor deriving from `CopyFreeVisitor` is copy-free however it is started, also by `child.visit(self)`
  inside its own callbacks (its `on_visit` visits the children itself and tells LibCST not to);
- `CopyFreeMetadataWrapper` is a `MetadataWrapper` whose batched visits (the rules', and those of LibCST's
  batchable metadata providers) are copy-free, and which runs LibCST's scope and expression-context visitors
  copy-free (`_PROVIDER_MODULE_VISITS`: they start their own visitor from `visit_Module`).

Each makes the same callbacks in the same order as LibCST (`on_visit`; per visited field `on_visit_attribute`,
the field's nodes, `on_leave_attribute`; `on_leave`). The attribute callbacks are left out for node types the
visitor defines no `visit_<Type>_<attribute>` (or `leave_...`) method for (they would call nothing), and a batch
of callbacks for the Module alone does not go below it. Transformers, and any node type whose fields cannot be
read from its `_visit_and_replace_children`, get LibCST's own `visit`. This reads LibCST's private visiting
code, so pyproject.toml pins LibCST to the versions tests/test_fastvisit.py (which compares the callbacks and
the metadata of both on every node kind) has passed on.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Iterable
from contextlib import ExitStack

import libcst as cst
from libcst import BatchableCSTVisitor
from libcst._batched_visitor import _BatchedCSTVisitor
from libcst.metadata import ExpressionContextProvider, MetadataWrapper, ScopeProvider
from libcst.metadata.expression_context_provider import ExpressionContext, ExpressionContextVisitor
from libcst.metadata import scope_provider
from libcst.metadata.scope_provider import ScopeVisitor

# The node types whose scope counts assignments (LibCST 1.6 on; None before).
_ASSIGNMENT_LIKE_NODES: tuple[type, ...] | None = getattr(scope_provider, "_ASSIGNMENT_LIKE_NODES", None)
_CALLBACK_TYPES = "_tffix_attribute_callback_types"  # cached in a visitor's __dict__
_CLASS_CALLBACK_TYPES: dict[type, frozenset[str] | None] = {}

# `visit_required(self, "name", ...)`, `visit_sequence(...)`, `visit_optional(...)`, ...: the helper and the field.
_VISIT_CALL = re.compile(r'visit_(\w+)\(\s*self,\s*"(\w+)"')
# The fields a node type's `_visit_and_replace_children` visits, in order, each with whether LibCST still makes
# the attribute callbacks when the field is None (only `visit_optional` does).
_FIELDS: dict[type, tuple[tuple[str, bool], ...] | None] = {}


def visited_fields(kind: type) -> tuple[tuple[str, bool], ...] | None:
    """The fields `kind._visit_and_replace_children` visits, in order; None when its source does not say."""
    try:
        return _FIELDS[kind]
    except KeyError:
        pass
    try:
        source = inspect.getsource(kind._visit_and_replace_children)  # type: ignore[attr-defined]
    except (OSError, TypeError):
        source = ""
    calls = _VISIT_CALL.findall(source)
    names = {f.name for f in dataclasses.fields(kind)} if dataclasses.is_dataclass(kind) else set()
    fields: dict[str, bool] = {}
    for helper, name in calls:
        fields.setdefault(name, helper == "optional")
    result = _FIELDS[kind] = tuple(fields.items()) if source and set(fields) <= names else None
    return result


def _attribute_callback_type(name: str) -> str | None:
    """`ClassDef` for `visit_ClassDef_bases` or `leave_ClassDef_bases` (node type names have no underscore)."""
    if name.startswith(("visit_", "leave_")) and name.count("_") >= 2:
        return name.split("_", 2)[1]
    return None


_EVERY_TYPE = None  # a visitor with its own on_visit_attribute may want the calls for every node


def attribute_callback_types(visitor: cst.CSTVisitor) -> frozenset[str] | None:
    """The node types for which `on_visit_attribute`/`on_leave_attribute` can do anything for `visitor` (None:
    every type). Most visitors define no `visit_<Type>_<attribute>` method, and two calls per field of every
    node were the largest part of a visit. Worked out once per visitor class, plus the callbacks set on the
    instance itself (for LibCST's batched visitor: from its table of methods)."""
    if type(visitor) is _BatchedCSTVisitor:
        known = visitor.__dict__.get(_CALLBACK_TYPES, False)
        if known is False:
            types = (_attribute_callback_type(name) for name in visitor.visitor_methods)
            known = visitor.__dict__[_CALLBACK_TYPES] = frozenset(t for t in types if t)
        return known  # type: ignore[return-value]
    kind = type(visitor)
    known = _CLASS_CALLBACK_TYPES.get(kind, False)
    if known is False:
        if kind.on_visit_attribute is cst.CSTVisitor.on_visit_attribute and (
            kind.on_leave_attribute is cst.CSTVisitor.on_leave_attribute
        ):
            known = frozenset(
                t for name in dir(kind)
                if (t := _attribute_callback_type(name)) and not getattr(getattr(kind, name), "_is_no_op", False)
            )
        else:
            known = _EVERY_TYPE
        _CLASS_CALLBACK_TYPES[kind] = known
    own = getattr(visitor, "__dict__", None)
    if known is not None and own:  # `visitor.visit_Name_value = ...`: CSTVisitor finds it with getattr
        extra = frozenset(t for name in own if (t := _attribute_callback_type(name)))
        known = known | extra if extra else known
    return known  # type: ignore[return-value]


def _only_module_callbacks(visitor: cst.CSTVisitor) -> bool:
    """A batch with callbacks for the Module alone, as LibCST's scope and expression-context providers are (they
    run their own visitor from `visit_Module`): going through the rest of the tree would call nothing."""
    if type(visitor) is not _BatchedCSTVisitor or visitor.before_visit or visitor.after_leave:
        return False
    return all(name.split("_", 2)[1] == "Module" for name in visitor.visitor_methods)


def visit(node: cst.CSTNode, visitor: cst.CSTVisitor) -> cst.CSTNode:
    """`node.visit(visitor)`, without copying the tree when `visitor` only reads (a `CSTVisitor`)."""
    if not isinstance(visitor, cst.CSTVisitor) or isinstance(visitor, CopyFreeVisitor):
        return node.visit(visitor)
    _walk(node, visitor, attribute_callback_types(visitor))
    return node


# Whether a type is a node type. `isinstance(x, cst.CSTNode)` goes through ABCMeta's check, and a visit asks it of
# every field of every node: `_IS_NODE.get(type(x))`, and `_is_node` when that is None (a type not seen yet).
_IS_NODE: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    known = _IS_NODE[kind] = issubclass(kind, cst.CSTNode)
    return known


def is_node(value: object) -> bool:
    """`isinstance(value, cst.CSTNode)`, without ABCMeta's check."""
    known = _IS_NODE.get(type(value))
    return known if known is not None else _is_node(type(value))


def _walk(node: cst.CSTNode, visitor: cst.CSTVisitor, types: frozenset[str] | None) -> None:
    kind = type(node)
    fields = visited_fields(kind)
    if fields is None:
        node.visit(visitor)
        return
    if visitor.on_visit(node) and not (kind is cst.Module and _only_module_callbacks(visitor)):
        _walk_fields(node, fields, visitor, types)
    visitor.on_leave(node)


def _walk_fields(
    node: cst.CSTNode, fields: tuple[tuple[str, bool], ...], visitor: cst.CSTVisitor, types: frozenset[str] | None
) -> None:
    callbacks = types is None or type(node).__name__ in types
    for name, optional in fields:
        value = getattr(node, name)
        if callbacks:
            if value is None and not optional:
                continue  # LibCST skips it too (`format_spec=visit_sequence(...) if format_spec is not None`)
            visitor.on_visit_attribute(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            for item in value:  # `is_node`, inlined: this runs for every field of every node
                known = _IS_NODE.get(type(item))
                if known or (known is None and _is_node(type(item))):
                    _walk(item, visitor, types)
        else:
            known = _IS_NODE.get(kind)
            if known or (known is None and _is_node(kind)):
                _walk(value, visitor, types)
        if callbacks:
            visitor.on_leave_attribute(node, name)


class CopyFreeVisitor(cst.CSTVisitor):
    """A read-only visitor that never copies the tree, however it is started: `node.visit(self)` from its own
    callbacks included. Its `on_visit` makes the visit_<Type> call, visits the children itself (their own
    `on_visit` is this one again) and returns False, so that LibCST goes on to `on_leave` at once."""

    def on_visit(self, node: cst.CSTNode) -> bool:
        if not super().on_visit(node):
            return False
        fields = visited_fields(type(node))
        if fields is None:
            return True  # LibCST visits the children, each of them again through here
        types = self.__dict__.get(_CALLBACK_TYPES, False)
        if types is False:
            types = self.__dict__[_CALLBACK_TYPES] = attribute_callback_types(self)
        _walk_fields(node, fields, self, types)  # each child's on_visit is this one again
        return False


class _CopyFreeScopeVisitor(CopyFreeVisitor, ScopeVisitor):
    if _ASSIGNMENT_LIKE_NODES is not None:

        def on_leave(self, original_node: cst.CSTNode) -> None:
            # ScopeVisitor.on_leave (LibCST 1.5-1.9), with its type test answered per node type: `isinstance` of a
            # tuple of ABCs, for every node, was the largest single cost of the scope pass.
            self.provider.set_metadata(original_node, self.scope)
            kind = type(original_node)
            assignment_like = _ASSIGNMENT_LIKE.get(kind)
            if assignment_like is None:
                assignment_like = _ASSIGNMENT_LIKE[kind] = issubclass(kind, _ASSIGNMENT_LIKE_NODES)
            if assignment_like:
                self.scope._assignment_count += 1
            super(ScopeVisitor, self).on_leave(original_node)


_ASSIGNMENT_LIKE: dict[type, bool] = {}


class _CopyFreeExpressionContextVisitor(CopyFreeVisitor, ExpressionContextVisitor):
    pass  # the visitors it makes for assignment targets and slices are LibCST's own (small subtrees)


def _scope_visit_module(provider: ScopeProvider, node: cst.Module) -> None:
    # ScopeProvider.visit_Module with the copy-free visitor (LibCST 1.5-1.9 have the same three lines).
    visitor = _CopyFreeScopeVisitor(provider)
    node.visit(visitor)
    visitor.infer_accesses()


def _expression_context_visit_module(provider: ExpressionContextProvider, node: cst.Module) -> None:
    node.visit(_CopyFreeExpressionContextVisitor(provider, ExpressionContext.LOAD))


# Providers whose visit_Module runs a visitor of their own over the whole module, by exact type (a subclass may
# change what it does).
_PROVIDER_MODULE_VISITS: dict[type, Callable[..., None]] = {
    ScopeProvider: _scope_visit_module,
    ExpressionContextProvider: _expression_context_visit_module,
}


# The names of each visitor class's visit/leave methods. LibCST's `get_visitors` finds them with
# `inspect.getmembers` on every instance, which reads every attribute (properties too) and was a third of the
# analysis of a small file (the editor's parts of a document, `tffix.parts`); which methods a class defines does
# not change from one instance to the next.
_VISITOR_NAMES: dict[type, tuple[str, ...]] = {}


def _visitors_of(visitor: BatchableCSTVisitor) -> dict[str, Callable]:
    """`visitor.get_visitors()`, with the method names looked up once per class."""
    kind = type(visitor)
    if kind.get_visitors is not BatchableCSTVisitor.get_visitors:  # a class of its own choosing: ask it
        return dict(visitor.get_visitors())
    names = _VISITOR_NAMES.get(kind)
    if names is None:
        names = _VISITOR_NAMES[kind] = tuple(visitor.get_visitors())
    return {name: getattr(visitor, name) for name in names}


def _visitor_methods(visitors: Iterable[BatchableCSTVisitor]) -> dict[str, list[Callable]]:
    """`libcst._batched_visitor._get_visitor_methods`, with the copy-free `visit_Module` of the providers above."""
    methods: dict[str, list[Callable]] = {}
    for visitor in visitors:
        module_visit = _PROVIDER_MODULE_VISITS.get(type(visitor))
        for name, method in _visitors_of(visitor).items():
            if module_visit is not None and name == "visit_Module":
                method = functools.partial(module_visit, visitor)
            methods.setdefault(name, []).append(method)
    return methods


class CopyFreeMetadataWrapper(MetadataWrapper):
    """A `MetadataWrapper` whose visits, and the metadata it resolves, make no copies of the tree. LibCST resolves
    batchable providers through `wrapper.visit_batched`, so the providers' own passes come here too."""

    __slots__ = ()

    def visit(self, visitor: cst.CSTVisitor) -> cst.Module:  # type: ignore[override]
        with visitor.resolve(self):
            return visit(self.module, visitor)  # type: ignore[return-value]

    def visit_batched(self, visitors, before_visit=None, after_leave=None) -> cst.Module:  # noqa: ANN001
        visitors = list(visitors)
        with ExitStack() as stack:
            for visitor in visitors:
                stack.enter_context(visitor.resolve(self))
            batched = _BatchedCSTVisitor(
                _visitor_methods(visitors), before_visit=before_visit, after_leave=after_leave
            )
            _walk(self.module, batched, attribute_callback_types(batched))
        return self.module
