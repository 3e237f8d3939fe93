"""The JSON text of a Jupyter notebook (`.ipynb`, nbformat 3 and 4, and 2 read as 3): its code cells' sources,
each with where it sits in the text, and a changed source written back in the notebook's own layout.

Only the `source` value of a changed cell is rewritten, spliced into the notebook's own JSON text in its own
layout (a string or a list of lines, split as it was split, unchanged lines keeping their text, `\\uXXXX`
escapes kept when the notebook uses them); outputs, metadata, key order and the rest stay byte for byte.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from json.decoder import scanstring  # type: ignore[attr-defined]

MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024  # outputs (images) make notebooks large; their code is what counts


class NotebookError(Exception):
    """A notebook tffix cannot read (or cannot write back faithfully). The message is one line."""


# --- reading ---------------------------------------------------------------------------------------------------
def read_code_cells(data: bytes) -> tuple[str, list[tuple[int, str, tuple[int, int]]]]:
    """The notebook's JSON text, and for each code cell: its 1-based position among all the notebook's cells
    (markdown included), its source, and where its source value sits in the text."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"notebook is {len(data):,} bytes, over the {MAX_NOTEBOOK_BYTES:,}-byte limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"notebook is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"not a valid notebook: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(document, dict):
        raise NotebookError("not a notebook in nbformat 3 or 4 (no list of cells)")
    if isinstance(document.get("cells"), list):  # nbformat 4
        all_cells, key = document["cells"], "source"
    elif ("worksheets" in document or document.get("nbformat") in (2, 3)) and isinstance(
        document.get("worksheets", []), list
    ) and all(
        isinstance(w, dict) and isinstance(w.get("cells", []), list) for w in document.get("worksheets", [])
    ):  # nbformat 3 (and 2): cells in worksheets (either left out when empty), a code cell's text in `input`
        all_cells, key = [c for w in document.get("worksheets", []) for c in w.get("cells", [])], "input"
    else:
        raise NotebookError("not a notebook in nbformat 3 or 4 (no list of cells)")
    language = _language(document)
    if language not in (None, "python"):
        raise NotebookError(f"a {language} notebook, not a Python one")
    spans = _source_spans(text, key)
    cells = []
    for index, cell in enumerate(all_cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get(key, "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str) or index not in spans:
            raise NotebookError(f"cell {index + 1} has no readable source")
        cells.append((index + 1, source, spans[index]))
    return text, cells


def _language(document: dict) -> str | None:
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    for key in ("language_info", "kernelspec"):
        section = metadata.get(key)
        if isinstance(section, dict):
            name = section.get("name" if key == "language_info" else "language")
            if isinstance(name, str) and name:
                return name.lower()
    return None


def escapes_non_ascii(text: str) -> bool:
    """Whether the notebook writes non-ASCII characters as `\\uXXXX` escapes (as `json.dumps` does by default)."""
    if not text.isascii():
        return False
    return re.search(r"(?<!\\)(?:\\\\)*\\u(?:00[89a-fA-F]|0[1-9a-fA-F]|[1-9a-fA-F])", text) is not None


# --- the notebook's JSON text ----------------------------------------------------------------------------------
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]


def _members(text: str, index: int):
    """(key, value start, value end) of the JSON object starting at `index`; the last item is the end."""
    index = _skip(text, index + 1)
    while text[index] != "}":
        key, index = scanstring(text, index + 1)
        index = _skip(text, _skip(text, index) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, index)
        yield key, index, end
        index = _skip(text, end)
        if text[index] == ",":
            index = _skip(text, index + 1)


def _elements(text: str, index: int) -> list[tuple[int, int]]:
    """(start, end) of each element of the JSON array starting at `index`."""
    spans = []
    index = _skip(text, index + 1)
    while text[index] != "]":
        _, end = _DECODER.raw_decode(text, index)
        spans.append((index, end))
        index = _skip(text, end)
        if text[index] == ",":
            index = _skip(text, index + 1)
    return spans


def _source_spans(text: str, key: str) -> dict[int, tuple[int, int]]:
    """cell index (across worksheets, for nbformat 3) -> (start, end) of that cell's `key` value in the JSON
    text. A repeated key counts once, the last one, as JSON readers take it."""
    spans: dict[int, tuple[int, int]] = {}
    for top_key, start, _ in _members(text, _skip(text, 0)):
        if key == "source" and top_key == "cells":
            spans = _cell_spans(text, start, key, 0)[0]
        elif key == "input" and top_key == "worksheets":
            spans, number = {}, 0
            for sheet_start, _ in _elements(text, start):
                found: tuple[dict[int, tuple[int, int]], int] = ({}, 0)
                if text[sheet_start] == "{":
                    for sheet_key, cells_start, _ in _members(text, sheet_start):
                        if sheet_key == "cells":
                            found = _cell_spans(text, cells_start, key, number)
                spans.update(found[0])
                number += found[1]
    return spans


def _cell_spans(text: str, start: int, key: str, first: int) -> tuple[dict[int, tuple[int, int]], int]:
    spans: dict[int, tuple[int, int]] = {}
    elements = _elements(text, start)
    for number, (cell_start, _) in enumerate(elements, first):
        if text[cell_start] == "{":
            for cell_key, value_start, value_end in _members(text, cell_start):
                if cell_key == key:
                    spans[number] = (value_start, value_end)
    return spans, len(elements)


def _split_like(text: str, stored: list[str]) -> list[str]:
    """`text` split into lines the way the stored lines were split (nbformat splits with `splitlines`)."""
    by_newline = re.findall(r"[^\n]*\n|[^\n]+$", "".join(stored))
    return re.findall(r"[^\n]*\n|[^\n]+$", text) if by_newline == stored else text.splitlines(keepends=True)


def encode_source(original_json: str, new: str, ensure_ascii: bool, samples: Iterable[str]) -> str:
    """The JSON text of a cell's new `source`, laid out like `original_json`; an empty list is filled in the
    layout of the first of `samples` (the JSON text of the notebook's cell sources) that is a list of lines."""
    if original_json.startswith('"'):
        return json.dumps(new, ensure_ascii=ensure_ascii)
    items = _elements(original_json, 0)
    old_lines = [json.loads(original_json[start:end]) for start, end in items]
    new_lines = _split_like(new, old_lines)
    if items:
        opening, closing = _ends(original_json, items)
        separator = original_json[items[0][1] : items[1][0]] if len(items) > 1 else "," + opening
    else:
        opening, closing, separator = _layout_of_empty(samples)
    encoded = [json.dumps(line, ensure_ascii=ensure_ascii) for line in new_lines]
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):  # a line that did not change keeps its original text
            start, end = items[block.a + k]
            encoded[block.b + k] = original_json[start:end]
    if not encoded:
        return "[]"
    return "[" + opening + separator.join(encoded) + closing + "]"


def _layout_of_empty(samples: Iterable[str]) -> tuple[str, str, str]:
    """Opening, closing and separator for filling an empty `[]`: copied from another cell's source list."""
    for sample in samples:
        items = _elements(sample, 0) if sample.startswith("[") else []
        if items:
            opening, closing = _ends(sample, items)
            return opening, closing, "," + opening
    return "", "", ", "


def _ends(array: str, items: list[tuple[int, int]]) -> tuple[str, str]:
    """What stands between the JSON array `array`'s brackets and its first and last of `items` (not empty)."""
    return array[1 : items[0][0]], array[items[-1][1] : -1]
