"""kernn.utils.data: torch.utils.data's names, re-exported from kernn.data."""

import os
import subprocess
import sys

import numpy as np
import pytest

import kernn
import kernn.data
import kernn.utils.data


def test_names_are_kernn_data_objects_under_torch_names():
    torch = pytest.importorskip("torch")
    assert kernn.utils.data.__all__
    for name in kernn.utils.data.__all__:
        assert getattr(kernn.utils.data, name) is getattr(kernn.data, name), name
        assert hasattr(torch.utils.data, name), name


def test_ported_loading_code_runs():
    from kernn.utils.data import DataLoader, Dataset, TensorDataset, random_split

    class Pairs(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return np.full(3, i, np.float32), i

    train, val = random_split(TensorDataset(np.zeros((100, 3), np.float32), np.arange(100)), [0.8, 0.2])
    loader = DataLoader(train, batch_size=64, shuffle=True, num_workers=2, pin_memory=True)
    assert [len(y) for _, y in loader] == [64, 16]
    assert [y.numpy().tolist() for _, y in DataLoader(Pairs(), batch_size=4, num_workers=2)][-1] == [8, 9]


def test_import_kernn_alone_makes_kernn_utils_data_reachable():
    # a fresh interpreter: here the module is already imported, which would hide a missing import
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(kernn.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-c", "import kernn; print(kernn.utils.data.DataLoader.__module__)"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "kernn.data.dataloader"
