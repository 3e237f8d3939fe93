"""tffix.parents gives exactly the parent map of LibCST's own ParentNodeProvider."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ParentNodeProvider

from tffix.parents import ParentProvider, children, walk

SOURCES = sorted((Path(__file__).parents[1] / "transforms").glob("_*.py"))[1:6] + sorted(
    (Path(__file__).parent / "fixtures").glob("TFX5*/*/before.py")
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_parents_as_libcst(path):
    wrapper = MetadataWrapper(cst.parse_module(path.read_text(encoding="utf-8")))
    theirs = wrapper.resolve(ParentNodeProvider)
    ours = wrapper.resolve(ParentProvider)
    assert len(ours) == len(theirs) > 100
    assert all(ours[node] is parent for node, parent in theirs.items())


# Constructs the transforms' own sources may lack: every kind of statement and expression LibCST has a node for.
EVERY_CONSTRUCT = '''
from . import a as b, c
from x import *
import os.path as p
@decorator(1)
@other
async def f(a, /, b: int = 2, *args, c, d=3, **kw) -> "T":
    global g
    nonlocal_ = lambda x, *y, z=1: (x, *y)
    async with open(a) as h, open(b):
        await h
    async for i in aiter():
        yield i
    yield from range(3)
    return {k: v for k, v in kw.items() if k} | {**kw} | {1, 2}
class C(Base, metaclass=M):
    x: int = 1
    def method(self):
        del self.x[1:2:3], self.y
        assert a, "msg"
        raise E from err
try:
    pass
except (A, B) as e:
    pass
else:
    pass
finally:
    pass
try:
    pass
except* C:
    pass
while (n := next(it)) is not None and not done or x < y <= z:
    if a: break
    elif b: continue
    else: pass
match command:
    case [1, *rest] if rest: pass
    case {"k": v, **others}: pass
    case Point(x=0, y=_) | None as p: pass
s = f"{a!r:>{width}} {b=}" "implicit" 'concat' + -x ** ~y @ z // 2
t = a if b else c; u = [x for x in y for z in x if z]; v = (i async for i in j)
w[1, ...] = x[::2]; v += 1; print(*args, sep="", **kw)
type Alias[T] = list[T]
'''


@pytest.mark.parametrize("path", [*SOURCES, None], ids=lambda p: "every-construct" if p is None else p.name)
def test_children_are_libcsts_children_in_order(path):
    module = cst.parse_module(EVERY_CONSTRUCT if path is None else path.read_text(encoding="utf-8"))
    nodes = list(walk(module))
    assert len(nodes) > 100
    for node in nodes:
        assert [id(c) for c in children(node)] == [id(c) for c in node.children], type(node).__name__


def test_walk_is_preorder_in_source_order():
    module = cst.parse_module("x = f(a, b=c)\n")
    names = [n.value for n in walk(module) if isinstance(n, cst.Name)]
    assert names == ["x", "f", "a", "b", "c"]
