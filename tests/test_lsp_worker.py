"""The pieces under `tffix lsp`'s speed: the worker thread that abandons stale checks mid-way, and the one-pass index
of comments that the ignore actions read instead of tokenizing the file up to the line on every request."""

from __future__ import annotations

import asyncio
import io
import random
import threading
import time
import tokenize

import pytest

from fixture_cases import load_cases
from tffix.engine import SUPPRESSION_COMMENT
from tffix.lsp_actions import LineComments
from tffix.lsp_positions import LineIndex
from tffix.lsp_worker import AHEAD, CHECK, REQUEST, Abandoned, Worker
from tffix.model import TextEdit


def _spin(stop: threading.Event, done: list[str]) -> str:
    """Pure-Python work that runs until stopped, as the engine's visits do."""
    while not stop.is_set():
        sum(range(100))
    done.append("finished")
    return "finished"


async def _settled(future: asyncio.Future) -> object:
    try:
        return await asyncio.wait_for(future, 10)
    except Abandoned as abandoned:
        return abandoned


@pytest.mark.asyncio
async def test_a_running_job_is_abandoned_mid_way_and_the_worker_goes_on():
    worker = Worker("test-worker")
    stop, done = threading.Event(), []
    running = worker.submit(lambda: _spin(stop, done), CHECK, frozenset({"a.py"}))
    while not worker._running:  # the job has started
        await asyncio.sleep(0.001)
    worker.abandon("a.py")
    assert isinstance(await _settled(running), Abandoned)
    assert done == [], "the job was interrupted, not run to its end"
    stop.set()
    assert await worker.submit(lambda: 42, CHECK) == 42


@pytest.mark.asyncio
async def test_abandon_drops_only_matching_queued_jobs_at_or_below_the_urgency():
    worker = Worker("test-worker")
    gate = threading.Event()
    blocker = worker.submit(gate.wait, REQUEST)  # holds the thread while the others queue
    request = worker.submit(lambda: "request", REQUEST, frozenset({"a.py"}))
    check = worker.submit(lambda: "check", CHECK, frozenset({"a.py"}))
    ahead = worker.submit(lambda: "ahead", AHEAD, frozenset({"a.py"}))
    other = worker.submit(lambda: "other", AHEAD, frozenset({"b.py"}))
    worker.abandon("a.py", below=CHECK)
    gate.set()
    assert await blocker is True
    assert [await _settled(f) for f in (request, other)] == ["request", "other"]
    assert [type(await _settled(f)) for f in (check, ahead)] == [Abandoned, Abandoned]


@pytest.mark.asyncio
async def test_the_most_urgent_job_runs_first_then_the_oldest():
    worker = Worker("test-worker")
    gate = threading.Event()
    order: list[str] = []
    blocker = worker.submit(gate.wait, REQUEST)
    futures = [
        worker.submit(lambda name=name: order.append(name), urgency)
        for name, urgency in (("ahead", AHEAD), ("check 1", CHECK), ("request", REQUEST), ("check 2", CHECK))
    ]
    gate.set()
    await blocker
    await asyncio.gather(*futures)
    assert order == ["request", "check 1", "check 2", "ahead"]


@pytest.mark.asyncio
async def test_the_worker_survives_abandons_at_any_moment_and_every_job_settles():
    """Abandon requests land anywhere: in the job, as it returns, in the worker's own bookkeeping. Whatever the
    timing, the thread lives on, each job gives its result or Abandoned, and a later job runs normally."""
    worker = Worker("test-worker")
    rng = random.Random(17)
    never = threading.Event()
    futures = []
    for n in range(300):
        if n % 30 == 0:  # runs until abandoned: some outcomes are Abandoned whatever the timing
            futures.append(worker.submit(lambda n=n: _spin(never, []) and n, CHECK, frozenset({"x"})))
            while not worker.running(futures[-1]):
                await asyncio.sleep(0.001)
            worker.abandon("x")
            continue
        futures.append(worker.submit(lambda n=n: sum(range(rng.randint(0, 3000))) * 0 + n, CHECK, frozenset({"x"})))
        if rng.random() < 0.5:
            time.sleep(rng.random() * 0.0005)
            worker.abandon("x")
        await asyncio.sleep(0)
    outcomes = [await _settled(f) for f in futures]
    assert all(o == n or isinstance(o, Abandoned) for n, o in enumerate(outcomes))
    assert all(isinstance(outcomes[n], Abandoned) for n in range(0, 300, 30))
    assert worker._thread.is_alive()
    assert await worker.submit(lambda: "alive", CHECK, frozenset({"x"})) == "alive"


