"""How long an editor waits on `tffix lsp`, measured with a real client against a real server process.

Two documents, each in its own server (`python -m tffix.lsp`, production rules, driven over stdio):
  - a ~2,000-line TF1 module from the real-code corpus (`python bench/corpus.py` makes it; by default magenta's
    music_vae/data_test.py, `tensorflow.compat.v1` with `disable_v2_behavior()`; `--module FILE` for another),
    or, when the corpus is absent, a generated 2,000-line TensorFlow module;
  - a generated ~300-line Keras script.
For each, p50 and p95 of:
  - didChange -> publishDiagnostics for that version, for a code edit (a statement inserted inside a function in
    the middle of the file: the syntax tree changes) and for a comment edit (a comment line at the top), each
    edit sent once the previous version's diagnostics arrived;
  - the same after a burst of typing: five versions 30 ms apart, timed from the last one;
  - a codeAction request at a finding (its quick fix, the ignore comment, the lazy fix-all entry), once the
    diagnostics are in, and right after a didChange (while the new version is being checked);
  - codeAction/resolve of the fix-all action (every safe fix of the file), when the file has a safe fix;
and, in this script's process and the same run, the baselines: a bare `libcst.parse_module` and `ast.parse` of
the same text, and `Engine.check` of it (the engine's cost alone). Each p50 is also given as a multiple of the
bare LibCST parse's p50.

    python bench/lsp_latency.py [--runs 20] [--module FILE] [--script-lines 300]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import libcst
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from tffix.engine import Engine

CORPUS = Path.home() / ".cache" / "tffix-corpus"
DEFAULT_MODULE = "magenta-2.1.4/magenta/models/music_vae/data_test.py"  # 1,811 lines of TF1 (compat.v1) tests
FIX_ALL = "source.fixAll.tffix"

HEADER = '''"""Training utilities for a GAN and its classifiers."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

BATCH_SIZE = 8
'''
# Code in the shape the rules were written for: a Dense(2) head under a binary loss on (N, 1) labels (TFX301),
# a generator output cast to integers inside the tape (TFX304), and a plain discriminator step (no finding).
BLOCK = '''

def train_classifier_{n}(rng):
    """A binary classifier fitted on 0/1 labels."""
    x_train = rng.normal(size=(64, 20)).astype("float32")
    y_train = np.random.randint(0, 2, size=(64, 1))
    inputs = keras.Input(shape=(20,))
    hidden = layers.Dense(16, activation="relu")(inputs)
    outputs = layers.Dense(2, activation="sigmoid")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=1, batch_size=32, verbose=0)
    return model, float(history.history["loss"][0])


def gan_step_{n}(generator, discriminator, z):
    """One generator step whose output is quantised to pixels before the discriminator sees it."""
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        fake = tf.cast(generator(z) * 255.0, tf.int32)
        score = discriminator(tf.cast(fake, tf.float32) / 255.0)
        loss = bce(tf.ones_like(score), score)
    grads = tape.gradient(loss, generator.trainable_variables)
    return loss, grads


def discriminator_step_{n}(discriminator, real, fake):
    real_labels = tf.ones((BATCH_SIZE, 1))
    fake_labels = tf.zeros((BATCH_SIZE, 1))
    with tf.GradientTape() as tape:
        real_logits = discriminator(real)
        fake_logits = discriminator(fake)
        d_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=real_labels, logits=real_logits))
        d_loss += tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=fake_labels, logits=fake_logits))
    return d_loss, tape.gradient(d_loss, discriminator.trainable_variables)
