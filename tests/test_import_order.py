"""torch and kernn in one process, imported in either order: both OpenMP runtimes (torch's
bundled libgomp and the one kernn links) must coexist, with parallel kernels of both running.
Each case runs in a fresh interpreter, since import order only matters on first import."""

import os
import subprocess
import sys

import pytest

import kernn

# Runs a kernn kernel large enough for a 2-thread team (above kParallelGrain), a torch op that
# uses torch's own thread pool, then kernn again, and checks the results.
WORKLOAD = """
import numpy as np
kernn.set_num_threads(2)
torch.set_num_threads(2)
x = np.linspace(-5, 5, 200_000).reshape(400, 500)
y = kernn._C.softmax_forward(x)
assert np.allclose(y.sum(-1), 1.0)
t = torch.from_numpy(x)
assert torch.allclose(torch.softmax(t, -1), torch.from_numpy(y))
z = (t @ t.T).numpy()
assert np.all(kernn._C.relu_forward(z) >= 0)
print("ok", kernn.get_num_threads(), torch.get_num_threads())
"""

ORDERS = {
    "torch_first": "import torch\nimport kernn\n",
    "kernn_first": "import kernn\nimport torch\n",
}


@pytest.mark.parametrize("order", ORDERS)
def test_torch_and_kernn_import_in_either_order(order):
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(kernn.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.pop("OMP_NUM_THREADS", None)
    proc = subprocess.run([sys.executable, "-c", ORDERS[order] + WORKLOAD], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    kernn_threads = "2" if kernn._C.openmp_enabled() else "1"  # a serial build has one
    assert proc.stdout.split() == ["ok", kernn_threads, "2"], proc.stdout
    assert "OMP: Error" not in proc.stderr
