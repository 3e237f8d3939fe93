"""How long an editor waits on `tffix lsp` for a 2,000-line TensorFlow module with findings.

Measures, against a real server process (`python -m tffix.lsp`, production rules) driven over stdio:
  - didChange -> publishDiagnostics for that version (includes the server's 0.3 s debounce);
  - a codeAction request at a finding (quick fix + ignore + the lazy fix-all entry);
  - codeAction/resolve of the fix-all action (Engine.fix of the whole module);
and, in the same run and in this script's process, the baseline: a bare `libcst.parse_module` of the same text,
and for reference `Engine.check` of it (what the server's didChange latency is made of, besides the debounce).
Prints p50 and p95 of each, and each p50 as a multiple of the baseline's p50.

    python bench/lsp_latency.py [--lines 2000] [--runs 10]
"""

from __future__ import annotations

import argparse
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
from tffix.lsp import DEBOUNCE_SECONDS

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
    text = HEADER
    n = 0
    while text.count("\n") < lines:
        text += BLOCK.format(n=n)
        n += 1
    return text


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


async def measure(text: str, runs: int) -> dict[str, list[float]]:
    client = LanguageClient("tffix-bench", "1")
    arrived: dict[int, asyncio.Event] = {}
    published: dict[int, list[types.Diagnostic]] = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published[params.version] = list(params.diagnostics)
        arrived.setdefault(params.version, asyncio.Event()).set()

    async def diagnostics_of(version: int) -> list[types.Diagnostic]:
        await asyncio.wait_for(arrived.setdefault(version, asyncio.Event()).wait(), timeout=600)
        return published[version]

    await client.start_io(sys.executable, "-m", "tffix.lsp")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "training.py"
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        capabilities = types.ClientCapabilities(
            text_document=types.TextDocumentClientCapabilities(
                code_action=types.CodeActionClientCapabilities(
                    resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"])
                )
            )
        )
        await client.initialize_async(types.InitializeParams(capabilities=capabilities, root_uri=path.parent.as_uri()))
        client.initialized(types.InitializedParams())
        item = types.TextDocumentItem(uri=uri, language_id="python", version=0, text=text)
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
        first = await diagnostics_of(0)
        print(f"{len(first)} diagnostics on open", file=sys.stderr)

        async def change(run: int) -> None:
            version = run + 1
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=f"# edit {version}\n{text}")],
                )
            )
            await diagnostics_of(version)

        results = {"didChange -> diagnostics": await timed(runs, change)}
        diagnostics = published[runs]
        document = types.TextDocumentIdentifier(uri=uri)
        fix_all: list[types.CodeAction] = []

        async def code_action(run: int) -> None:
            target = diagnostics[run % len(diagnostics)]
            context = types.CodeActionContext(diagnostics=[target])
            params = types.CodeActionParams(text_document=document, range=target.range, context=context)
            actions = await client.text_document_code_action_async(params)
            fix_all[:] = [a for a in actions or [] if a.kind == "source.fixAll.tffix"]

        results["codeAction at a finding"] = await timed(runs, code_action)

        async def resolve(run: int) -> None:
            resolved = await client.code_action_resolve_async(fix_all[0])
            assert resolved.edit is not None, "fix-all resolved to no edit"

        results["codeAction/resolve fix-all"] = await timed(max(3, runs // 3), resolve)
        await client.shutdown_async(None)
        client.exit(None)
    await client.stop()
    return results


def in_process(runs: int, call: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    text = tensorflow_module(args.lines)
    baseline = in_process(args.runs, lambda: libcst.parse_module(text))
    engine = Engine()
    results = {"reference: Engine.check": in_process(max(3, args.runs // 3), lambda: engine.check(text, "t.py"))}
    results.update(asyncio.run(measure(text, args.runs)))
    baseline_p50, baseline_p95 = percentiles(baseline)

    print(f"module: {text.count(chr(10))} lines; debounce {DEBOUNCE_SECONDS:.3f} s (in didChange)")
    print(f"{'measure':32} {'runs':>5} {'p50 s':>8} {'p95 s':>8} {'p50 / parse p50':>16}")
    baseline_name = "baseline: libcst.parse_module"
    print(f"{baseline_name:32} {len(baseline):>5} {baseline_p50:>8.3f} {baseline_p95:>8.3f} {1:>16.1f}")
    for name, samples in results.items():
        p50, p95 = percentiles(samples)
        print(f"{name:32} {len(samples):>5} {p50:>8.3f} {p95:>8.3f} {p50 / baseline_p50:>16.1f}")


if __name__ == "__main__":
    main()
