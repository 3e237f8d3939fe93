"""The cyclic garbage collector's settings in the processes tffix owns that analyse file after file: the local
workers of a run and the editor's server (not a Dask worker, nor a program that imports tffix as a library).

A LibCST tree is tens of thousands of container objects, made and dropped with each file and freed by reference
counting (it has no cycles to speak of). CPython's collector meanwhile, at its default thresholds (700, 10, 10),
runs hundreds of times per large file, and every so often walks everything alive, the imported modules of
LibCST and the rules included: measured on every 4th file of the real-code corpus, 4.4 s of a 24.6 s check,
and the longest pauses of the editor's checks (43 ms of a 99 ms check of a 1,811-line module). Once the modules
are imported, `gc.freeze()` puts what exists where the collector never looks, and higher thresholds make
collections rarer: 1.6 s of 21.5 s on the same files. Cycles are still collected.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 100, 100)


def tune_for_analysis() -> None:
    """Call once the engine's modules are imported (what exists then lives as long as the process)."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
