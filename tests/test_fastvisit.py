"""tffix.fastvisit makes exactly LibCST's callbacks, in LibCST's order, without copying the tree."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import ExpressionContextProvider, MetadataWrapper, ScopeProvider

from tffix import fastvisit
from tffix.parents import walk

from .test_parents import EVERY_CONSTRUCT, SOURCES


class _Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_visit(self, node):
        self.events.append(("visit", id(node)))
        return not isinstance(node, cst.Lambda)  # a visitor may skip children: both must honour it

    def on_leave(self, original_node):
        self.events.append(("leave", id(original_node)))

    def on_visit_attribute(self, node, attribute):
        self.events.append(("visit_attribute", id(node), attribute))

    def on_leave_attribute(self, original_node, attribute):
        self.events.append(("leave_attribute", id(original_node), attribute))


def _events(module: cst.Module, fast: bool) -> list[tuple]:
    recorder = _Recorder()
    (fastvisit.install if fast else fastvisit.uninstall)()
    try:
        result = module.visit(recorder)
    finally:
        fastvisit.install()
    assert result is module
    return recorder.events


@pytest.mark.parametrize("path", [*SOURCES, None], ids=lambda p: "every-construct" if p is None else p.name)
def test_same_callbacks_in_the_same_order_as_libcst(path):
    module = cst.parse_module(EVERY_CONSTRUCT if path is None else path.read_text(encoding="utf-8"))
    fast, libcst = _events(module, fast=True), _events(module, fast=False)
    assert len(fast) > 1000
    assert fast == libcst


def test_same_metadata_as_libcsts_own_visits():
    module = cst.parse_module(EVERY_CONSTRUCT)

    def metadata(fast: bool):
        (fastvisit.install if fast else fastvisit.uninstall)()
        try:
            wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
            scopes, contexts = wrapper.resolve(ScopeProvider), wrapper.resolve(ExpressionContextProvider)
        finally:
            fastvisit.install()
        # Every name of the module (the scopes also hold names parsed from string annotations, made anew).
        return {
            id(node): (sorted(q.name for q in scopes[node].get_qualified_names_for(node)), contexts.get(node))
            for node in walk(module) if isinstance(node, cst.Name) and scopes.get(node) is not None
        }

    assert metadata(fast=True) == metadata(fast=False)


def test_transformers_still_get_libcsts_visit():
    class Rename(cst.CSTTransformer):
        def leave_Name(self, original_node, updated_node):
            return updated_node.with_changes(value=updated_node.value.upper())

    fastvisit.install()
    assert cst.parse_module("a = b\n").visit(Rename()).code == "A = B\n"
