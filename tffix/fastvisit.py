"""Read-only visits of a LibCST tree without copying it.

`CSTNode.visit` passes every node to `_visit_and_replace_children`, which builds and validates a new copy of the
node from its visited children, also for a read-only `CSTVisitor`, whose `visit` then returns the original node
and drops the copy. The metadata providers (scopes, expression contexts) and the rules only read, and the
copying was a third of the cost of checking a file.

`install()` replaces `CSTNode.visit` with one that, for a `CSTVisitor`, makes the same callbacks in the same
order (`on_visit`; per visited field `on_visit_attribute`, the field's nodes, `on_leave_attribute`; `on_leave`)
and returns the node, without the copy. The attribute callbacks are left out for node types the visitor
defines no `visit_<Type>_<attribute>` (or `leave_...`) method for (they would call nothing), and a batch of
callbacks for the Module alone does not go below it. Transformers, and any node type whose fields cannot be
read from its `_visit_and_replace_children`, get LibCST's own `visit`. tests/test_fastvisit.py compares the
callbacks of both on every node kind.
"""

from __future__ import annotations

import dataclasses
import inspect
import re

import libcst as cst
from libcst._batched_visitor import _BatchedCSTVisitor

_CALLBACK_TYPES = "_tffix_attribute_callback_types"  # cached in a batched visitor's __dict__
_CLASS_CALLBACK_TYPES: dict[type, frozenset[str] | None] = {}

# `visit_required(self, "name", ...)`, `visit_sequence(...)`, `visit_optional(...)`, ...: the helper and the field.
_VISIT_CALL = re.compile(r'visit_(\w+)\(\s*self,\s*"(\w+)"')
# The fields a node type's `_visit_and_replace_children` visits, in order, each with whether LibCST still makes
# the attribute callbacks when the field is None (only `visit_optional` does).
_FIELDS: dict[type, tuple[tuple[str, bool], ...] | None] = {}
_LIBCST_VISIT = cst.CSTNode.visit


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
    node were the largest part of a visit. Worked out once per visitor class (per batch, for LibCST's batched
    visitor)."""
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
    return known  # type: ignore[return-value]


def _only_module_callbacks(visitor: cst.CSTVisitor) -> bool:
    """A batch with callbacks for the Module alone, as LibCST's scope and expression-context providers are (they
    run their own visitor from `visit_Module`): going through the rest of the tree would call nothing."""
    if type(visitor) is not _BatchedCSTVisitor or visitor.before_visit or visitor.after_leave:
        return False
    return all(name.split("_", 2)[1] == "Module" for name in visitor.visitor_methods)


def _visit(self: cst.CSTNode, visitor):  # noqa: ANN001 - the signature of CSTNode.visit
    if not isinstance(visitor, cst.CSTVisitor):
        return _LIBCST_VISIT(self, visitor)
    kind = type(self)
    fields = visited_fields(kind)
    if fields is None:
        return _LIBCST_VISIT(self, visitor)
    if visitor.on_visit(self) and not (kind is cst.Module and _only_module_callbacks(visitor)):
        types = attribute_callback_types(visitor)
        callbacks = types is None or kind.__name__ in types
        for name, optional in fields:
            value = getattr(self, name)
            if callbacks:
                if value is None and not optional:
                    continue  # LibCST skips it too (`format_spec=visit_sequence(...) if format_spec is not None`)
                visitor.on_visit_attribute(self, name)
            if isinstance(value, cst.CSTNode):
                value.visit(visitor)
            elif type(value) is tuple or type(value) is list:
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        item.visit(visitor)
            if callbacks:
                visitor.on_leave_attribute(self, name)
    visitor.on_leave(self)
    return self


def install() -> None:
    """Make read-only visits copy-free for the rest of the process (idempotent)."""
    cst.CSTNode.visit = _visit  # type: ignore[method-assign]


def uninstall() -> None:
    cst.CSTNode.visit = _LIBCST_VISIT  # type: ignore[method-assign]