@pytest.mark.asyncio
async def test_an_exception_in_a_job_is_delivered_and_not_mistaken_for_abandonment():
    worker = Worker("test-worker")
    with pytest.raises(ZeroDivisionError):
        await worker.submit(lambda: 1 / 0, CHECK)
    assert await worker.submit(lambda: "next", CHECK) == "next"


# --- where an ignore comment goes: the index against tokenizing up to the line, as the server did per request ----
def _reference_ignore_edit(index: LineIndex, line: int, code: str) -> TextEdit | None:
    """The previous implementation, which tokenized the text from its start up to `line` on every request."""
    text = index.text
    if "\r" in text.replace("\r\n", ""):
        return None
    comment = None
    ends_in_code = False
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            row = token.start[0] - 1
            if row > line:
                break
            if row == line and token.type == tokenize.COMMENT:
                comment = token
            elif row == line and token.type in (tokenize.NEWLINE, tokenize.NL):
                ends_in_code = True
    except (tokenize.TokenError, SyntaxError):
        return None
    start_of_line, end_of_line = index.starts[line], index.content_end(line)
    if comment is not None:
        comment_start = start_of_line + comment.start[1]
        match = SUPPRESSION_COMMENT.search(comment.string)
        if match is not None and match.group("codes") is not None:
            codes = match.group("codes")
            at = comment_start + match.start("codes") + len(codes.rstrip())
            return TextEdit(at, at, f", {code}" if codes.strip() else code)
        return TextEdit(comment_start + len(comment.string.rstrip()), end_of_line, f"  # tffix: ignore[{code}]")
    if not ends_in_code:
        return None
    end_of_code = start_of_line + len(text[start_of_line:end_of_line].rstrip(" \t\f"))
    return TextEdit(end_of_code, end_of_line, f"  # tffix: ignore[{code}]")


_PROGRAMS = [p.read_text(encoding="utf-8") for c in load_cases()[::7] for p in sorted(c.folder.glob("*.py"))]
_TRICKY = [
    'x = f(1) + \\\n    2\ns = """\nx = f(1)  # not a comment\n"""\ny = 1  # tffix: ignore[TFX902]\n',
    "def f(:\n    return (\n",  # tokenize fails at the end: lines before it are known, the rest not
    "a = 1\r\nb = [\r\n  2,  # two\r\n]\r\n",
    "a = 1\rb = 2\n",  # lone '\r' line breaks
    's = "unterminated\nx = 1\n',
    "if x:\n\ty = 2  # tab\n\f\nz = 3",
]


@pytest.mark.parametrize("text", _PROGRAMS + _TRICKY, ids=[f"text{i}" for i in range(len(_PROGRAMS + _TRICKY))])
def test_the_comment_index_gives_what_tokenizing_up_to_each_line_gave(text: str):
    index = LineIndex(text)
    comments = LineComments.of(text)
    for line in range(index.line_count):
        assert comments.ignore_edit(index, line, "TFX901") == _reference_ignore_edit(index, line, "TFX901"), line


@pytest.mark.parametrize("text", _PROGRAMS[:6] + _TRICKY, ids=[f"text{i}" for i in range(6 + len(_TRICKY))])
def test_the_comment_index_up_to_a_line_gives_what_the_whole_index_gives_there(text: str):
    index = LineIndex(text)
    whole = LineComments.of(text)
    for through in range(0, index.line_count, 3):
        partial = LineComments.of(text, through)
        for line in range(through + 1):
            assert partial.ignore_edit(index, line, "TFX901") == whole.ignore_edit(index, line, "TFX901"), (through, line)
