"""The README's quick start runs as written and reaches the accuracy it states."""

import pathlib
import re

import pytest

import kernn
from kernn.datasets import MNIST, DatasetNotFoundError

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def quick_start_code():
    """The first Python code block of the README."""
    match = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert match, f"no python code block in {README}"
    return match.group(1)


def test_quick_start_trains_w2_to_the_stated_accuracy(tmp_path, monkeypatch, capsys):
    try:
        MNIST(train=False)
    except DatasetNotFoundError:
        pytest.skip("MNIST not found (set KERNN_DATA to a directory with mnist/)")
    monkeypatch.chdir(tmp_path)  # the script saves its weights into the working directory
    kernn.manual_seed(0)  # its initial weights and shuffles: a reproducible accuracy
    exec(compile(quick_start_code(), str(README), "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out
    assert "Epoch [5/5], Step [600/600], Loss:" in printed
    accuracy = float(re.search(r"test accuracy ([\d.]+) %", printed).group(1))
    assert accuracy >= 97.5, printed  # issue 3: W2 after 5 epochs at least 97.5 %
    assert (tmp_path / "mnist_mlp_500.kernn").stat().st_size > 0
