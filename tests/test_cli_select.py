"""Rule selection on the command line takes codes as Ruff does: repeated options or comma-separated lists."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tffix.cli import app

COLAB = (
    "import os\nimport tensorflow as tf\n"
    "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu='grpc://' + os.environ['COLAB_TPU_ADDR'])\n"
)


def codes_found(tmp_path, *options: str) -> set[str]:
    target = tmp_path / "train.py"
    target.write_text(COLAB)
    result = CliRunner().invoke(app, ["check", "--no-cache", "--output-format", "json", *options, str(target)])
    assert result.exit_code in (0, 1), result.output
    return {finding["code"] for finding in json.loads(result.stdout)["findings"]}


def test_comma_separated_select_is_the_same_as_repeated(tmp_path):
    assert "TFX202" in codes_found(tmp_path, "--select", "TFX101,TFX202")
    assert codes_found(tmp_path, "--select", "TFX101,TFX202") == codes_found(
        tmp_path, "--select", "TFX101", "--select", "TFX202")


def test_comma_separated_ignore(tmp_path):
    assert "TFX202" not in codes_found(tmp_path, "--ignore", "TFX101,TFX202")