'''


def tensorflow_module(lines: int) -> str:
    """Whole blocks of generated code, about `lines` lines (never cut inside a function)."""
    text = HEADER
    n = 0
    while text.count("\n") + BLOCK.count("\n") // 2 < lines:
        text += BLOCK.format(n=n)
        n += 1
    return text


def code_edit(text: str) -> Callable[[int], str]:
    """Version `v` of `text` with `bench_edit_v = v` inserted after a simple statement inside the function
    nearest the middle of the file, indented like it: a change of the syntax tree where people type."""
    tree = ast.parse(text)
    middle = text.count("\n") // 2
    candidates = [
        node
        for function in ast.walk(tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in function.body
        if isinstance(node, (ast.Assign, ast.Expr)) and node.lineno == node.end_lineno
    ]
    anchor = min(candidates, key=lambda node: abs(node.lineno - middle))
    lines = text.splitlines(keepends=True)
    before, after = "".join(lines[: anchor.lineno]), "".join(lines[anchor.lineno :])
    indent = " " * anchor.col_offset
    return lambda version: f"{before}{indent}bench_edit_{version} = {version}\n{after}"


def comment_edit(text: str) -> Callable[[int], str]:
    return lambda version: f"# edit {version}\n{text}"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


async def timed(runs: int, step: Callable[[int], Awaitable[None]]) -> list[float]:
    samples = []
    for run in range(runs):
        start = time.perf_counter()
        await step(run)
        samples.append(time.perf_counter() - start)
    return samples


class Session:
    """One server process and one open document in it."""

    def __init__(self, client: LanguageClient, uri: str) -> None:
        self.client, self.uri, self.version = client, uri, 0
        self.arrived: dict[int, asyncio.Event] = {}
        self.published: dict[int, list[types.Diagnostic]] = {}

    def on_diagnostics(self, params: types.PublishDiagnosticsParams) -> None:
        if params.uri == self.uri and params.version is not None:
            self.published[params.version] = list(params.diagnostics)
            self.arrived.setdefault(params.version, asyncio.Event()).set()

    async def diagnostics_of(self, version: int) -> list[types.Diagnostic]:
        await asyncio.wait_for(self.arrived.setdefault(version, asyncio.Event()).wait(), timeout=600)
        return self.published[version]

    def change(self, text: str) -> int:
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return self.version

    async def code_actions(self, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
        return list(await self.client.text_document_code_action_async(params) or [])


async def measure(text: str, runs: int) -> tuple[dict[str, list[float]], list[str]]:
    client = LanguageClient("tffix-bench", "1")
    notes: list[str] = []
    await client.start_io(sys.executable, "-m", "tffix.lsp")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "training.py"
        path.write_text(text, encoding="utf-8")
        session = Session(client, path.as_uri())

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            session.on_diagnostics(params)

        capabilities = types.ClientCapabilities(
            text_document=types.TextDocumentClientCapabilities(
                code_action=types.CodeActionClientCapabilities(
                    resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"])
                )
            )
        )
        await client.initialize_async(types.InitializeParams(capabilities=capabilities, root_uri=Path(folder).as_uri()))
        client.initialized(types.InitializedParams())
        item = types.TextDocumentItem(uri=session.uri, language_id="python", version=0, text=text)
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
        start = time.perf_counter()
        first = await session.diagnostics_of(0)
        notes.append(f"{len(first)} diagnostics on open, in {time.perf_counter() - start:.2f} s")
        results: dict[str, list[float]] = {}

        for name, edit in (("code edit", code_edit(text)), ("comment edit", comment_edit(text))):
            async def change(run: int, edit: Callable[[int], str] = edit) -> None:
                version = session.change(edit(session.version + 1))
                await session.diagnostics_of(version)

            results[f"didChange -> diagnostics ({name})"] = await timed(runs, change)

        code = code_edit(text)

        async def burst(run: int) -> None:
            for _ in range(4):
                session.change(code(session.version + 1))
                await asyncio.sleep(0.03)
            start = time.perf_counter()
            version = session.change(code(session.version + 1))
            await session.diagnostics_of(version)
            results.setdefault("typing burst: last didChange -> diag.", []).append(time.perf_counter() - start)

        await timed(max(3, runs // 4), burst)

        # Back to the opened text: the findings are where the diagnostics of version 0 say.
        diagnostics = await session.diagnostics_of(session.change(text))
        fix_all: list[types.CodeAction] = []
        if not diagnostics:
            notes.append("no diagnostics: no codeAction at a finding to measure")
        else:
            async def code_action(run: int) -> None:
                actions = await session.code_actions(diagnostics[run % len(diagnostics)])
                fix_all[:] = [a for a in actions if a.kind == FIX_ALL]

            results["codeAction at a finding"] = await timed(runs, code_action)

            async def code_action_while_checking(run: int) -> None:
                edited = session.change(code(session.version + 1))
                start = time.perf_counter()
                await session.code_actions(diagnostics[run % len(diagnostics)])
                results.setdefault("codeAction right after didChange", []).append(time.perf_counter() - start)
                await session.diagnostics_of(edited)

            await timed(max(3, runs // 2), code_action_while_checking)
            diagnostics = await session.diagnostics_of(session.change(text))
            fix_all[:] = [a for a in await session.code_actions(diagnostics[0]) if a.kind == FIX_ALL]

        if fix_all:
            async def resolve(run: int) -> None:
                resolved = await client.code_action_resolve_async(fix_all[0])
                assert resolved.edit is not None, "fix-all resolved to no edit"

            results["codeAction/resolve fix-all"] = await timed(max(3, runs // 3), resolve)
        else:
            notes.append("no safe fix in the file: the fix-all action is not offered, its resolve not measured")
        await client.shutdown_async(None)
        client.exit(None)
    await client.stop()
    return results, notes


def in_process(runs: int, call: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def report(title: str, text: str, runs: int) -> None:
    baseline = in_process(runs, lambda: libcst.parse_module(text))
    results = {"baseline: ast.parse": in_process(runs, lambda: ast.parse(text))}
    engine = Engine()
    results["reference: Engine.check"] = in_process(max(3, runs // 3), lambda: engine.check(text, "t.py"))
    measured, notes = asyncio.run(measure(text, runs))
    results.update(measured)
    baseline_p50, baseline_p95 = percentiles(baseline)

    print(f"\n{title}: {text.count(chr(10))} lines")
    for note in notes:
        print(f"  ({note})")
    print(f"{'measure':42} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'p50 / parse':>12}")
    print(f"{'baseline: libcst.parse_module':42} {len(baseline):>5} {baseline_p50 * 1e3:>8.1f} "
          f"{baseline_p95 * 1e3:>8.1f} {1:>12.2f}")
    for name, samples in results.items():
        p50, p95 = percentiles(samples)
        print(f"{name:42} {len(samples):>5} {p50 * 1e3:>8.1f} {p95 * 1e3:>8.1f} {p50 / baseline_p50:>12.2f}")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--module", type=Path, help=f"the large module (default: {DEFAULT_MODULE} of the corpus)")
    parser.add_argument("--script-lines", type=int, default=300)
    parser.add_argument("--only", choices=("module", "script"), help="measure one document only")
    args = parser.parse_args()

    if args.only != "script":
        module = args.module or CORPUS / DEFAULT_MODULE
        if module.is_file():
            report(f"TF1 module {module}", module.read_text(encoding="utf-8"), args.runs)
        else:
            print(f"({module} is absent: `python bench/corpus.py` makes the corpus; a generated module instead)")
            report("generated TensorFlow module", tensorflow_module(2000), args.runs)
    if args.only != "module":
        report("generated Keras script", tensorflow_module(args.script_lines), args.runs)


if __name__ == "__main__":
    main()
