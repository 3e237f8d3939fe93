"""What is known about one file during one check, shared by the rules that check it.

The engine makes one `FileAnalysis` per parsed text and hands it to every rule in its `RuleContext`. It
answers the questions rules and their helpers ask of the tree (a node's parent, its scope, what a name resolves
to, where a node is) from the metadata of that one parse, and keeps facts that several rules derive from the
tree (a module index, the TF1 graph facts, shape walks) so that each is worked out once per check.

Nothing about a file lives anywhere else: two checks, in one thread or several, never share state, and every
fact is dropped with the analysis when the check ends. Helpers take anything with an `analysis` attribute (a
rule, or the analysis itself), so they can be tested on a `FileAnalysis.of(source)` without a rule.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider, ScopeProvider

from .fastvisit import CopyFreeMetadataWrapper
from .names import canonical_all
from .parents import ParentProvider

T = TypeVar("T")


class FileAnalysis:
    """The metadata of one parse of one file, and the facts derived from it, worked out when first asked for."""

    def __init__(self, path: str, source: str, wrapper: MetadataWrapper) -> None:
        self.path = path
        self.source = source
        self.wrapper = wrapper
        self._facts: dict[Hashable, Any] = {}
        self._qualified: dict[cst.CSTNode, frozenset[str]] = {}
        # Rules of one check run in one thread; the lock keeps a shared analysis correct should a caller share
        # it across threads (each fact is still computed once).
        self._lock = threading.RLock()

    @classmethod
    def of(cls, source: str, path: str = "<string>") -> FileAnalysis:
        """The analysis of `source` parsed on its own: for tools and tests that ask without a rule."""
        return cls(path, source, CopyFreeMetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True))

    @property
    def module(self) -> cst.Module:
        return self.wrapper.module

    @property
    def analysis(self) -> FileAnalysis:
        """Itself: helpers take a rule or an analysis alike and read `.analysis`."""
        return self

    # --- derived facts ---------------------------------------------------------------------------------------
    def fact(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The fact named `key` (by convention the class or function that computes it), computed on first use."""
        try:
            return self._facts[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._facts:
                self._facts[key] = compute()
            return self._facts[key]

    # --- metadata --------------------------------------------------------------------------------------------
    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.wrapper.resolve(ParentProvider).get(node)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        parents = self.wrapper.resolve(ParentProvider)
        current = parents.get(node)
        while current is not None:
            yield current
            current = parents.get(current)

    def scope(self, node: cst.CSTNode):  # noqa: ANN201 - libcst.metadata.Scope | None
        return self.wrapper.resolve(ScopeProvider).get(node)

    def position(self, node: cst.CSTNode) -> CodeRange:
        """Where `node` is. The first call resolves every position of the file (one code generation pass)."""
        return self.wrapper.resolve(PositionProvider)[node]

    def qualified_names(self, node: cst.CSTNode) -> frozenset[str]:
        """What `node` (a name, an attribute, a call) resolves to through imports and assignments, as LibCST's
        QualifiedNameProvider would say: `tensorflow.keras.layers.Dense`, `numpy.zeros`. Worked out from the
        scope when asked, rather than for every node of the file up front."""
        known = self._qualified.get(node)
        if known is None:
            scope = self.scope(node)
            known = frozenset(q.name for q in scope.get_qualified_names_for(node)) if scope else frozenset()
            self._qualified[node] = known
        return known

    def api_names(self, node: cst.CSTNode) -> frozenset[str]:
        """Canonical TensorFlow/Keras names (see `tffix.names`) that `node` resolves to through imports."""
        return canonical_all(self.qualified_names(node))

    def is_api(self, node: cst.CSTNode, *names: str) -> bool:
        return not self.api_names(node).isdisjoint(names)

    def is_call_to(self, node: cst.CSTNode, *names: str) -> bool:
        """`node` calls one of `names` itself. `Dense(2)(h)` calls the layer, not `Dense`: LibCST gives the
        inner call the qualified name of `Dense`, so the callee must be a plain name or attribute."""
        return (
            isinstance(node, cst.Call)
            and isinstance(node.func, (cst.Name, cst.Attribute))
            and self.is_api(node.func, *names)
        )
