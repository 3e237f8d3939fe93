"""tffix.fastvisit makes exactly LibCST's callbacks, in LibCST's order, without copying the tree; and it leaves
LibCST itself as it was, so another library's visitor in the same process gets LibCST's own visit."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst._batched_visitor import _BatchedCSTVisitor
from libcst.metadata import ExpressionContextProvider, MetadataWrapper, ScopeProvider

from tffix import fastvisit
from tffix.parents import walk

from .test_parents import EVERY_CONSTRUCT, SOURCES

_LIBCST_VISIT = cst.CSTNode.visit  # as imported above: before any test ran
# Every node kind is in EVERY_CONSTRUCT; real files add real shapes. The largest sources took half a minute each
# on a busy machine (LibCST's own copying visit, the reference, is the slow part) and add no node kind.
REAL = [path for path in SOURCES if path.stat().st_size < 20_000]


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


class _BasesRecorder(_NodeRecorder):
    """Attribute callbacks for one node type only, as LibCST's scope visitor has."""

    def visit_ClassDef_bases(self, node):
        self.events.append(("bases", id(node)))

    def leave_ClassDef_keywords(self, node):
        self.events.append(("keywords", id(node)))


class _NestedRecorder(cst.CSTVisitor):
    """Visits function bodies itself with `node.visit(self)` and skips them, as LibCST's scope visitor does."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def visit_Name(self, node):
        self.events.append(("name", node.value))

    def visit_FunctionDef(self, node):
        self.events.append(("function", node.name.value))
        node.body.visit(self)
        node.params.visit(self)
        return False


def _copy_free(recorder_class: type) -> type:
    return type(f"CopyFree{recorder_class.__name__}", (fastvisit.CopyFreeVisitor, recorder_class), {})


def _libcst_events(module: cst.Module, recorder_class: type) -> list[tuple]:
    recorder = recorder_class()
    assert module.visit(recorder) is module
    return recorder.events


def _fast_events(module: cst.Module, recorder_class: type) -> list[tuple]:
    recorder = recorder_class()
    assert fastvisit.visit(module, recorder) is module
    return recorder.events


def _copy_free_events(module: cst.Module, recorder_class: type) -> list[tuple]:
    recorder = _copy_free(recorder_class)()
    assert module.visit(recorder) is module  # LibCST's own visit, started the usual way
    return recorder.events


@pytest.mark.parametrize("path", [*REAL, None], ids=lambda p: "every-construct" if p is None else p.name)
def test_same_callbacks_in_the_same_order_as_libcst(path):
    module = cst.parse_module(EVERY_CONSTRUCT if path is None else path.read_text(encoding="utf-8"))
    for recorder in (_Recorder, _NodeRecorder, _NestedRecorder):
        libcst = _libcst_events(module, recorder)
        assert len(libcst) > (20 if recorder is _NestedRecorder else 500)
        assert _fast_events(module, recorder) == libcst
        assert _copy_free_events(module, recorder) == libcst
    assert fastvisit.attribute_callback_types(_Recorder()) is None  # its own on_visit_attribute: every type
    assert fastvisit.attribute_callback_types(_NodeRecorder()) == frozenset()


def test_attribute_callbacks_of_one_node_type_still_come():
    module = cst.parse_module(EVERY_CONSTRUCT)
    fast = _fast_events(module, _BasesRecorder)
    assert fast == _libcst_events(module, _BasesRecorder) == _copy_free_events(module, _BasesRecorder)
    assert ("bases" in {e[0] for e in fast}) and ("keywords" in {e[0] for e in fast})
    assert fastvisit.attribute_callback_types(_BasesRecorder()) == {"ClassDef"}


def test_the_tree_is_not_copied(monkeypatch):
    module = cst.parse_module(EVERY_CONSTRUCT)
    copies = []
    original = cst.Name._visit_and_replace_children
    monkeypatch.setattr(cst.Name, "_visit_and_replace_children", lambda self, v: copies.append(self) or original(self, v))
    _libcst_events(module, _NestedRecorder)
    assert len(copies) > 50  # the measure works: LibCST copies every name it visits
    copies.clear()
    _fast_events(module, _Recorder)
    _copy_free_events(module, _NestedRecorder)
    wrapper = fastvisit.CopyFreeMetadataWrapper(module, unsafe_skip_copy=True)
    wrapper.resolve(ScopeProvider)
    # Only the few names LibCST's expression-context visitor visits with visitors of its own making.
    assert len(copies) < 10


def _metadata(wrapper: MetadataWrapper):
    scopes, contexts = wrapper.resolve(ScopeProvider), wrapper.resolve(ExpressionContextProvider)
    # Every name of the module (the scopes also hold names parsed from string annotations, made anew).
    return {
        id(node): (sorted(q.name for q in scopes[node].get_qualified_names_for(node)), contexts.get(node))
        for node in walk(wrapper.module) if isinstance(node, cst.Name) and scopes.get(node) is not None
    }


@pytest.mark.parametrize("path", [*REAL[:2], None], ids=lambda p: "every-construct" if p is None else p.name)
def test_same_metadata_as_libcsts_own_visits(path):
    module = cst.parse_module(EVERY_CONSTRUCT if path is None else path.read_text(encoding="utf-8"))
    ours = _metadata(fastvisit.CopyFreeMetadataWrapper(module, unsafe_skip_copy=True))
    assert len(ours) > 90
    assert ours == _metadata(MetadataWrapper(module, unsafe_skip_copy=True))


class _BatchableRecorder(cst.BatchableCSTVisitor):
    """A rule's shape: batchable, with metadata, and an attribute callback."""

    METADATA_DEPENDENCIES = (ScopeProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple] = []

    def visit_Name(self, node):
        scope = self.get_metadata(ScopeProvider, node, None)
        self.events.append(("name", node.value, type(scope).__name__))

    def leave_Call(self, node):
        self.events.append(("call", id(node)))

    def visit_Call_func(self, node):
        self.events.append(("func", id(node)))


