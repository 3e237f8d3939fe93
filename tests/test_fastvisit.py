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


class _NodeRecorder(cst.CSTVisitor):
    """No attribute callbacks of its own: the fast visit leaves those calls out for it."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_visit(self, node):
        self.events.append(("visit", id(node)))
        return not isinstance(node, cst.Lambda)

    def on_leave(self, original_node):
        self.events.append(("leave", id(original_node)))


def _events(module: cst.Module, fast: bool, recorder_class=_Recorder) -> list[tuple]:
    recorder = recorder_class()
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
    for recorder in (_Recorder, _NodeRecorder):
        fast, libcst = _events(module, True, recorder), _events(module, False, recorder)
        assert len(fast) > 500
        assert fast == libcst
    assert fastvisit.attribute_callback_types(_Recorder()) is None  # its own on_visit_attribute: every type
    assert fastvisit.attribute_callback_types(_NodeRecorder()) == frozenset()


class _BasesRecorder(_NodeRecorder):
    """Attribute callbacks for one node type only, as LibCST's scope visitor has."""

    def visit_ClassDef_bases(self, node):
        self.events.append(("bases", id(node)))

    def leave_ClassDef_keywords(self, node):
        self.events.append(("keywords", id(node)))


def test_attribute_callbacks_of_one_node_type_still_come():
    module = cst.parse_module(EVERY_CONSTRUCT)
    fast, libcst = _events(module, True, _BasesRecorder), _events(module, False, _BasesRecorder)
    assert fast == libcst and ("bases" in {e[0] for e in fast}) and ("keywords" in {e[0] for e in fast})
    assert fastvisit.attribute_callback_types(_BasesRecorder()) == {"ClassDef"}


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


def test_a_batch_of_module_callbacks_alone_does_not_walk_the_tree():
    from libcst._batched_visitor import _BatchedCSTVisitor

    module = cst.parse_module(EVERY_CONSTRUCT)
    seen = []
    fastvisit.install()
    module.visit(_BatchedCSTVisitor({"visit_Module": [seen.append], "leave_Module": [seen.append]}))
    assert seen == [module, module]
    names = []
    module.visit(_BatchedCSTVisitor({"visit_Module": [seen.append], "visit_Name": [names.append]}))
    assert len(names) > 50  # any other node type: the whole tree
