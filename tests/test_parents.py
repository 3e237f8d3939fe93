"""tffix.parents gives exactly the parent map of LibCST's own ParentNodeProvider."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ParentNodeProvider

from tffix.parents import ParentProvider

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