def test_batched_visits_as_libcsts():
    module = cst.parse_module(EVERY_CONSTRUCT)
    events = []
    for wrapper_class in (fastvisit.CopyFreeMetadataWrapper, MetadataWrapper):
        first, second = _BatchableRecorder(), _BatchableRecorder()
        assert wrapper_class(module, unsafe_skip_copy=True).visit_batched([first, second]) is module
        assert first.events == second.events
        events.append(first.events)
    assert len(events[0]) > 100 and {"name", "call", "func"} <= {e[0] for e in events[0]}
    assert events[0] == events[1]


def test_transformers_still_get_libcsts_visit():
    class Rename(cst.CSTTransformer):
        def leave_Name(self, original_node, updated_node):
            return updated_node.with_changes(value=updated_node.value.upper())

    assert fastvisit.visit(cst.parse_module("a = b\n"), Rename()).code == "A = B\n"


def test_a_batch_of_module_callbacks_alone_does_not_walk_the_tree():
    module = cst.parse_module(EVERY_CONSTRUCT)
    seen = []
    fastvisit.visit(module, _BatchedCSTVisitor({"visit_Module": [seen.append], "leave_Module": [seen.append]}))
    assert seen == [module, module]
    names = []
    fastvisit.visit(module, _BatchedCSTVisitor({"visit_Module": [seen.append], "visit_Name": [names.append]}))
    assert len(names) > 50  # any other node type: the whole tree


def test_libcst_is_left_as_it_was_for_other_visitors():
    import tffix.cli  # noqa: F401 - everything tffix imports, the engine and every rule included
    import tffix.engine  # noqa: F401

    assert cst.CSTNode.visit is _LIBCST_VISIT
    assert cst.CSTNode.visit.__module__.startswith("libcst.")

    # Another library's visitor with a callback set on the instance, which a fast visit deciding by the class
    # alone would drop: LibCST calls it, and so does tffix's own visit.
    module = cst.parse_module("def f(x):\n    return g(x)\n")
    for run in (lambda n, v: n.visit(v), fastvisit.visit):
        seen: list[str] = []
        visitor = cst.CSTVisitor()
        visitor.visit_Call_func = lambda node: seen.append("func")  # type: ignore[attr-defined]
        visitor.visit_Name = lambda node: seen.append(node.value)  # type: ignore[attr-defined]
        run(module, visitor)
        assert seen == ["f", "x", "func", "g", "x"]
