from __future__ import annotations

import pytest

from tffix.execution import WarmRunner


@pytest.fixture(scope="session")
def warm_runner():
    """One warm TensorFlow worker per pytest process. Missing TensorFlow is a failure, never a skip:
    a fixture whose execution is skipped proves nothing."""
    with WarmRunner(preload=("tensorflow",)) as runner:
        yield runner


def pytest_collection_modifyitems(config, items):
    """`slow` (pytest -m "not slow" leaves them out): every test that executes programs under TensorFlow (the
    `execution` marker, or the warm runner), besides those marked slow where they are (end-to-end CLI runs in
    subprocesses, the real editor, building a wheel)."""
    for item in items:
        if item.get_closest_marker("execution") is not None or "warm_runner" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
