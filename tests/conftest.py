from __future__ import annotations

import pytest

from tffix.execution import WarmRunner


@pytest.fixture(scope="session")
def warm_runner():
    """One warm TensorFlow worker per pytest process. Missing TensorFlow is a failure, never a skip:
    a fixture whose execution is skipped proves nothing."""
    with WarmRunner(preload=("tensorflow",)) as runner:
        yield runner
